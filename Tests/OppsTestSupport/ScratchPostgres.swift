import Foundation
import OppsPostgres

/// Throwaway databases on the PostgreSQL cluster named by `OPPS_TEST_PG` (Tools/pg/cluster.sh
/// starts one; `.ci/run` does on every run). Without it, tests of the PostgreSQL store are not
/// run, and say so.
public enum ScratchPostgres {
    /// The cluster's URL, when tests may use one.
    public static var url: String? {
        guard let u = ProcessInfo.processInfo.environment["OPPS_TEST_PG"], !u.isEmpty else { return nil }
        return u
    }

    /// A new empty database on that cluster; its URL.
    public static func fresh() throws -> String {
        guard let base = url else { throw ScratchError.noCluster }
        return try PostgresLocation.createDatabase(base: base, prefix: "opps_t_")
    }

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
