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
