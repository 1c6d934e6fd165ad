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
        let admin = try PostgresSQLConnection(location: PostgresLocation(url: base))
        let name = "opps_t_\(UInt64.random(in: 0...UInt64.max))"
        try admin.run("CREATE DATABASE \(name)", [])
        var c = URLComponents(string: base)!
        c.path = "/" + name
        return c.string!
    }

    public enum ScratchError: Error { case noCluster }
}
