// opps-sim: the seeded fault simulator. See Tools/README.md.
import Foundation
import OppsSimulation

func usage() -> Never {
    FileHandle.standardError.write(
        Data(
            """
            usage: opps-sim [--seed S | --seeds N] [--replicas N] [--ops N] [--no-faults]
              --seed S      run one seed (reproduce a failure)
              --seeds N     run seeds 1…N (default 20)
              --replicas N  team size (default 6)
              --ops N       offline operations per run (default 200)
              --no-faults   a clean network (to tell merge bugs from fault handling)
              --processes   run the hub as a real opps-hub process (HTTP, real kill -9 mid-request)
              --no-attacker no hostile user of another territory (it is on by default)
              --store URL   the hub on PostgreSQL (postgres://…): each seed makes its own database there
              --hubs N      with --processes and --store: N hub processes on it, behind HAProxy
              --pg-cluster DIR  crash PostgreSQL itself now and then (a cluster from Tools/pg/cluster.sh)
              --random-balance  with --hubs: HAProxy sends each request to a hub at random, not in turn
                            (other interleavings of the hubs' caches; a run is then not repeatable)
              --trace       print every step as it happens (a failure prints the last ones anyway)
              --no-undo     no user takes back an edit before it is sent (opps undo; on by default)
              --no-restores no laptop is restored from an older backup of its replica (on by default)
              --no-compactions  the operator never compacts the log (on by default)
            Prints one line per seed; on a failure the seed, the last steps, and exits 1.

            """.utf8))
    exit(64)
}

var seeds: [UInt64] = Array(1...20)
var replicas = 6
var ops = 200
var faults = FaultRates()
var processes = false
var attacker = true
var store: String?
var hubs = 1
var cluster: String?
var randomBalance = false
var trace = false
var undo = true
var restores = true
var compactions = true
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let a = args.removeFirst()
    func value() -> UInt64 {
        guard !args.isEmpty, let v = UInt64(args.removeFirst()) else { usage() }
        return v
    }
    switch a {
    case "--seed": seeds = [value()]
    case "--seeds": let n = value(); guard n > 0 else { usage() }; seeds = Array(1...n)
    case "--replicas": replicas = Int(value()); guard replicas >= 2 else { usage() }
    case "--ops": ops = Int(value())
    case "--no-faults": faults = .none
    case "--processes": processes = true
    case "--no-attacker": attacker = false
    case "--store": guard !args.isEmpty else { usage() }; store = args.removeFirst()
    case "--hubs": hubs = Int(value()); guard hubs >= 1 else { usage() }
    case "--pg-cluster": guard !args.isEmpty else { usage() }; cluster = args.removeFirst()
    case "--random-balance": randomBalance = true
    case "--trace": trace = true
    case "--no-undo": undo = false
    case "--no-restores": restores = false
    case "--no-compactions": compactions = false
    case "--help", "-h": usage()
    default: usage()
    }
}

if hubs > 1 && (!processes || store == nil) {
    FileHandle.standardError.write(Data("opps-sim: --hubs needs --processes and --store (several hubs share one PostgreSQL database)\n".utf8))
    exit(64)
}
if cluster != nil && store == nil {
    FileHandle.standardError.write(Data("opps-sim: --pg-cluster needs --store\n".utf8))
    exit(64)
}
let clusterScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("pg/cluster.sh").path
let start = Date()
var totals = SimulationReport(seed: 0)
for seed in seeds {
    do {
        var options = SimulationOptions(seed: seed, replicas: replicas, ops: ops, faults: faults)
        options.attacker = attacker
        options.postgresServer = store
        options.hubs = hubs
        options.randomBalance = randomBalance
        options.trace = trace
        options.undo = undo
        options.restores = restores
        options.compactions = compactions
        options.postgresCluster = cluster.map { PostgresCluster(directory: $0, script: clusterScript) }
        if processes {
            options.hubExecutable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("opps-hub").path
        }
        let r = try await Simulation(options).run()
        totals.writes += r.writes; totals.syncs += r.syncs; totals.failedSyncs += r.failedSyncs; totals.hubCrashes += r.hubCrashes;
        totals.databaseCrashes += r.databaseCrashes
        totals.replicaCrashes += r.replicaCrashes; totals.conflicts += r.conflicts; totals.refusedLocally += r.refusedLocally
        totals.approvals += r.approvals
        totals.decided += r.decided
        totals.withdrawn += r.withdrawn
        totals.undone += r.undone
        totals.restores += r.restores
        totals.newReplicas += r.newReplicas
        totals.compactions += r.compactions
        totals.compactedTombstones += r.compactedTombstones
        totals.expiredResyncs += r.expiredResyncs
        totals.attacks += r.attacks
        print(
            "seed \(seed): ok — \(r.writes) writes, \(r.conflicts) conflicts, \(r.records) records, \(r.syncs) syncs (\(r.failedSyncs) failed), \(r.hubCrashes) hub crashes, \(r.databaseCrashes) PostgreSQL crashes, \(r.replicaCrashes) replica crashes, \(r.restores) laptops restored from a backup (\(r.newReplicas) went on as new replicas), \(r.compactions) compactions (\(r.compactedTombstones) tombstones, \(r.expiredResyncs) re-syncs from nothing), \(r.decided)/\(r.approvals) approvals decided (\(r.withdrawn) withdrawn), \(r.undone) edits taken back, \(r.attacks) hostile requests"
        )
    } catch let f as SimulationFailure {
        print("FAILED \(f)")
        exit(1)
    } catch {
        print("FAILED seed \(seed): \(error)")
        exit(1)
    }
}
print(
    String(
        format:
            "%d seeds passed in %.1f s (\(hubs) hub\(hubs == 1 ? "" : "s") on \(store == nil ? "SQLite" : "PostgreSQL")): %d writes, %d conflicts, %d syncs (%d failed by faults), %d hub crashes, %d PostgreSQL crashes, %d replica crashes, %d laptops restored from an older backup (%d went on as new replicas), no repairs, %d compactions (%d tombstones removed; %d syncs re-synced from nothing after one), %d of %d approval requests decided, %d withdrawn, %d edits taken back before they were sent, %d hostile requests answered with nothing of the team's",
        seeds.count, Date().timeIntervalSince(start), totals.writes, totals.conflicts,
        totals.syncs, totals.failedSyncs, totals.hubCrashes, totals.databaseCrashes, totals.replicaCrashes, totals.restores, totals.newReplicas,
        totals.compactions, totals.compactedTombstones, totals.expiredResyncs,
        totals.decided, totals.approvals, totals.withdrawn, totals.undone,
        totals.attacks))
