import Foundation
import OppsPostgres
import OppsTestSupport
import Testing

@testable import OppsStore

/// The PostgreSQL connection's prepared statements: a statement is prepared once per kinds of
/// values and answers exactly as the unnamed path does; past the limit texts run unnamed; a failure
/// in a pipelined transaction is reported as its own, not as PostgreSQL refusing to prepare.
/// Each runs over both links: the hub's own client of PostgreSQL's protocol (`PostgresClient`, `sslmode=disable`) and postgres-nio
/// (`sslmode=prefer`: the test cluster has no TLS, so it falls back to plain).
@Suite(.enabled(if: ScratchPostgres.url != nil, "needs OPPS_TEST_PG (Tools/pg/cluster.sh)"))
struct PostgresConnectionTests {
    static let links = ["disable", "prefer"]

    func connection(_ sslmode: String) throws -> PostgresSQLConnection {
        let c = try PostgresSQLConnection(location: PostgresLocation(url: ScratchPostgres.fresh() + "?sslmode=" + sslmode))
        try c.run("CREATE TABLE t (k bigint PRIMARY KEY, n bigint, s text COLLATE \"C\", b bytea, d float8)")
        return c
    }

    /// The texts prepared on this connection (PostgreSQL's own view of the session), without the
    /// casts postgres-nio's link writes into them (the hub's own client sends the types instead).
    func preparedTexts(_ c: PostgresSQLConnection) throws -> [String] {
        try preparedStatements(c).map(\.text)
    }

    /// The same with each one's parameter types as PostgreSQL holds them.
    func preparedStatements(_ c: PostgresSQLConnection) throws -> [(text: String, types: String)] {
        try c.run("DROP TABLE IF EXISTS seen")
        try c.run("CREATE TEMP TABLE seen AS SELECT statement, parameter_types::text AS types FROM pg_prepared_statements")
        return try c.query("SELECT statement, types FROM seen ORDER BY statement").map { row in
            let text = (row[0].string ?? "").replacingOccurrences(of: "::(int8|float8|text|bytea)", with: "", options: .regularExpression)
            return (text, row[1].string ?? "")
        }
    }

    /// A prefetched query (`prefetch`): PostgreSQL starts on it at once and its rows come when
    /// asked for, exact, with statements between; one whose rows are never asked for — here 8 MB
    /// of them, more than the socket holds — does not stall a later statement that itself sends
    /// megabytes (PostgreSQL, blocked writing rows nobody reads, would stop reading); a failing
    /// one fails the transaction with its own error, and the connection goes on.
    @Test(.timeLimit(.minutes(1)), arguments: links) func aPrefetchedQueryAnswersLaterAndNeverStallsTheConnection(sslmode: String) throws {
        let c = try connection(sslmode)
        try c.run("INSERT INTO t (k, n, b) SELECT i, i * 10, decode(repeat('ab', 4000), 'hex') FROM generate_series(1, 2000) AS i")
        let (first, between) = try c.atomically {
            let later = try c.prefetch("SELECT k, n FROM t WHERE k <= ? ORDER BY k", [.integer(3)])
            let between = try c.query("SELECT count(*) FROM t", [])
            return (try later.rows(), between)
        }
        #expect(first == [[.integer(1), .integer(10)], [.integer(2), .integer(20)], [.integer(3), .integer(30)]])
        #expect(between == [[.integer(2000)]])
        let big = [UInt8](repeating: 7, count: 4 << 20)
        try c.atomically {
            _ = try c.prefetch("SELECT b FROM t", [])  // 8 MB of rows, never read
            try c.send("INSERT INTO t (k, b) VALUES (?, ?)", [.integer(9_001), .blob(big)])
            try c.send("INSERT INTO t (k, b) VALUES (?, ?)", [.integer(9_002), .blob(big)])
            #expect(try c.query("SELECT length(b) FROM t WHERE k = ?", [.integer(9_002)]) == [[.integer(4 << 20)]])
        }
        #expect(throws: StoreError.self) {
            try c.atomically {
                let failing = try c.prefetch("SELECT k / (k - 5) FROM t WHERE k <= ?", [.integer(10)])
                _ = try failing.rows()
            }
        }
        #expect(throws: StoreError.self) {
            try c.atomically {
                _ = try c.prefetch("SELECT k / (k - 5) FROM t WHERE k <= ?", [.integer(10)])
                try c.send("INSERT INTO t (k) VALUES (?)", [.integer(9_003)])
                _ = try c.query("SELECT 1", [])
            }
        }
        #expect(try c.query("SELECT count(*) FROM t WHERE k >= 9000", []) == [[.integer(2)]])
        // Outside a transaction it runs when asked.
        #expect(try c.prefetch("SELECT n FROM t WHERE k = ?", [.integer(4)]).rows() == [[.integer(40)]])
    }

    @Test(arguments: links) func aStatementIsPreparedOnceAndAnswersAsWritten(sslmode: String) throws {
        let c = try connection(sslmode)
        let insert = "INSERT INTO t (k, n, s, b, d) VALUES (?, ?, ?, ?, ?)"
        try c.atomically {
            try c.send(insert, [.integer(1), .integer(-7), .text("销售顾问 ?"), .blob([0, 1, 255]), .real(2.5)])
            try c.send(insert, [.integer(2), .null, .null, .null, .null])
            try c.send(insert, [.integer(3), .integer(Int64.max), .text(""), .blob([]), .real(-0.125)])
        }
        let select = "SELECT k, n, s, b, d, n > ? FROM t WHERE k >= ? ORDER BY k"
        for _ in 0..<3 {
            let rows = try c.query(select, [.integer(0), .integer(1)])
            #expect(rows.count == 3)
            #expect(rows[0] == [.integer(1), .integer(-7), .text("销售顾问 ?"), .blob([0, 1, 255]), .real(2.5), .integer(0)])
            #expect(rows[1] == [.integer(2), .null, .null, .null, .null, .null])
            #expect(rows[2] == [.integer(3), .integer(Int64.max), .text(""), .blob([]), .real(-0.125), .integer(1)])
        }
        let statements = try preparedStatements(c)
        let texts = statements.map(\.text)
        // The insert with values and the one with nulls are two statements; the select is one.
        #expect(texts.filter { $0 == "INSERT INTO t (k, n, s, b, d) VALUES ($1, $2, $3, $4, $5)" }.count == 2)
        #expect(texts.filter { $0.hasPrefix("SELECT k, n") }.count == 1)
        // Each mark carries its value's type (a null's is left to PostgreSQL to infer).
        #expect(statements.contains { $0.text.hasPrefix("SELECT k, n") && $0.types == "{bigint,bigint}" }, "\(statements)")
        #expect(statements.contains { $0.text.hasPrefix("INSERT") && $0.types == "{bigint,bigint,text,bytea,\"double precision\"}" }, "\(statements)")
        // `run` reports the rows it changed (it stays unnamed for that).
        #expect(try c.run("UPDATE t SET n = ? WHERE k <= ?", [.integer(5), .integer(2)]) == 2)
    }

    /// Writes sent inside `together` reach PostgreSQL as one statement per run of different
    /// tables (`WITH w0 AS (…) …`), in order: a second write to a table starts the next one, and
    /// a statement that reads, or any other statement, sends what is held first. What they leave
    /// is what the statements one by one leave; a failing part fails the transaction, and
    /// nothing of it is kept.
    @Test(arguments: links) func writesSentTogetherGoAsOneStatementAndLeaveWhatEachWould(sslmode: String) throws {
        #expect(PostgresSQLConnection.target(ofCombinable: "INSERT INTO log (a) VALUES (?)") == "LOG")
        #expect(PostgresSQLConnection.target(ofCombinable: "INSERT INTO t(k) VALUES (?) ON CONFLICT(k) DO UPDATE SET n = excluded.n") == "T")
        #expect(PostgresSQLConnection.target(ofCombinable: "DELETE FROM refs WHERE source IN (?, ?)") == "REFS")
        #expect(PostgresSQLConnection.target(ofCombinable: "UPDATE t SET n = n + 1 WHERE k = ?") == "T")
        #expect(PostgresSQLConnection.target(ofCombinable: "INSERT INTO t (k) SELECT k FROM u") == nil)
        #expect(PostgresSQLConnection.target(ofCombinable: "DELETE FROM t WHERE k IN (SELECT k FROM u)") == nil)
        #expect(PostgresSQLConnection.target(ofCombinable: "INSERT INTO t (k) VALUES (?) RETURNING k") == nil)
        #expect(PostgresSQLConnection.target(ofCombinable: "SAVEPOINT one") == nil)
        let c = try connection(sslmode)
        try c.run("CREATE TABLE u (k bigint PRIMARY KEY, s text)")
        try c.run("CREATE TABLE v (k bigint PRIMARY KEY)")
        try c.run("INSERT INTO t (k, n) VALUES (9, 9)")
        try c.atomically {
            try c.together {
                try c.send("INSERT INTO t (k, n) VALUES (?, ?), (?, ?)", [.integer(1), .integer(10), .integer(2), .integer(20)])
                try c.send("INSERT INTO u (k, s) VALUES (?, ?)", [.integer(1), .text("华东")])
                try c.send("DELETE FROM t WHERE k = ?", [.integer(9)])  // t again: the next statement
                try c.send("INSERT INTO t (k, n) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET n = excluded.n", [.integer(1), .integer(11)])
                try c.send("INSERT INTO v (k) VALUES (?)", [.integer(7)])
                // A read sends what is held first, and sees it.
                #expect(try c.query("SELECT count(*) FROM u").first == [.integer(1)])
                try c.send("UPDATE u SET s = ? WHERE k = ?", [.text("华南"), .integer(1)])
            }
        }
        #expect(try c.query("SELECT k, n FROM t ORDER BY k") == [[.integer(1), .integer(11)], [.integer(2), .integer(20)]])
        #expect(try c.query("SELECT k, s FROM u") == [[.integer(1), .text("华南")]])
        #expect(try c.query("SELECT k FROM v") == [[.integer(7)]])
        // The combined texts PostgreSQL was given (prepared: each is one statement).
        let texts = try preparedTexts(c)
        #expect(
            texts.contains("WITH w0 AS (INSERT INTO t (k, n) VALUES ($1, $2), ($3, $4)) INSERT INTO u (k, s) VALUES ($5, $6)"),
            "\(texts)")
        #expect(texts.contains("DELETE FROM t WHERE k = $1"), "\(texts)")
        #expect(
            texts.contains(
                "WITH w0 AS (INSERT INTO t (k, n) VALUES ($1, $2) ON CONFLICT(k) DO UPDATE SET n = excluded.n) INSERT INTO v (k) VALUES ($3)"),
            "\(texts)")
        // A failing part (u's key 1 again) fails the transaction; nothing of it is kept.
        #expect(throws: StoreError.self) {
            try c.atomically {
                try c.together {
                    try c.send("INSERT INTO v (k) VALUES (?)", [.integer(8)])
                    try c.send("INSERT INTO u (k, s) VALUES (?, ?)", [.integer(1), .text("again")])
                }
            }
        }
        #expect(try c.query("SELECT k FROM v ORDER BY k") == [[.integer(7)]])
        #expect(try c.query("SELECT k, s FROM u") == [[.integer(1), .text("华南")]])
    }

    /// COPY's text format carries every value as a bound one would: nulls, text needing escapes,
    /// Chinese, the extreme integers, empty and binary bytea, doubles — inside the transaction,
    /// after the statements sent before it, and undone with it.
    @Test(arguments: links) func rowsCopiedInReadBackAsWritten(sslmode: String) throws {
        let c = try connection(sslmode)
        let rows: [[SQLValue]] = [
            [.integer(1), .integer(Int64.min), .text("tab\there\nnew line\r\\ back \\N"), .blob([0, 9, 10, 13, 92, 255]), .real(2.5)],
            [.integer(2), .null, .null, .null, .null],
            [.integer(3), .integer(Int64.max), .text("销售顾问 张伟"), .blob([]), .real(-0.125)],
        ]
        try c.atomically {
            try c.send("INSERT INTO t (k, n) VALUES (?, ?)", [.integer(0), .integer(0)])
            try c.copy(into: "t", columns: ["k", "n", "s", "b", "d"], rows: rows)
            try c.send("UPDATE t SET n = n - 1 WHERE k = ?", [.integer(3)])
        }
        let back = try c.query("SELECT k, n, s, b, d FROM t WHERE k > 0 ORDER BY k")
        #expect(back[0] == rows[0] && back[1] == rows[1])
        #expect(back[2] == [.integer(3), .integer(Int64.max - 1), .text("销售顾问 张伟"), .blob([]), .real(-0.125)])  // updated after the copy
        // A copy refused (a duplicate key) fails its transaction: nothing of it stays.
        #expect(throws: StoreError.self) {
            try c.atomically { try c.copy(into: "t", columns: ["k"], rows: [[.integer(9)], [.integer(1)]]) }
        }
        #expect(try c.query("SELECT count(*) FROM t") == [[.integer(4)]])
    }

    @Test(arguments: links) func pastTheLimitNewTextsRunUnnamed(sslmode: String) throws {
        let c = try connection(sslmode)
        for k in 0..<300 {
            let rows = try c.query("SELECT ? + \(k)", [.integer(1000)])
            #expect(rows == [[.integer(Int64(1000 + k))]])
        }
        #expect(try c.query("SELECT count(*) FROM pg_prepared_statements") == [[.integer(256)]])
    }

    @Test(arguments: links) func aFailureInAPipelinedTransactionIsReportedAsItsOwn(sslmode: String) throws {
        let c = try connection(sslmode)
        try c.run("INSERT INTO t (k) VALUES (1)")
        let error = #expect(throws: StoreError.self) {
            try c.atomically {
                try c.send("INSERT INTO t (k) VALUES (?)", [.integer(1)])  // a duplicate key, sent without waiting
                _ = try c.query("SELECT count(*) FROM t WHERE n IS NULL AND k > ?", [.integer(0)])  // new: prepared now
            }
        }
        #expect(error?.code == StoreError.constraint)
        // The connection is usable afterwards, and the rolled-back row is not there.
        #expect(try c.query("SELECT count(*) FROM t WHERE n IS NULL AND k > ?", [.integer(0)]) == [[.integer(1)]])
    }

    @Test(arguments: links) func queriesSentTogetherAnswerInOrderAndReportTheFirstFailure(sslmode: String) throws {
        let c = try connection(sslmode)
        try c.run("INSERT INTO t (k, n) VALUES (1, 10), (2, 20)")
        let answers = try c.atomically {
            try c.queries([("SELECT n FROM t WHERE k = ?", [.integer(1)]), ("SELECT n FROM t WHERE k = ?", [.integer(2)]), ("SELECT count(*) FROM t", [])])
        }
        #expect(answers == [[[.integer(10)]], [[.integer(20)]], [[.integer(2)]]])
        // A write sent before them failed: that failure is reported, not what followed it.
        let earlier = #expect(throws: StoreError.self) {
            try c.atomically {
                try c.send("INSERT INTO t (k) VALUES (?)", [.integer(1)])
                _ = try c.queries([("SELECT n FROM t WHERE k = ? AND n > ?", [.integer(1), .integer(0)]), ("SELECT count(*) FROM t", [])])
            }
        }
        #expect(earlier?.code == StoreError.constraint)
        // One of them failed: its failure, not the refusals of those after it.
        let own = #expect(throws: StoreError.self) {
            try c.atomically {
                _ = try c.queries([("SELECT n FROM t WHERE k = ?", [.integer(1)]), ("SELECT 1 / (n - 10) FROM t WHERE k = ?", [.integer(1)]), ("SELECT n FROM t", [])])
            }
        }
        #expect(own?.message.contains("22012") == true)
    }

    /// A statement PostgreSQL refuses to prepare fails with PostgreSQL's own reason each time it
    /// is sent (it is not left named on the connection), in a pipeline too, and the connection
    /// goes on; the same new statement sent twice in one pipeline is prepared once.
    @Test(arguments: links) func aStatementRefusedWhenPreparedFailsWithItsReasonEachTime(sslmode: String) throws {
        let c = try connection(sslmode)
        for _ in 0..<2 {
            let e = #expect(throws: StoreError.self) { try c.query("SELECT nope FROM t WHERE k = ?", [.integer(1)]) }
            #expect(e?.message.contains("42703") == true, "\(String(describing: e))")
        }
        let piped = #expect(throws: StoreError.self) {
            try c.atomically {
                try c.send("INSERT INTO t (k) VALUES (?)", [.integer(5)])
                _ = try c.queries([("SELECT nope FROM t WHERE k = ?", [.integer(1)]), ("SELECT count(*) FROM t", [])])
            }
        }
        #expect(piped?.message.contains("42703") == true)
        let twice = try c.atomically {
            try c.queries([("SELECT k + ? FROM t WHERE k = ?", [.integer(1), .integer(5)]), ("SELECT k + ? FROM t WHERE k = ?", [.integer(2), .integer(5)])])
        }
        #expect(twice == [[], []])  // the insert was rolled back
        #expect(try preparedTexts(c).filter { $0 == "SELECT k + $1 FROM t WHERE k = $2" }.count == 1)
        #expect(
            try c.query("SELECT ?::int4, ?::int2, true, false, ?::float4, 'x'::varchar", [.integer(-5), .integer(7), .real(0.5)])
                == [[.integer(-5), .integer(7), .integer(1), .integer(0), .real(0.5), .text("x")]])
    }

    /// More values than the protocol can count is refused with a clear error before anything is
    /// sent, and the connection goes on.
    @Test(arguments: links) func aStatementWithTooManyValuesIsRefusedClearly(sslmode: String) throws {
        let c = try connection(sslmode)
        let marks = Array(repeating: "?", count: 70_000).joined(separator: ", ")
        let e = #expect(throws: StoreError.self) {
            try c.query("SELECT k FROM t WHERE k IN (\(marks))", Array(repeating: .integer(1), count: 70_000))
        }
        #expect(e?.message.contains("65,535") == true, "\(String(describing: e))")
        #expect(try c.query("SELECT count(*) FROM t") == [[.integer(0)]])
    }

    /// A wrong password is the operator's to fix: a clear refusal, not "try again later".
    @Test(arguments: links) func aWrongPasswordIsRefusedClearly(sslmode: String) throws {
        var url = try #require(URLComponents(string: ScratchPostgres.fresh()))
        url.password = "not-the-password"
        let e = #expect(throws: StoreError.self) { _ = try PostgresSQLConnection(location: PostgresLocation(url: url.string! + "?sslmode=" + sslmode)) }
        #expect(e?.code != StoreError.unavailable)
        #expect(e?.message.contains("28P01") == true || e?.message.contains("password") == true, "\(String(describing: e))")
    }

    @Test(.timeLimit(.minutes(1)), arguments: links) func aConnectionOpenedAgainPreparesAgain(sslmode: String) throws {
        let c = try connection(sslmode)
        let select = "SELECT count(*) FROM t WHERE k > ?"
        #expect(try c.query(select, [.integer(0)]) == [[.integer(0)]])
        let pid = try #require(try c.query("SELECT pg_backend_pid()").first?[0].int)
        let admin = try PostgresSQLConnection(location: c.location)
        try admin.run("SELECT pg_terminate_backend(\(pid))")
        // The first statement after the loss may fail (the hub answers 503 and the replica
        // retries); then the connection is opened again and the statement prepared on it.
        var answered: [[SQLValue]]?
        for _ in 0..<20 where answered == nil {
            answered = try? c.query(select, [.integer(0)])
            if answered == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(answered == [[.integer(0)]])
        let second = try #require(try c.query("SELECT pg_backend_pid()").first?[0].int)
        #expect(second != pid)
        // A connection that the server ended while it sat idle (a restart, a crash, a terminated
        // session) is noticed before the next statement, which then runs on a new one: it does
        // not fail (the simulator's own checks after a PostgreSQL crash rely on this).
        try admin.run("SELECT pg_terminate_backend(\(second))")
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try c.query(select, [.integer(0)]) == [[.integer(0)]])
        #expect(try c.query("SELECT pg_backend_pid()").first?[0].int != second)
    }
}

/// `opps-hub migrate` copies the tables it names: every table of the SQLite hub's schema must be
/// among them, or a hub moved to PostgreSQL loses that table's rows (replica_staged, say, added
/// this session, would have been forgotten without the list being edited by hand).
@Suite struct MigratedTablesTests {
    @Test func everyTableOfTheSQLiteHubIsCopied() throws {
        let dir = URL(fileURLWithPath: Scratch.directory("opps-tables"))
        defer { try? FileManager.default.removeItem(at: dir) }
        let hub = try SQLiteHubStore(path: dir.appendingPathComponent("hub.sqlite").path)
        let tables = try hub.database.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'"
        ).compactMap { $0[0].string }
        #expect(tables.contains("replica_staged"))
        #expect(Set(tables) == Set(PostgresHubStore.migratedTables))
    }
}

/// A pull's bookkeeping commits without waiting for the disk, a push's with it (docs/operator.md,
/// Durability): the setting is the transaction's own, never left on the connection.
@Suite(.enabled(if: ScratchPostgres.url != nil, "needs OPPS_TEST_PG (Tools/pg/cluster.sh)"))
struct PostgresDurabilityTests {
    @Test func onlyAPullsTransactionSkipsTheFlush() throws {
        let store = try PostgresHubStore(url: ScratchPostgres.fresh())
        func setting() throws -> String? { try store.database.query("SHOW synchronous_commit", []).first?[0].string }
        #expect(try store.bookkeeping { try setting() } == "off")
        #expect(try store.transaction { try setting() } == "on", "a push waits for its commit to be on disk")
        #expect(try setting() == "on")
        #expect(try store.bookkeeping { try setting() } == "off")
        #expect(try store.transaction { try setting() } == "on")
    }
}
