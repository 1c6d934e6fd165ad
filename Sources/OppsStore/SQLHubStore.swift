import OppsCore

/// The hub store's statements, written once for every engine (`SQLConnection`): SQLite
/// (`SQLiteHubStore`) and PostgreSQL (`OppsPostgres`) are subclasses that add how a connection
/// opens, how a transaction begins and commits, and what tells them another process changed
/// the users or the workspace. Every SQL statement of the hub is in this file and its subclasses.
open class SQLHubStore: HubStorage {
    public let connection: any SQLConnection
    public let dialect: SQLDialect
    /// Field states and replica ids (small integers inside record blobs and the log).
    let codec: StampCodec

    public init(connection: any SQLConnection, dialect: SQLDialect) throws {
        self.connection = connection
        self.dialect = dialect
        codec = try StampCodec(database: connection)
    }

    /// Re-reads what a rolled-back transaction may have cached (replica indexes it added).
    public func forgetCaches() throws { try codec.reload() }

    public func together<T>(_ body: () throws -> T) throws -> T { try connection.together(body) }

    // MARK: What each engine provides

    open func transaction<T>(_ body: () throws -> T) throws -> T { fatalError("subclass") }
    /// A transaction whose commit may return before it is on disk: a push group's, whose answers
    /// the hub holds back until `laterSync` has made it durable, and meanwhile goes on with the
    /// pulls the pushes carry (docs/operator.md "Durability"). By default `transaction`, durable
    /// when it returns (PostgreSQL's commit waits for its own log).
    open func transactionSyncedLater<T>(_ body: () throws -> T) throws -> T { try transaction(body) }
    /// What makes `transactionSyncedLater`'s commits durable, from another thread; nil when they
    /// already are when it returns.
    open var laterSync: (any CommitSync)? { nil }
    open func bookkeeping<T>(_ body: () throws -> T) throws -> T { fatalError("subclass") }
    open func commitDurably() throws { fatalError("subclass") }
    open func externalChanges() throws -> Int64 { fatalError("subclass") }
    open var sequencerWait: Duration { .zero }
    /// The statement that reads the external-change marker, where the engine keeps it in a table
    /// (PostgreSQL); nil where `externalChanges` asks the engine itself (SQLite's data_version).
    open var markerQuery: String? { nil }
    open func databaseBytes() throws -> Int64 { fatalError("subclass") }
    open func freeBytes() throws -> Int64 { 0 }

    /// Called after a change to users, tokens or the workspace, inside its transaction: an
    /// engine whose `externalChanges` is not the database's own change counter bumps it here.
    open func directoryChanged() throws {}

    public func savepoint<T>(_ body: () throws -> T) throws -> T {
        // What the undone part cached (replica indexes) may no longer exist.
        try connection.savepoint(body, undone: codec.reload)
    }

    /// Records an operator action (user changes, token rotations, workspace versions, restores).
    public func audit(action: String, subject: String, detail: String, now: Int64) throws {
        try connection.send(
            "INSERT INTO admin_log (at_ms, action, subject, detail) VALUES (?, ?, ?, ?)",
            [.integer(now), .text(action), .text(subject), .text(detail)])
    }

    /// Operator actions about `subject` (or all), oldest first.
    public func adminLog(subject: String? = nil) throws -> [(at: Int64, action: String, subject: String, detail: String)] {
        let rows =
            try subject.map { try connection.query("SELECT at_ms, action, subject, detail FROM admin_log WHERE subject = ? ORDER BY id", [.text($0)]) }
            ?? connection.query("SELECT at_ms, action, subject, detail FROM admin_log ORDER BY id")
        return rows.map { ($0[0].int ?? 0, $0[1].string ?? "", $0[2].string ?? "", $0[3].string ?? "") }
    }

    public func openRecords(owner: UserName, closedStages: Set<String>) throws -> Int {
        // `stage NOT IN (NULL)` would be unknown for every row: no closed stages, no clause.
        let open = closedStages.isEmpty ? "" : " AND stage NOT IN (" + closedStages.map { _ in "?" }.joined(separator: ",") + ")"
        return Int(
            try connection.query(
                "SELECT count(*) FROM record_index WHERE kind = 0 AND live = 1 AND owner = ?" + open,
                [.text(owner)] + closedStages.sorted().map { .text($0) }
            ).first?[0].int ?? 0)
    }

    public func openRecordColumns(
        owner: UserName?, closedStages: Set<String>
    ) throws -> [(
        id: RecordID, entity: String, owner: UserName?, creator: UserName, stage: String?
    )] {
        let open = closedStages.isEmpty ? "" : " AND stage NOT IN (" + closedStages.map { _ in "?" }.joined(separator: ",") + ")"
        return try connection.query(
            "SELECT id, entity, owner, creator, stage FROM record_index WHERE kind = 0 AND live = 1" + (owner == nil ? "" : " AND owner = ?") + open
                + " ORDER BY id",
            (owner.map { [.text($0)] } ?? []) + closedStages.sorted().map { .text($0) }
        ).compactMap { row in
            guard let b = row[0].bytes, let id = RecordID(bytes: b), let entity = row[1].string, let creator = row[3].string else { return nil }
            return (id, entity, row[2].string, creator, row[4].string)
        }
    }

    /// Few ids are looked up by key (one statement per 500); many by one scan of the narrow index table.
    private func fewer(_ count: Int) throws -> Bool {
        if count < 200 { return true }
        return try count * 8 < recordCount()
    }

    public func terms(of ids: Set<RecordID>) throws -> [RecordID: UInt64] {
        var out = [RecordID: UInt64]()
        out.reserveCapacity(ids.count)
        func take(_ row: SQLRow) {
            guard let id = row.id(0), ids.contains(id), let t = row.int(1) else { return }
            out[id] = UInt64(bitPattern: t)
        }
        if try fewer(ids.count) {
            for row in try connection.query(chunking: ids.map { .blob($0.bytes) }, { "SELECT id, term FROM record_index WHERE id IN (\($0))" }) { take(SQLRow(row)) }
        } else {
            try connection.scan("SELECT id, term FROM record_index", []) { take($0) }
        }
        return out
    }

    public func columns(of ids: [RecordID]) throws -> [RecordID: RecordColumns] {
        // One scan of the indexed columns is cheaper than staging thousands of ids.
        let wanted = Set(ids)
        var out = [RecordID: RecordColumns]()
        out.reserveCapacity(wanted.count)
        let select = "SELECT id, entity, kind, creator, owner, stage, parent, live, term FROM record_index"
        // A row's id is read first: the columns of a record not wanted are never read.
        func take(_ row: SQLRow) {
            guard let id = row.id(0), wanted.contains(id), let entity = row.string(1), let kind = row.int(2), let creator = row.string(3) else { return }
            out[id] = RecordColumns(
                entity: entity, kind: Int(kind), creator: creator, owner: row.string(4), stage: row.string(5),
                parent: row.id(6), live: row.int(7) != 0, term: UInt64(bitPattern: row.int(8) ?? 0))
        }
        if try fewer(wanted.count) {
            for row in try connection.query(chunking: wanted.map { .blob($0.bytes) }, { select + " WHERE id IN (\($0))" }) { take(SQLRow(row)) }
        } else {
            // A whole snapshot's columns (a cold sync's first page waited on them): read in place.
            try connection.scan(select, []) { take($0) }
        }
        return out
    }

    public func referencing(_ target: RecordID) throws -> [RecordID] {
        try connection.query("SELECT source FROM refs WHERE target = ? ORDER BY source", [.blob(target.bytes)]).compactMap { $0[0].bytes.flatMap(RecordID.init(bytes:)) }
    }

    public func liveRecords(entity: String) throws -> [RecordID] {
        try connection.query("SELECT id FROM record_index WHERE entity = ? AND live = 1 ORDER BY id", [.text(entity)]).compactMap {
            $0[0].bytes.flatMap(RecordID.init(bytes:))
        }
    }

    public func references(from sources: [RecordID]) throws -> [RecordID: [RecordID]] {
        let wanted = Set(sources)
        var out = [RecordID: [RecordID]]()
        func take(_ row: SQLRow) {
            guard let s = row.id(0), wanted.contains(s), let t = row.id(1) else { return }
            out[s, default: []].append(t)
        }
        if try fewer(wanted.count) {
            for row in try connection.query(chunking: wanted.map { .blob($0.bytes) }, { "SELECT source, target FROM refs WHERE source IN (\($0))" }) { take(SQLRow(row)) }
        } else {
            try connection.scan("SELECT source, target FROM refs", []) { take($0) }
        }
        return out
    }

    public func children(of parents: [RecordID]) throws -> [RecordID] {
        try parents.flatMap { p in
            try connection.query("SELECT id FROM record_index WHERE parent = ?", [.blob(p.bytes)]).compactMap { $0[0].bytes.flatMap(RecordID.init(bytes:)) }
        }
    }

    public func children(of parent: RecordID, entity: String) throws -> [RecordID] {
        try connection.query("SELECT id FROM record_index WHERE parent = ? AND entity = ?", [.blob(parent.bytes), .text(entity)]).compactMap {
            $0[0].bytes.flatMap(RecordID.init(bytes:))
        }
    }

    public func memberships(of user: UserName) throws -> [RecordID: RecordID] {
        var out = [RecordID: RecordID]()
        for row in try connection.query("SELECT membership, opportunity FROM teams WHERE \"user\" = ?", [.text(user)]) {
            if let m = row[0].bytes.flatMap(RecordID.init(bytes:)), let deal = row[1].bytes.flatMap(RecordID.init(bytes:)) { out[m] = deal }
        }
        return out
    }

    public func forget(replica: ReplicaID, records: [RecordID]) throws {
        for id in records {
            try connection.send("DELETE FROM replica_records WHERE replica = ? AND record = ?", [.blob(replica.bytes), .blob(id.bytes)])
        }
    }

    public func resetKnown(replica: ReplicaID) throws {
        try connection.send("DELETE FROM replica_records WHERE replica = ?", [.blob(replica.bytes)])
        try connection.send("DELETE FROM replica_staged WHERE replica = ?", [.blob(replica.bytes)])
    }

    // MARK: Identity and workspace

    public func initialize(hub: UUID128, workspace: String, version: UInt64, now: Int64) throws {
        try connection.send("INSERT INTO meta (key, value) VALUES ('hub_id', ?)", [.text(hub.description)])
        try connection.send("INSERT INTO meta (key, value) VALUES ('created_ms', ?)", [.text(String(now))])
        try addWorkspace(version: version, document: workspace, now: now)
    }

    public func hubID() throws -> UUID128? { try meta("hub_id").flatMap(UUID128.init(parsing:)) }

    public func workspace() throws -> (version: UInt64, document: String)? {
        guard let row = try connection.query("SELECT version, document FROM workspaces ORDER BY version DESC LIMIT 1").first,
            let v = row[0].int, let d = row[1].string
        else { return nil }
        return (UInt64(v), d)
    }

    public func workspaceVersion() throws -> UInt64 {
        UInt64(try connection.query("SELECT coalesce(max(version), 0) FROM workspaces").first?[0].int ?? 0)
    }

    public func addWorkspace(version: UInt64, document: String, now: Int64) throws {
        try connection.send("INSERT INTO workspaces (version, document, applied_ms) VALUES (?, ?, ?)", [.integer(Int64(version)), .text(document), .integer(now)])
        try directoryChanged()
    }

    public func meta(_ key: String) throws -> String? {
        try connection.query("SELECT value FROM meta WHERE key = ?", [.text(key)]).first?[0].string
    }

    public func setMeta(_ key: String, _ value: String) throws {
        try connection.send("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [.text(key), .text(value)])
    }

    // MARK: Page tokens

    public private(set) var pageTokenFloor: UInt64 = 0

    /// Raises the page-token epoch by one and takes its floor (`HubStorage.pageTokenFloor`).
    /// The caller makes it durable before any pull on this connection: its own transaction,
    /// committed with the disk (SQLite), or a statement outside any transaction (PostgreSQL).
    public func raisePageTokenEpoch() throws {
        let rows = try connection.query(
            """
            INSERT INTO meta (key, value) VALUES ('page_token_epoch', '1')
            ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT) RETURNING value
            """, [])
        guard let epoch = rows.first?[0].string.flatMap(UInt64.init), epoch < 1 << 31 else {
            throw StoreError(code: -2, message: "the page-token epoch could not be raised")
        }
        pageTokenFloor = epoch << 32
    }

    // MARK: Users and tokens

    private static func optionalText(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }

    private static func user(from row: [SQLValue]) -> HubUser? {
        guard let name = row[0].string, let role = row[1].string else { return nil }
        return HubUser(
            name: name, role: role, team: row[2].string, territory: row[3].string, manager: row[4].string,
            capacity: row[5].int.map(Int.init), disabled: row[6].int == 1)
    }

    public func addUser(_ user: HubUser, now: Int64) throws {
        try connection.send(
            "INSERT INTO users (name, role, team, territory, manager, capacity, disabled, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .text(user.name), .text(user.role), Self.optionalText(user.team), Self.optionalText(user.territory),
                Self.optionalText(user.manager), user.capacity.map { .integer(Int64($0)) } ?? .null,
                .integer(user.disabled ? 1 : 0), .integer(now),
            ])
        try directoryChanged()
    }

    public func updateUser(_ user: HubUser) throws {
        try connection.send(
            "UPDATE users SET role = ?, team = ?, territory = ?, manager = ?, capacity = ?, disabled = ? WHERE name = ?",
            [
                .text(user.role), Self.optionalText(user.team), Self.optionalText(user.territory), Self.optionalText(user.manager),
                user.capacity.map { .integer(Int64($0)) } ?? .null, .integer(user.disabled ? 1 : 0), .text(user.name),
            ])
        try directoryChanged()
    }

    public func user(named name: UserName) throws -> HubUser? {
        try connection.query("SELECT name, role, team, territory, manager, capacity, disabled FROM users WHERE name = ?", [.text(name)]).first.flatMap(Self.user(from:))
    }

    public func users() throws -> [HubUser] {
        try connection.query("SELECT name, role, team, territory, manager, capacity, disabled FROM users ORDER BY name").compactMap(Self.user(from:))
    }

    public func addToken(hash: [UInt8], user: UserName, now: Int64) throws {
        let added = try connection.run(
            "INSERT INTO tokens (hash, user_id, created_ms) SELECT ?, id, ? FROM users WHERE name = ?", [.blob(hash), .integer(now), .text(user)])
        guard added == 1 else { throw StoreError(code: -3, message: "no such user") }
        try directoryChanged()
    }

    public func revokeTokens(user: UserName) throws {
        try connection.send("UPDATE tokens SET revoked = 1 WHERE user_id = (SELECT id FROM users WHERE name = ?)", [.text(user)])
        try directoryChanged()
    }

    public func user(tokenHash: [UInt8]) throws -> HubUser? {
        try connection.query(
            """
            SELECT u.name, u.role, u.team, u.territory, u.manager, u.capacity, u.disabled FROM tokens t JOIN users u ON u.id = t.user_id
            WHERE t.hash = ? AND t.revoked = 0
            """, [.blob(tokenHash)]
        ).first.flatMap(Self.user(from:))
    }

    // MARK: Replicas and batches

    private var replicaSelect: String {
        "SELECT \"user\", last_batch, ack, last_seen_ms, pull_token, reset_token, protocol, sent FROM replicas WHERE id = ?" + dialect.lockRow
    }

    public func replica(_ id: ReplicaID) throws -> ReplicaRow? {
        Self.replicaRow(id, try connection.query(replicaSelect, [.blob(id.bytes)]).first)
    }

    /// The replica's row with the bounds and the marker beside it, in one statement (one round
    /// trip: on PostgreSQL every statement is one, on the thread that sequences every push). The
    /// row is locked as `replicaSelect` locks it: only `replicas` is in the FROM clause, the
    /// bounds are subqueries. A replica not registered yet returns no row; its bounds and the
    /// marker are read apart (a handshake's first, once per replica).
    private var openingSelect: String {
        """
        SELECT "user", last_batch, ack, last_seen_ms, pull_token, reset_token, protocol, sent,
            (SELECT coalesce(max(seq), 0) FROM log), (SELECT value FROM meta WHERE key = 'compacted_through'),
            (SELECT coalesce(max(id), 0) FROM conflicts), \(markerQuery.map { "(\($0))" } ?? "NULL")
        FROM replicas WHERE id = ?
        """ + dialect.lockRow
    }

    public func opening(replica id: ReplicaID) throws -> Opening {
        if let row = try connection.query(openingSelect, [.blob(id.bytes)]).first {
            return Opening(
                row: Self.replicaRow(id, row), bounds: Self.bounds(Array(row[8...10])), marker: markerQuery == nil ? nil : row[11].int ?? 0)
        }
        var statements: [(sql: String, values: [SQLValue])] = [(Self.boundsSelect, [])]
        if let markerQuery { statements.append((markerQuery, [])) }
        let answers = try connection.queries(statements)
        return Opening(row: nil, bounds: Self.bounds(answers[0].first), marker: answers.count > 1 ? answers[1].first?[0].int ?? 0 : nil)
    }

    /// The bounds and the shared hub clock in one statement; the marker as the engine reads it.
    private static let sequencerSelect =
        "SELECT coalesce(max(seq), 0), (SELECT value FROM meta WHERE key = 'compacted_through'), (SELECT coalesce(max(id), 0) FROM conflicts), (SELECT value FROM meta WHERE key = 'hub_hlc') FROM log"

    open func sequencerOpening() throws -> SequencerOpening {
        try Self.sequencerOpening(marker: externalChanges(), connection.query(Self.sequencerSelect).first)
    }

    /// A sequencer opening from `sequencerSelect`'s row.
    public static func sequencerOpening(marker: Int64, _ row: [SQLValue]?) -> SequencerOpening {
        SequencerOpening(marker: marker, hubClock: row?[3].string.flatMap(UInt64.init), bounds: bounds(row))
    }

    /// The statement a subclass runs for `sequencerOpening` itself (PostgreSQL: pipelined
    /// behind the sequencer's lock).
    public static var sequencerQuery: String { sequencerSelect }

    private static func replicaRow(_ id: ReplicaID, _ row: [SQLValue]?) -> ReplicaRow? {
        guard let row, let user = row[0].string else { return nil }
        return ReplicaRow(
            id: id, user: user, lastBatch: UInt64(row[1].int ?? 0), ack: UInt64(row[2].int ?? 0),
            lastSeenMilliseconds: row[3].int ?? 0, pullToken: UInt64(row[4].int ?? 0), resetToken: UInt64(row[5].int ?? 0),
            protocolVersion: UInt32(row[6].int ?? 1), sentCursor: UInt64(row[7].int ?? 0))
    }

    public func saveReplica(_ r: ReplicaRow) throws {
        try connection.send(
            """
            INSERT INTO replicas (id, "user", last_batch, ack, last_seen_ms, pull_token, reset_token, protocol, sent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET "user" = excluded."user", last_batch = excluded.last_batch, ack = excluded.ack,
                last_seen_ms = excluded.last_seen_ms, pull_token = excluded.pull_token, reset_token = excluded.reset_token, protocol = excluded.protocol,
                sent = excluded.sent
            """,
            [
                .blob(r.id.bytes), .text(r.user), .integer(Int64(r.lastBatch)), .integer(Int64(r.ack)), .integer(r.lastSeenMilliseconds),
                .integer(Int64(r.pullToken)), .integer(Int64(r.resetToken)), .integer(Int64(r.protocolVersion)), .integer(Int64(r.sentCursor)),
            ])
    }

    public func replicas() throws -> [ReplicaRow] {
        try connection.query("SELECT id, \"user\", last_batch, ack, last_seen_ms, pull_token, reset_token, protocol, sent FROM replicas ORDER BY \"user\", id").compactMap
        { row in
            guard let b = row[0].bytes, let id = ReplicaID(bytes: b), let user = row[1].string else { return nil }
            return ReplicaRow(
                id: id, user: user, lastBatch: UInt64(row[2].int ?? 0), ack: UInt64(row[3].int ?? 0),
                lastSeenMilliseconds: row[4].int ?? 0, pullToken: UInt64(row[5].int ?? 0), resetToken: UInt64(row[6].int ?? 0),
                protocolVersion: UInt32(row[7].int ?? 1), sentCursor: UInt64(row[8].int ?? 0))
        }
    }

    public func batch(replica: ReplicaID, number: UInt64) throws -> (digest: [UInt8], response: [UInt8])? {
        guard
            let row = try connection.query(
                "SELECT digest, response FROM batches WHERE replica = ? AND batch = ?",
                [.blob(replica.bytes), .integer(Int64(number))]
            ).first,
            let d = row[0].bytes, let r = row[1].bytes
        else { return nil }
        return (d, r)
    }

    public func saveBatch(replica: ReplicaID, number: UInt64, digest: [UInt8], response: [UInt8]) throws {
        try connection.send(
            "INSERT INTO batches (replica, batch, digest, response) VALUES (?, ?, ?, ?)",
            [.blob(replica.bytes), .integer(Int64(number)), .blob(digest), .blob(response)])
    }

    public func forgetBatches(replica: ReplicaID, through number: UInt64) throws {
        try connection.send("DELETE FROM batches WHERE replica = ? AND batch <= ?", [.blob(replica.bytes), .integer(Int64(number))])
    }

    // MARK: Records

    public func record(_ id: RecordID, workspace: Workspace) throws -> Record? {
        guard let row = try connection.query("SELECT entity, created, fields, deleted FROM records WHERE id = ?", [.blob(id.bytes)]).first else { return nil }
        return try record(id, row[...], workspace: workspace)
    }

    public func records(_ ids: [RecordID], workspace: Workspace) throws -> [RecordID: Record] {
        try records(ids) { id, row in try record(id, row, workspace: workspace) }
    }

    public func numberedRecords(_ ids: [RecordID], workspace: Workspace) throws -> [RecordID: NumberedRecord] {
        try records(ids) { id, row in try numberedRecord(id, row, workspace: workspace) }
    }

    /// The rows of `ids` (one statement per 500), each made into a record by `make` from its
    /// (entity, created, fields, deleted); absent ones left out.
    private func records<R>(_ ids: [RecordID], _ make: (RecordID, ArraySlice<SQLValue>) throws -> R?) throws -> [RecordID: R] {
        var out = [RecordID: R]()
        for row in try connection.query(chunking: ids.map { .blob($0.bytes) }, { "SELECT id, entity, created, fields, deleted FROM records WHERE id IN (\($0))" }) {
            guard let b = row[0].bytes, let id = RecordID(bytes: b), let r = try make(id, row[1...]) else { continue }
            out[id] = r
        }
        return out
    }

    public func compacted(_ ids: [RecordID]) throws -> Set<RecordID> {
        Set(
            try connection.query(chunking: ids.map { .blob($0.bytes) }, { "SELECT id FROM gone WHERE id IN (\($0))" })
                .compactMap { $0[0].bytes.flatMap(RecordID.init(bytes:)) })
    }

    public func prefetchRecords(_ ids: [RecordID], workspace: Workspace) throws -> () throws -> [RecordID: NumberedRecord] {
        guard !ids.isEmpty, ids.count <= 500 else { return { try self.numberedRecords(ids, workspace: workspace) } }
        let later = try connection.prefetch(
            "SELECT id, entity, created, fields, deleted FROM records WHERE id IN (\(Array(repeating: "?", count: ids.count).joined(separator: ",")))",
            ids.map { .blob($0.bytes) })
        return {
            var out = [RecordID: NumberedRecord]()
            for row in try later.rows() {
                guard let b = row[0].bytes, let id = RecordID(bytes: b), let r = try self.numberedRecord(id, row[1...], workspace: workspace) else { continue }
                out[id] = r
            }
            return out
        }
    }

    public func recordsAndTeams(_ ids: [RecordID], workspace: Workspace) throws -> (records: [RecordID: Record], teams: [RecordID: Set<UserName>]) {
        var records = [RecordID: Record]()
        var teams = [RecordID: Set<UserName>]()
        // One statement per chunk, one round trip: the records' rows, then the teams' (entity NULL).
        let rows = try connection.query(chunking: ids.map { .blob($0.bytes) }, twice: true) { marks in
            """
            SELECT id, entity, created, fields, deleted, NULL FROM records WHERE id IN (\(marks))
            UNION ALL SELECT opportunity, NULL, NULL, NULL, NULL, "user" FROM teams WHERE opportunity IN (\(marks))
            """
        }
        for row in rows {
            guard let b = row[0].bytes, let id = RecordID(bytes: b) else { continue }
            if row[1].string == nil {
                if let user = row[5].string { teams[id, default: []].insert(user) }
            } else if let r = try record(id, row[1...4], workspace: workspace) {
                records[id] = r
            }
        }
        for id in ids where teams[id] == nil { teams[id] = [] }
        return (records, teams)
    }

    /// A record from its row's (entity, created, fields, deleted).
    private func record(_ id: RecordID, _ row: ArraySlice<SQLValue>, workspace: Workspace) throws -> Record? {
        let i = row.startIndex
        guard let entityName = row[i].string, let created = row[i + 1].bytes, let blob = row[i + 2].bytes else { return nil }
        let base = try codec.state(created)
        var record = Record(id: id, entity: entityName, created: base, fields: try codec.fields(blob, entity: workspace.entity(entityName), base: base))
        if let d = row[i + 3].bytes { record.deleted = try codec.state(d) }
        return record
    }

    /// A record from its row's (entity, created, fields, deleted), fields numbered.
    private func numberedRecord(_ id: RecordID, _ row: ArraySlice<SQLValue>, workspace: Workspace) throws -> NumberedRecord? {
        let i = row.startIndex
        guard let entityName = row[i].string, let created = row[i + 1].bytes, let blob = row[i + 2].bytes else { return nil }
        let base = try codec.state(created)
        return NumberedRecord(
            id: id, entity: entityName, created: base, fields: try codec.numberedFields(blob, entity: workspace.entity(entityName), base: base),
            deleted: try row[i + 3].bytes.map { try codec.state($0) })
    }

    private static let recordColumns = ["id", "entity", "kind", "creator", "owner", "stage", "parent", "created", "fields", "deleted", "term"]
    private static let recordInsert = "INSERT INTO records (\(recordColumns.joined(separator: ", "))) VALUES "
    private static let recordUpsert = """
         ON CONFLICT(id) DO UPDATE SET owner = excluded.owner, stage = excluded.stage, parent = excluded.parent, created = excluded.created,
            fields = excluded.fields, deleted = excluded.deleted, term = excluded.term
        """
    private static let indexColumns = ["id", "entity", "kind", "creator", "owner", "stage", "parent", "live", "term"]
    private static let indexInsert = "INSERT INTO record_index (\(indexColumns.joined(separator: ", "))) VALUES "
    private static let indexUpsert = """
         ON CONFLICT(id) DO UPDATE SET entity = excluded.entity, kind = excluded.kind, creator = excluded.creator, owner = excluded.owner,
            stage = excluded.stage, parent = excluded.parent, live = excluded.live, term = excluded.term
        """

    /// What a record's rows in `records` and `record_index` hold beyond the record itself.
    private struct RecordRow {
        let record: Record
        let entity: Entity
        /// 0 staged, 1 hanging off a staged record, 2 other.
        let kind: Int64
        let stage: String?
        let parent: RecordID?
        let created: [UInt8]
        let fields: [UInt8]
        let deleted: [UInt8]?
        let term: Int64

        /// The columns both tables begin with: id, entity, kind, creator, owner, stage, parent.
        private func bindShared(_ v: inout SQLRowValues) {
            v.blob(record.id)
            v.text(record.entity)
            v.integer(kind)
            bindIndexed(&v)
        }

        /// The columns both tables index: creator, owner, stage, parent.
        private func bindIndexed(_ v: inout SQLRowValues) {
            v.text(record.creator)
            v.text(record.owner)
            v.text(stage)
            if let parent { v.blob(parent) } else { v.null() }
        }

        /// Its row in `records`, in `recordColumns`' order.
        func bindRecord(_ v: inout SQLRowValues) {
            bindShared(&v)
            v.blob(created)
            v.blob(fields)
            v.blob(deleted)
            v.integer(term)
        }

        /// Its row in `record_index`, in `indexColumns`' order.
        func bindIndex(_ v: inout SQLRowValues) {
            bindShared(&v)
            bindIndexStates(&v)
        }

        /// `record_index`'s columns after the shared ones.
        private func bindIndexStates(_ v: inout SQLRowValues) {
            v.integer(record.isDeleted ? 0 : 1)
            v.integer(term)
        }

        /// The key and the indexed columns a states-only update must find unchanged (`statesKept`).
        private func bindKept(_ v: inout SQLRowValues) {
            v.blob(record.id)
            bindIndexed(&v)
        }

        /// `indexStatesUpdate`'s values.
        func bindIndexStatesUpdate(_ v: inout SQLRowValues) {
            v.text(record.entity)
            v.integer(kind)
            bindIndexStates(&v)
            bindKept(&v)
        }
    }

    private func recordRow(_ record: Record, workspace: Workspace) throws -> RecordRow {
        guard let entity = workspace.entity(record.entity) else { throw StoreError(code: -3, message: "unknown entity") }
        var stage: String?
        if let sf = entity.stageField, case let .member(s) = record[sf] { stage = s }
        var parent: RecordID?
        if let via = entity.visibleVia, case let .reference(p) = record[via] { parent = p }
        return RecordRow(
            record: record, entity: entity, kind: entity.stageField != nil ? 0 : (entity.visibleVia != nil ? 1 : 2), stage: stage, parent: parent,
            created: try codec.bytes(record.created), fields: try codec.fieldsBytes(record.fields, entity: entity, base: record.created),
            deleted: try record.deleted.map { try codec.bytes($0) }, term: Int64(bitPattern: StateChecksum.term(of: record, workspace: workspace)))
    }

    public func saveRecord(_ record: Record, workspace: Workspace) throws { try saveRecords([record], workspace: workspace) }

    /// A push of at most this many records updates each one's `record_index` states first, on
    /// an engine whose UPDATE rewrites the index entries of the columns it sets
    /// (`rewritesIndexesItSets`): the upsert sets a record's owner, stage and parent — indexed
    /// there — to the values they had, and SQLite rewrote their entries each save (BENCHMARKS.md,
    /// thirty-seventh session). `records` has no index but its key's (hub-12): its upsert alone.
    /// A large push keeps its multi-row statements: one UPDATE a row would cost it more than the
    /// pages it saves.
    static let statesFirstUpTo = 8
    private static let statesKept = "WHERE id = ? AND creator IS ? AND owner IS ? AND stage IS ? AND parent IS ?"
    private static let indexStatesUpdate = "UPDATE record_index SET entity = ?, kind = ?, live = ?, term = ? \(statesKept)"

    /// The rows `update` (a states-only UPDATE, bound by `bind`) did not find unchanged: they
    /// still need their upsert. Told by the rows it changed, not by `RETURNING`, for which
    /// SQLite opens and closes a temporary table each time (a tenth of a one-write push).
    private func notUpdated(_ rows: [RecordRow], _ update: String, width: Int, _ bind: (RecordRow, inout SQLRowValues) -> Void) throws -> [RecordRow] {
        try rows.filter { row in try connection.run(update, SQLRowValues.collect(width) { bind(row, &$0) }) == 0 }
    }

    public func saveRecords(_ records: [Record], workspace: Workspace) throws {
        // Each record once (a multi-row upsert may not touch a row twice): the last one given.
        let unique = Self.lastOfEach(records, by: \.id)
        let rows = try unique.map { try recordRow($0, workspace: workspace) }
        var indexRows = rows
        if dialect.rewritesIndexesItSets && rows.count <= Self.statesFirstUpTo {
            // Rows whose indexed columns keep their values: their states alone. The others (a new
            // record, a changed owner, stage or parent) go through the upsert below.
            indexRows = try notUpdated(rows, Self.indexStatesUpdate, width: 9) { $0.bindIndexStatesUpdate(&$1) }
        }
        try connection.insert(Self.recordInsert, width: 11, count: rows.count, then: Self.recordUpsert) { i, v in rows[i].bindRecord(&v) }
        try connection.insert(Self.indexInsert, width: 9, count: indexRows.count, then: Self.indexUpsert) { i, v in indexRows[i].bindIndex(&v) }
        // Accounts and contacts a deal points at are visible with the deal: its references
        // replaced by what it names now.
        let staged = rows.filter { $0.kind == 0 }
        var refs = [(source: RecordID, target: RecordID)]()
        for row in staged {
            for field in row.entity.fields {
                if case .reference = field.type, case let .reference(target) = row.record[field.name] { refs.append((row.record.id, target)) }
            }
        }
        try connection.send(chunking: staged.map { .blob($0.record.id.bytes) }) { "DELETE FROM refs WHERE source IN (\($0))" }
        try connection.insert("INSERT INTO refs (source, target) VALUES ", width: 2, count: refs.count, then: " ON CONFLICT DO NOTHING") { i, v in
            v.blob(refs[i].source)
            v.blob(refs[i].target)
        }
        for r in unique { try saveTeam(r, workspace: workspace) }
    }

    /// A team-membership record's row in `teams` (nothing for other records).
    private func saveTeam(_ record: Record, workspace: Workspace) throws {
        if let rule = workspace.teamRule, record.entity == rule.entity {
            try connection.send("DELETE FROM teams WHERE membership = ?", [.blob(record.id.bytes)])
            if let (opp, user) = rule.member(record) {
                try connection.send("INSERT INTO teams (membership, opportunity, \"user\") VALUES (?, ?, ?)", [.blob(record.id.bytes), .blob(opp.bytes), .text(user)])
            }
        }
    }

    public func recordCount() throws -> Int {
        Int(try connection.query("SELECT count(*) FROM record_index").first?[0].int ?? 0)
    }

    // MARK: Log

    public func head() throws -> UInt64 { try logBounds().head }

    // One round trip (it is read several times a sync; on PostgreSQL each statement is one).
    private static let boundsSelect =
        "SELECT coalesce(max(seq), 0), (SELECT value FROM meta WHERE key = 'compacted_through'), (SELECT coalesce(max(id), 0) FROM conflicts) FROM log"

    public func logBounds() throws -> LogBounds { Self.bounds(try connection.query(Self.boundsSelect).first) }

    private static func bounds(_ row: [SQLValue]?) -> LogBounds {
        let logged = UInt64(row?[0].int ?? 0)
        let compacted = row?[1].string.flatMap(UInt64.init) ?? 0
        // After compaction the log may be empty below the head: the head never goes back.
        return LogBounds(head: max(logged, compacted), compactedThrough: compacted, conflictHead: UInt64(row?[2].int ?? 0))
    }

    private static let logColumns = ["seq", "record", "entity", "field", "kind", "value", "hlc", "replica", "author", "authority", "hub_ms"]
    private static let logInsert = "INSERT INTO log (\(logColumns.joined(separator: ", "))) VALUES "

    public func append(_ e: LogEntry, hubMilliseconds: Int64) throws {
        try connection.send(Self.logInsert + "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", try logRow(e, hubMilliseconds: hubMilliseconds))
    }

    public func append(_ entries: [LogEntry], hubMilliseconds: Int64) throws {
        if entries.count == 1 { return try append(entries[0], hubMilliseconds: hubMilliseconds) }
        // A big push's entries (an import, a laptop back after weeks) streamed with the engine's
        // bulk copy where it has one: cheaper than INSERTs once a copy's own round trip is paid.
        if entries.count >= Self.copyFrom, connection.copies {
            return try connection.copy(into: "log", columns: Self.logColumns, rows: entries.map { try logRow($0, hubMilliseconds: hubMilliseconds) })
        }
        try insertLog(entries, hubMilliseconds: hubMilliseconds)
    }

    /// Entries from which a push's log is copied rather than inserted (where the engine copies).
    static let copyFrom = 600

    /// The last of the items sharing a key, in the order of those kept: what one statement per
    /// item would have left, for a multi-row upsert (which may not touch a row twice).
    private static func lastOfEach<T, K: Hashable>(_ items: [T], by key: (T) -> K) -> [T] {
        var last = [K: Int]()
        for (i, item) in items.enumerated() { last[key(item)] = i }
        return items.enumerated().filter { last[key($0.element)] == $0.offset }.map(\.element)
    }

    /// `entries` as multi-row INSERTs.
    private func insertLog(_ entries: [LogEntry], hubMilliseconds: Int64) throws {
        // A push's entries mostly come from one replica: its number looked up once.
        var replica: (id: ReplicaID, index: Int64)?
        try connection.insert(Self.logInsert, width: 11, count: entries.count, then: "") { i, v in
            let e = entries[i]
            let index: Int64
            if let replica, replica.id == e.stamp.replica {
                index = replica.index
            } else {
                index = try codec.index(of: e.stamp.replica)
                replica = (e.stamp.replica, index)
            }
            Self.bindLog(e, replicaIndex: index, hubMilliseconds: hubMilliseconds, into: &v)
        }
    }

    /// A log entry's row, in `logColumns`' order.
    private static func bindLog(_ e: LogEntry, replicaIndex: Int64, hubMilliseconds: Int64, into v: inout SQLRowValues) {
        v.integer(Int64(e.sequence))
        v.blob(e.record)
        v.text(e.entity)
        v.text(e.field)
        v.integer(kindCode(e.kind))
        v.blob(e.value.storedBytes)
        v.integer(Int64(bitPattern: e.stamp.hlc.rawValue))
        v.integer(replicaIndex)
        v.text(e.author)
        v.integer(Int64(e.authority.rawValue))
        v.integer(hubMilliseconds)
    }

    private func logRow(_ e: LogEntry, hubMilliseconds: Int64) throws -> [SQLValue] {
        let index = try codec.index(of: e.stamp.replica)
        return SQLRowValues.collect(11) { Self.bindLog(e, replicaIndex: index, hubMilliseconds: hubMilliseconds, into: &$0) }
    }

    /// The floor of ingest on this engine (opps-bench; issue 18): log entries and new records
    /// written with multi-row INSERTs (up to 300 rows a statement), in the caller's transaction
    /// — no decision, no relations, no per-row round trip. The hub writes a push's log entries
    /// this way too, its records one by one with their relations; a test checks this leaves
    /// what the per-row path leaves.
    public func insertBulk(_ entries: [LogEntry], records: [Record], workspace: Workspace, hubMilliseconds: Int64) throws {
        // INSERTs whatever the count (`append` copies a big push's entries on PostgreSQL).
        try insertLog(entries, hubMilliseconds: hubMilliseconds)
        let rows = try records.map { try recordRow($0, workspace: workspace) }
        // The same upserts as saveRecord's (a batch names each record once).
        try connection.insert(Self.recordInsert, width: 11, count: rows.count, then: Self.recordUpsert) { i, v in rows[i].bindRecord(&v) }
        try connection.insert(Self.indexInsert, width: 9, count: rows.count, then: Self.indexUpsert) { i, v in rows[i].bindIndex(&v) }
    }

    /// The same rows as `insertBulk` streamed with the engine's bulk copy (PostgreSQL's `COPY`):
    /// the other floor opps-bench sets ingest against. New records only — a copy does not upsert.
    public func copyBulk(_ entries: [LogEntry], records: [Record], workspace: Workspace, hubMilliseconds: Int64) throws {
        try connection.copy(into: "log", columns: Self.logColumns, rows: entries.map { try logRow($0, hubMilliseconds: hubMilliseconds) })
        let rows = try records.map { try recordRow($0, workspace: workspace) }
        try connection.copy(into: "records", columns: Self.recordColumns, rows: rows.map { row in SQLRowValues.collect(11) { row.bindRecord(&$0) } })
        try connection.copy(into: "record_index", columns: Self.indexColumns, rows: rows.map { row in SQLRowValues.collect(9) { row.bindIndex(&$0) } })
    }

    static func kindCode(_ k: WriteKind) -> Int64 {
        switch k {
        case .set: 0
        case .create: 1
        case .delete: 2
        }
    }

    static func kind(_ code: Int64?) -> WriteKind {
        switch code {
        case 1: .create
        case 2: .delete
        default: .set
        }
    }

    private func logEntries(_ rows: [[SQLValue]]) throws -> [StoredLogEntry] {
        try rows.map { row in
            guard let seq = row[0].int, let rb = row[1].bytes, let record = RecordID(bytes: rb), let entity = row[2].string, let field = row[3].string,
                let vb = row[5].bytes, let hlc = row[6].int, let ri = row[7].int, let author = row[8].string,
                let authority = row[9].int.flatMap({ Access(rawValue: Int($0)) }), let ms = row[10].int
            else { throw ByteReader.damaged }
            let entry = LogEntry(
                sequence: UInt64(seq), record: record, entity: entity, field: field, kind: Self.kind(row[4].int),
                value: try Value(storedBytes: vb), stamp: Stamp(hlc: HLC(rawValue: UInt64(bitPattern: hlc)), replica: try codec.replica(index: ri)),
                author: author, authority: authority)
            return StoredLogEntry(entry: entry, hubMilliseconds: ms)
        }
    }

    public func log(after: UInt64, limit: Int) throws -> [StoredLogEntry] {
        try logEntries(
            connection.query(
                """
                SELECT seq, record, entity, field, kind, value, hlc, replica, author, authority, hub_ms FROM log WHERE seq > ? ORDER BY seq LIMIT ?
                """, [.integer(Int64(after)), .integer(Int64(limit))]))
    }

    public func log(records: [RecordID], after: UInt64, limit: Int) throws -> [StoredLogEntry] {
        // Through the (record, seq) index; each chunk's first `limit` entries hold every entry
        // of the merged first `limit`.
        let entries = try logEntries(
            connection.query(chunking: records.map { .blob($0.bytes) }, after: [.integer(Int64(after)), .integer(Int64(limit))]) {
                "SELECT seq, record, entity, field, kind, value, hlc, replica, author, authority, hub_ms FROM log WHERE record IN (\($0)) AND seq > ? ORDER BY seq LIMIT ?"
            })
        return Array(entries.sorted { $0.entry.sequence < $1.entry.sequence }.prefix(limit))
    }

    public func touches(after: UInt64, limit: Int) throws -> [LogTouch] {
        try connection.query("SELECT seq, record, entity FROM log WHERE seq > ? ORDER BY seq LIMIT ?", [.integer(Int64(after)), .integer(Int64(limit))]).map { row in
            guard let seq = row[0].int, let rb = row[1].bytes, let record = RecordID(bytes: rb), let entity = row[2].string else { throw ByteReader.damaged }
            return LogTouch(sequence: UInt64(seq), record: record, entity: entity)
        }
    }

    public func touchesWithColumns(after: UInt64, limit: Int) throws -> [(touch: LogTouch, columns: RecordColumns?)] {
        try connection.query(
            """
            SELECT l.seq, l.record, l.entity, i.entity, i.kind, i.creator, i.owner, i.stage, i.parent, i.live, i.term
            FROM log l LEFT JOIN record_index i ON i.id = l.record WHERE l.seq > ? ORDER BY l.seq LIMIT ?
            """, [.integer(Int64(after)), .integer(Int64(limit))]
        ).map { row in
            guard let seq = row[0].int, let rb = row[1].bytes, let record = RecordID(bytes: rb), let entity = row[2].string else { throw ByteReader.damaged }
            var columns: RecordColumns?
            if let e = row[3].string, let kind = row[4].int, let creator = row[5].string {
                columns = RecordColumns(
                    entity: e, kind: Int(kind), creator: creator, owner: row[6].string, stage: row[7].string,
                    parent: row[8].bytes.flatMap(RecordID.init(bytes:)), live: row[9].int != 0, term: UInt64(bitPattern: row[10].int ?? 0))
            }
            return (LogTouch(sequence: UInt64(seq), record: record, entity: entity), columns)
        }
    }

    public func conflictHead() throws -> UInt64 {
        UInt64(try connection.query("SELECT coalesce(max(id), 0) FROM conflicts").first?[0].int ?? 0)
    }

    public func log(record: RecordID) throws -> [StoredLogEntry] {
        try logEntries(
            connection.query(
                """
                SELECT seq, record, entity, field, kind, value, hlc, replica, author, authority, hub_ms FROM log WHERE record = ? ORDER BY seq
                """, [.blob(record.bytes)]))
    }

    // MARK: Conflicts

    public func addConflict(_ c: ConflictRecord, owner: UserName?, hubMilliseconds: Int64) throws -> UInt64 {
        let stored = try connection.query(
            """
            INSERT INTO conflicts (id, record, entity, field, outcome, rule, loser, author, winner, winner_author, owner, hub_ms)
            VALUES (coalesce(?, (SELECT coalesce(max(id), 0) + 1 FROM conflicts)), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
            """,
            [
                c.id == 0 ? .null : .integer(Int64(c.id)), .blob(c.record.bytes), .text(c.entity), .text(c.field), .text(c.outcome.rawValue), .text(c.rule.rawValue),
                .blob(try codec.bytes(c.loser)), .text(c.loser.author), try c.winner.map { .blob(try codec.bytes($0)) } ?? .null,
                Self.optionalText(c.winner?.author), Self.optionalText(owner), .integer(hubMilliseconds),
            ])
        guard let id = stored.first?[0].int else { throw StoreError(code: -2, message: "conflict id not returned") }
        return UInt64(id)
    }

    private func conflicts(_ rows: [[SQLValue]]) throws -> [StoredConflict] {
        try rows.map { row in
            guard let id = row[0].int, let rb = row[1].bytes, let record = RecordID(bytes: rb), let entity = row[2].string, let field = row[3].string,
                let outcome = row[4].string.flatMap(Outcome.init(rawValue:)), let rule = row[5].string.flatMap(RuleID.init(rawValue:)),
                let loser = row[6].bytes, let ms = row[9].int
            else { throw ByteReader.damaged }
            let c = ConflictRecord(
                id: UInt64(id), record: record, entity: entity, field: field, outcome: outcome, rule: rule,
                loser: try codec.state(loser), winner: try row[7].bytes.map { try codec.state($0) })
            return StoredConflict(conflict: c, hubMilliseconds: ms, owner: row[8].string)
        }
    }

    public func conflicts(after: UInt64, concerning users: Set<UserName>, author: UserName, limit: Int) throws -> [StoredConflict] {
        // Conflicts of the user's own writes, and those on records owned by the user or by someone they manage.
        let owners = Array(users)
        let placeholders = owners.isEmpty ? "NULL" : owners.map { _ in "?" }.joined(separator: ",")
        return try conflicts(
            connection.query(
                """
                SELECT id, record, entity, field, outcome, rule, loser, winner, owner, hub_ms FROM conflicts
                WHERE id > ? AND (author = ? OR owner IN (\(placeholders))) ORDER BY id LIMIT ?
                """, [.integer(Int64(after)), .text(author)] + owners.map { .text($0) } + [.integer(Int64(limit))]))
    }

    public func conflict(_ id: UInt64) throws -> StoredConflict? {
        try conflicts(
            connection.query(
                "SELECT id, record, entity, field, outcome, rule, loser, winner, owner, hub_ms FROM conflicts WHERE id = ?",
                [.integer(Int64(id))])
        ).first
    }

    public func openConflicts(user: UserName?) throws -> [StoredConflict] {
        if let user {
            return try conflicts(
                connection.query(
                    """
                    SELECT id, record, entity, field, outcome, rule, loser, winner, owner, hub_ms FROM conflicts
                    WHERE resolved = 0 AND (author = ? OR owner = ?) ORDER BY id
                    """, [.text(user), .text(user)]))
        }
        return try conflicts(
            connection.query("SELECT id, record, entity, field, outcome, rule, loser, winner, owner, hub_ms FROM conflicts WHERE resolved = 0 ORDER BY id"))
    }

    public func resolveConflict(_ id: UInt64) throws {
        try connection.send("UPDATE conflicts SET resolved = 1 WHERE id = ?", [.integer(Int64(id))])
    }

    public func compactTombstones(below sequence: UInt64) throws -> Int {
        // A tombstone whose deletion every live replica has seen can go, with its records.
        var tombstones = 0
        for row in try connection.query("SELECT r.id, r.deleted FROM record_index i JOIN records r ON r.id = i.id WHERE i.live = 0") {
            guard let b = row[0].bytes, let d = row[1].bytes, let seq = try? codec.state(d).sequence, seq <= sequence else { continue }
            // Its id stays taken: a create naming it (an older copy of a replica sending what the
            // other copy sent before the delete) is refused, not a new record.
            try connection.send("INSERT INTO gone (id) VALUES (?) ON CONFLICT DO NOTHING", [.blob(b)])
            try connection.send("DELETE FROM records WHERE id = ?", [.blob(b)])
            try connection.send("DELETE FROM record_index WHERE id = ?", [.blob(b)])
            try connection.send("DELETE FROM refs WHERE source = ?", [.blob(b)])
            try connection.send("DELETE FROM teams WHERE membership = ?", [.blob(b)])
            tombstones += 1
        }
        return tombstones
    }

    public func markCompacted(through sequence: UInt64) throws {
        try setMeta("compacted_through", String(max(sequence, UInt64(try meta("compacted_through") ?? "0") ?? 0)))
    }

    public func pruneLog(through sequence: UInt64, limit: Int) throws -> Int {
        // By sequence from the oldest entry (the primary key's range, not a sort): at least that
        // entry while one is left at or below `sequence`.
        guard let oldest = try connection.query("SELECT min(seq) FROM log").first?[0].int, oldest >= 0, UInt64(oldest) <= sequence else { return 0 }
        // Sequences fit 63 bits: the slice's end, at most `sequence`, cannot overflow.
        let through = min(sequence, UInt64(oldest) + UInt64(max(limit, 1) - 1))
        return try connection.run("DELETE FROM log WHERE seq <= ?", [.integer(Int64(through))])
    }

    public func logCount(below sequence: UInt64) throws -> Int {
        Int(try connection.query("SELECT count(*) FROM log WHERE seq <= ?", [.integer(Int64(sequence))]).first?[0].int ?? 0)
    }

    public func conflicts(record: RecordID) throws -> [StoredConflict] {
        try conflicts(
            connection.query(
                "SELECT id, record, entity, field, outcome, rule, loser, winner, owner, hub_ms FROM conflicts WHERE record = ? ORDER BY id",
                [.blob(record.bytes)]))
    }

    // MARK: Visibility

    public func team(of opportunity: RecordID) throws -> Set<UserName> {
        Set(try connection.query("SELECT \"user\" FROM teams WHERE opportunity = ?", [.blob(opportunity.bytes)]).compactMap { $0[0].string })
    }

    /// The role's conditions on a staged record of `record_index` (a "top" record), as SQL;
    /// `table`: the name the record's row goes by in the statement.
    static func topConditions(_ q: VisibilityQuery, of table: String = "record_index") -> (sql: String, args: [SQLValue])? {
        let t = table + "."
        var conditions = [String]()
        var args = [SQLValue]()
        if q.all { conditions.append("1 = 1") }
        if q.owner { conditions.append("\(t)owner = ?"); args.append(.text(q.user)) }
        if q.creator { conditions.append("\(t)creator = ?"); args.append(.text(q.user)) }
        if q.team { conditions.append("\(t)id IN (SELECT opportunity FROM teams WHERE \"user\" = ?)"); args.append(.text(q.user)) }
        if !q.managed.isEmpty {
            let p = q.managed.map { _ in "?" }.joined(separator: ",")
            conditions.append("\(t)owner IN (\(p)) OR (\(t)owner IS NULL AND \(t)creator IN (\(p)))")
            args += q.managed.sorted().map { .text($0) } + q.managed.sorted().map { .text($0) }
        }
        if !q.stages.isEmpty {
            conditions.append("\(t)stage IN (\(q.stages.map { _ in "?" }.joined(separator: ",")))")
            args += q.stages.sorted().map { .text($0) }
        }
        return conditions.isEmpty ? nil : ("(" + conditions.joined(separator: " OR ") + ")", args)
    }

    public func referencedByVisible(_ target: RecordID, query q: VisibilityQuery) throws -> Bool {
        guard let (sql, args) = Self.topConditions(q) else { return false }
        return try !connection.query(
            """
            SELECT 1 FROM record_index WHERE kind = 0 AND live = 1 AND \(sql)
                AND id IN (SELECT source FROM refs WHERE target = ?) LIMIT 1
            """, args + [.blob(target.bytes)]
        ).isEmpty
    }

    public func records(visibleTo q: VisibilityQuery) throws -> Set<RecordID> {
        // Each part names the top record it follows from by a join on its key, so no part
        // needs the set of top records first: a scratch table of them cost a cold sync of
        // 100,000 deals 0.19 s of PostgreSQL before its first page (every id inserted into an
        // index), and each part now costs what it returns. UNION ALL: the set below drops what
        // two parts both name (a referenced record the user also created); only the referenced
        // ones, which many records may name, are made distinct in the database.
        var sql = "SELECT id FROM record_index WHERE kind = 2 AND live = 1 AND creator = ?"
        var args: [SQLValue] = [.text(q.user)]
        if let (top, topArgs) = Self.topConditions(q, of: "t") {
            sql = """
                SELECT t.id FROM record_index t WHERE t.kind = 0 AND t.live = 1 AND \(top)
                UNION ALL SELECT c.id FROM record_index c JOIN record_index t ON t.id = c.parent
                    WHERE c.kind = 1 AND c.live = 1 AND t.kind = 0 AND t.live = 1 AND \(top)
                UNION ALL SELECT DISTINCT r.id FROM refs f JOIN record_index t ON t.id = f.source JOIN record_index r ON r.id = f.target
                    WHERE r.live = 1 AND t.kind = 0 AND t.live = 1 AND \(top)
                UNION ALL \(sql)
                """
            args = topArgs + topArgs + topArgs + args
        }
        var out = Set<RecordID>()
        try connection.scan(sql, args) { row in if let id = row.id(0) { out.insert(id) } }
        return out
    }

    public func known(replica: ReplicaID) throws -> [RecordID: UInt64] {
        var out = [RecordID: UInt64]()
        try connection.scan("SELECT record, signature FROM replica_records WHERE replica = ?", [.blob(replica.bytes)]) { row in
            if let id = row.id(0), let s = row.int(1) { out[id] = UInt64(bitPattern: s) }
        }
        return out
    }

    public func stageKnown(replica: ReplicaID, token: UInt64, changes: [(RecordID, UInt64?)], carrying: UInt64?) throws {
        // One row a page, its changes packed in one blob (a cold sync's page stages thousands:
        // a row each cost PostgreSQL more than reading the records). A token is staged once; a
        // record named twice keeps its last signature.
        try connection.send(
            """
            INSERT INTO replica_staged (replica, token, carries, changes) VALUES (?, ?, ?, ?)
            ON CONFLICT(replica, token) DO UPDATE SET carries = excluded.carries, changes = excluded.changes
            """,
            [
                .blob(replica.bytes), .integer(Int64(token)), carrying.map { .integer(Int64($0)) } ?? .null,
                .blob(StagedChanges.encode(Self.lastOfEach(changes, by: \.0))),
            ])
    }

    public func acknowledge(replica: ReplicaID, token: UInt64) throws {
        let r: SQLValue = .blob(replica.bytes)
        let t: SQLValue = .integer(Int64(token))
        // The replica received and applied page `token`: exactly that page's changes become
        // known (each page's delta is relative to what was known when it was built). Pages
        // before it are superseded; pages after it stay pending — a late or duplicated old
        // request must not drop the delta of a page the replica did receive. A page built on an
        // in-flight one carries it: what the replica now holds is the page's own changes, and
        // those of the carried page (still staged only if its own acknowledgement never came)
        // for records the page itself does not name.
        if dialect.modifyingWith {
            // One statement (one round trip), the blobs unpacked by the server (StagedChanges'
            // layout): all its parts read one snapshot, taken before any of them writes. The two
            // writes of replica_records touch different records (a record is in the page's own
            // changes or in the carried page's, never both; neither names one twice). The
            // deletion runs only when the page forgets a record: its plan, made when the table
            // was small, scanned every record the replica holds (a cold sync's acknowledgements
            // grew quadratic: 834 → 605 ms of PostgreSQL for 100,000 deals). Each blob
            // is read whole once, into a materialized row (`|| ''`): a substring of the stored,
            // compressed value decompressed all of it, for each of a page's 2,000 records.
            func unpacked(_ row: String) -> String {
                """
                SELECT substring(b.changes FROM 25 * i + 1 FOR 16) AS record,
                    CASE WHEN get_byte(b.changes, 25 * i + 16) = 1
                        THEN ('x' || encode(substring(b.changes FROM 25 * i + 18 FOR 8), 'hex'))::bit(64)::bigint END AS signature
                FROM \(row) b, generate_series(0, length(b.changes) / 25 - 1) AS i
                """
            }
            try connection.send(
                """
                WITH own_row AS MATERIALIZED (SELECT carries, changes || ''::bytea AS changes FROM replica_staged WHERE replica = ? AND token = ?),
                carried_row AS MATERIALIZED (
                    SELECT changes || ''::bytea AS changes FROM replica_staged WHERE replica = ? AND token = (SELECT carries FROM own_row)),
                own AS MATERIALIZED (\(unpacked("own_row"))),
                s AS (SELECT record, signature FROM own UNION ALL SELECT record, signature FROM (\(unpacked("carried_row"))) AS c
                    WHERE record NOT IN (SELECT record FROM own)),
                known AS (
                    INSERT INTO replica_records (replica, record, signature) SELECT ?, record, signature FROM s WHERE signature IS NOT NULL
                    ON CONFLICT(replica, record) DO UPDATE SET signature = excluded.signature),
                forgotten AS (
                    DELETE FROM replica_records WHERE EXISTS (SELECT 1 FROM s WHERE signature IS NULL)
                    AND replica = ? AND record IN (SELECT record FROM s WHERE signature IS NULL))
                DELETE FROM replica_staged WHERE replica = ? AND token <= ?
                """, [r, t, r, r, r, r, t])
            return
        }
        let rows = try connection.query(
            "SELECT token, carries, changes FROM replica_staged WHERE replica = ? AND token = ? UNION ALL "
                + "SELECT token, NULL, changes FROM replica_staged WHERE replica = ? AND token = (SELECT carries FROM replica_staged WHERE replica = ? AND token = ?)",
            [r, t, r, r, t])
        // A staged page that cannot be read (never written so) counts as nothing staged: its
        // records are sent again, as after a lost acknowledgement, and the replica is not stuck
        // on a pull that fails for ever (PostgreSQL's unpacking reads such a blob as far as it goes).
        var held = [RecordID: UInt64?]()
        for row in rows where row[0].int != Int64(token) {
            for (id, signature) in (try? StagedChanges.decode(row[2].bytes ?? [])) ?? [] { held[id] = signature }
        }
        for row in rows where row[0].int == Int64(token) {
            for (id, signature) in (try? StagedChanges.decode(row[2].bytes ?? [])) ?? [] { held[id] = signature }
        }
        let ordered = held.sorted { $0.key < $1.key }
        let signed = ordered.compactMap { id, signature in signature.map { (id, Int64(bitPattern: $0)) } }
        try connection.insert(
            "INSERT INTO replica_records (replica, record, signature) VALUES ", width: 3, count: signed.count,
            then: " ON CONFLICT(replica, record) DO UPDATE SET signature = excluded.signature"
        ) { i, v in
            v.value(r)
            v.blob(signed[i].0)
            v.integer(signed[i].1)
        }
        for (id, signature) in ordered where signature == nil {
            try connection.send("DELETE FROM replica_records WHERE replica = ? AND record = ?", [r, .blob(id.bytes)])
        }
        try connection.send("DELETE FROM replica_staged WHERE replica = ? AND token <= ?", [r, t])
    }
}
