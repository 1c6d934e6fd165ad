import Foundation
import OppsPostgres

#if canImport(Glibc)
    import Glibc
#endif

/// Throwaway databases on the PostgreSQL cluster named by `OPPS_TEST_PG` (Tools/pg/cluster.sh
/// starts one; `.ci/run` does on every run). Without it, tests of the PostgreSQL store are not
/// run, and say so.
public enum ScratchPostgres {
    /// The cluster's URL, when tests may use one.
    public static var url: String? {
        guard let u = ProcessInfo.processInfo.environment["OPPS_TEST_PG"], !u.isEmpty else { return nil }
        return u
    }

    /// A new empty database on that cluster; its URL. Its name carries the test process's id
    /// (`opps_t_<pid>_…`): the first call drops the databases of test processes that have gone,
    /// so a cluster kept between runs holds at most the last run's.
    public static func fresh() throws -> String {
        guard let base = url else { throw ScratchError.noCluster }
        _ = swept
        return try PostgresLocation.createDatabase(base: base, prefix: "opps_t_\(getpid())_")
    }

    private static let swept: Bool = {
        guard let base = url, let names = try? PostgresLocation.databases(base: base, prefix: "opps_t_") else { return false }
        for name in names {
            let pid = name.split(separator: "_").dropFirst(2).first.flatMap { Int32($0) }
            if let pid, pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH { continue }
            var c = URLComponents(string: base)
            c?.path = "/" + name
            if let u = c?.string { try? PostgresLocation.dropDatabase(u, base: base) }
        }
        return true
    }()

    public enum ScratchError: Error { case noCluster }
}

/// Which store a hub test runs on: SQLite always, PostgreSQL too when `OPPS_TEST_PG` names a cluster.
public enum HubStoreKind: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite, postgres

    public static var all: [HubStoreKind] { ScratchPostgres.url == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// `HubConfiguration.storeURL` for a fresh hub of this kind (nil: SQLite in its directory).
    public func url() throws -> String? { self == .postgres ? try ScratchPostgres.fresh() : nil }

    public var description: String { rawValue }
}
