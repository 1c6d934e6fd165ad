import Foundation
import OppsCSV
import OppsCore
import OppsHub
import OppsPostgres
import OppsReplica
import OppsStore
import OppsWire

/// How one simulation runs.
public struct SimulationOptions: Sendable {
    public var seed: UInt64
    public var replicas: Int
    public var ops: Int
    public var faults: FaultRates
    /// Where the SQLite files go (a fresh folder per run is made inside).
    public var directory: String
    /// Process mode: the path of `opps-hub`; the hub then runs as a real process the replicas
    /// reach over HTTP, and hub crashes are real kill -9s, some in the middle of a request.
    public var hubExecutable: String?
    /// A user of another territory attacks the hub throughout the day (Simulation+Attacker.swift).
    public var attacker = true
    /// The hub's store on PostgreSQL: a server URL (postgres://…); each run makes its own database there.
    public var postgresServer: String?
    /// Process mode on PostgreSQL: this many hub processes on the one database, behind HAProxy.
    public var hubs = 1
    /// With several hubs: the balancer picks one at random for each request (not repeatable).
    public var randomBalance = false
    /// Every step printed as it happens.
    public var trace = false
    /// Users take back some edits before they are sent (`opps undo`), 6 % of work steps.
    public var undo = true
    /// Laptops are backed up now and then, and some are restored from their last backup: the
    /// replica's folder goes back to an older copy (sync-protocol.md §5.5).
    public var restores = true
    /// The operator compacts the log now and then (docs/operator.md), with a retention window of
    /// none to two hours: replicas not seen within it re-sync from nothing at their next sync,
    /// and a deleted record's id stays taken (merge-semantics.md §7.2).
    public var compactions = true
    /// The PostgreSQL cluster (Tools/pg/cluster.sh) to crash as a fault, when set.
    public var postgresCluster: PostgresCluster?

    public init(
        seed: UInt64, replicas: Int = 6, ops: Int = 200, faults: FaultRates = FaultRates(),
        directory: String = FileManager.default.temporaryDirectory.path
    ) {
        self.seed = seed
        self.replicas = replicas
        self.ops = ops
        self.faults = faults
        self.directory = directory
    }
}

/// What a run did.
public struct SimulationReport: Sendable {
    public var seed: UInt64
    public var edits = 0
    public var refusedLocally = 0
    public var writes = 0
    public var syncs = 0
    public var failedSyncs = 0
    public var hubCrashes = 0
    public var databaseCrashes = 0
    public var replicaCrashes = 0
    /// Laptops restored from an older backup of their replica's folder (sync-protocol.md §5.5).
    public var restores = 0
    /// Syncs of a restored laptop that found it an older copy and went on as a new replica.
    public var newReplicas = 0
    /// Compactions the operator ran, and the tombstones they removed.
    public var compactions = 0
    public var compactedTombstones = 0
    /// Syncs that re-synced from nothing because a compaction had passed their cursor.
    public var expiredResyncs = 0
    public var records = 0
    public var conflicts = 0
    /// Edits a user took back before they were sent (`opps undo`).
    public var undone = 0
    /// Approval requests made, and those decided; withdrawals written, and requests withdrawn.
    public var approvals = 0
    public var decided = 0
    public var withdrawals = 0
    public var withdrawn = 0
    /// Requests the hostile user sent.
    public var attacks = 0

    public init(seed: UInt64) { self.seed = seed }
}

/// A check that failed, with the seed and the last steps that led to it.
public struct SimulationFailure: Error, CustomStringConvertible {
    public var seed: UInt64
    public var message: String
    public var trace: [String]
    public var description: String {
        "seed \(seed): \(message)\nlast steps:\n" + trace.suffix(40).joined(separator: "\n") + "\nrerun: opps-sim --seed \(seed)"
    }
}

/// A team's sales day against a real hub, with faults: offline edits weighted like field work,
/// random syncs, lost and duplicated requests, hub crashes, replica crashes mid-sync. After it
/// quiesces it checks convergence, visibility and that every write is accounted for
/// (merge-semantics.md §9).
public final class Simulation {
    let options: SimulationOptions
    var rng: SeededGenerator
    /// Whether a user takes back the edit just made: drawn apart, so a seed's other draws stay
    /// what they were before users could.
    var undoRNG: SeededGenerator
    let root: String
    var hub: SimulatedHub!
    /// The seed's own database on --store's server: dropped when the seed passes, kept for
    /// inspection when it fails.
    var database: String?
    var tokens: [UserName: String] = [:]
    var users: [HubUser] = []
    var members: [Member] = []
    var trace: [String] = []
    var report: SimulationReport
    /// Every write that ever entered an outbox: (record, field, stamp).
    var written = Set<WrittenKey>()
    /// Writes taken back before they were sent: none may reach the hub.
    var takenBack = Set<WrittenKey>()
    /// Each member's last laptop backup: a copy of its replica's folder.
    var backups: [Int: String] = [:]
    /// The live deals each member's laptop held, confirmed, after any of its syncs (a deal seen
    /// deleted since is taken out: its tombstone stays, or went with a compaction). One that is
    /// no longer on the laptop at the end must say why when its id is typed back.
    var heldDeals: [Int: Set<RecordID>] = [:]
    /// Whose each replica id is: a restored laptop syncs on under a new id, and a write it sends
    /// again is the same write under either (§5.5).
    var replicaUsers: [ReplicaID: UserName] = [:]
    /// The log's entries as they were before a compaction pruned them: every write must still be
    /// accounted for.
    var pruned = Set<WrittenKey>()
    /// Records whose deletion a compaction pruned from the log: each must stay deleted (I9).
    var prunedDeletions = Set<RecordID>()

    var clock: SimulationClock
    /// The hostile user, when the options ask for one.
    var attacker: Attacker?

    struct WrittenKey: Hashable {
        var record: RecordID
        var field: String
        var stamp: Stamp

        /// The write whichever replica id sends it (a restored laptop's new one, §5.5).
        var made: Made { Made(record: record, field: field, hlc: stamp.hlc) }
    }

    struct Made: Hashable {
        var record: RecordID
        var field: String
        var hlc: HLC
    }

    struct UserMade: Hashable {
        var made: Made
        var user: UserName
    }

    struct Member {
        var user: HubUser
        var home: String
        var replica: Replica?
        var transport: SimulatedTransport
    }

    public init(_ options: SimulationOptions) {
        self.options = options
        rng = SeededGenerator(seed: options.seed)
        undoRNG = SeededGenerator(seed: options.seed ^ 0x756E_646F)
        root = options.directory + "/opps-sim-\(options.seed)-\(UInt64.random(in: 0...UInt64.max))"
        report = SimulationReport(seed: options.seed)
        clock = SimulationClock(start: 1_795_000_000_000)
    }

    func note(_ line: String) {
        if options.trace { print(line) }
        trace.append(line)
        if trace.count > 400 { trace.removeFirst(200) }
    }

    func fail(_ message: String) -> SimulationFailure { SimulationFailure(seed: options.seed, message: message, trace: trace) }

    func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }

    func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }

    /// Runs the day and the checks; throws a `SimulationFailure` on the first broken check.
    public func run() async throws -> SimulationReport {
        try FileManager.default.createDirectory(atPath: root + "/hub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        do {
            try setUp()
            for step in 0..<options.ops {
                clock.advance(Int64(rng.next() % 600_000))
                try await self.step(step)
                try await attack(step: step)
            }
            try await quiesce()
            try await check()
            try checkAttacker()
            report.attacks = attacker?.requests ?? 0
        } catch {
            await hub?.stop()
            guard var failure = error as? SimulationFailure else { throw error }
            // A hub process answers a 500 with the bare code: its log says why.
            if let configuration = hub?.configuration, let log = try? String(contentsOfFile: HubProcess.errorLogPath(configuration), encoding: .utf8) {
                let errors = log.split(separator: "\n").filter { $0.contains("error") }.suffix(3)
                failure.trace += errors.map { "hub log: \($0.prefix(1500))" }
            }
            if let database {
                failure.trace.append("the hub's database is kept for inspection: \((try? PostgresLocation(url: database).description) ?? database)")
            }
            throw failure
        }
        await hub.stop()
        if let database, let server = options.postgresServer { try? PostgresLocation.dropDatabase(database, base: server) }
        report.hubCrashes = hub.crashes
        report.databaseCrashes = hub.databaseCrashes
        return report
    }

    func setUp() throws {
        var config = HubConfiguration(dataDirectory: root + "/hub", port: 0)
        config.verifySnapshots = true  // every brought-forward snapshot is checked against a full build
        config.clock = clock
        // Even seeds write every push's rows beside its decisions (SQLite's `RowWriter`), odd
        // seeds none: the simulator's pushes are far below the default's size.
        config.rowsBesideDecisionsFrom = options.seed % 2 == 0 ? 1 : .max
        if let server = options.postgresServer {
            config.storeURL = try PostgresLocation.createDatabase(base: server, prefix: "opps_sim_\(options.seed)_")
            database = config.storeURL
        }
        let store = try config.openStore()
        var r = SeededGenerator(seed: options.seed ^ 0xA11CE)
        _ = try HubEngine.initialise(store: store, workspace: Workspace.defaultDocument, now: clock.nowMilliseconds(), rng: &r)
        let engine = try HubEngine(store: store, configuration: config)
        // A team shaped like a real one: a manager, marketing, reps, an expert, success.
        var team: [HubUser] = [HubUser(name: "max", role: "manager"), HubUser(name: "mia", role: "marketing", manager: "max")]
        let shapes = ["sales", "sales", "expert", "success", "sales", "marketing", "sales", "expert"]
        // From seven replicas on, a second manager above max: two approvers who may decide the
        // same request concurrently.
        let second = options.replicas >= 7
        for i in 0..<max(0, options.replicas - (second ? 3 : 2)) {
            let role = shapes[i % shapes.count]
            team.append(HubUser(name: "\(role.prefix(3))\(i)", role: role, territory: i % 2 == 0 ? "north" : "south", manager: "max", capacity: 40))
        }
        if second {
            team[0].manager = "ann"
            team.insert(HubUser(name: "ann", role: "manager"), at: 0)
        }
        users = team
        for u in team { tokens[u.name] = try engine.addUser(u, rng: &r) }
        // Deals an operator imported from the old CRM: made by the hub, owned by a rep, so max
        // sees them only through their owner and may not clear it (I17, `orphaned`).
        if let rep = team.first(where: { $0.role == "sales" }) {
            // Their ids from the seed (the hub would draw them at random): a seed runs the same twice.
            let rows = try CSV.parse(
                "id,name,stage,owner\n"
                    + (1...3).map { "\(UUID128.version7(milliseconds: clock.nowMilliseconds(), using: &r)),Imported \($0),discovery,\(rep.name)\n" }.joined())
            _ = try engine.importRecords(entity: "opportunity", rows: rows, author: nil, skipInvalid: false)
        }
        if options.attacker {
            // Its own generator: the team's day is the same with or without it.
            var mal = Attacker(seed: options.seed)
            var tokenRNG = SeededGenerator(seed: options.seed ^ 0x7A1)
            mal.token = try engine.addUser(Self.attackerUser, rng: &tokenRNG)
            attacker = mal
        }
        hub = try SimulatedHub(
            configuration: config, executable: options.hubExecutable, hubs: options.hubs, randomBalance: options.randomBalance, cluster: options.postgresCluster,
            root: root + "/hub")
        for (i, u) in team.enumerated() {
            let t = SimulatedTransport(hub: hub, faults: options.faults, seed: options.seed &* 31 &+ UInt64(i)) { [weak self] in self?.note($0) }
            members.append(Member(user: u, home: root + "/\(u.name)", replica: nil, transport: t))
        }
    }

    /// Opens (or, after a crash, reopens) a member's replica, creating it on first use.
    func replica(_ i: Int) async throws -> Replica? {
        if let r = members[i].replica { return r }
        let path = Replica.databasePath(home: members[i].home)
        if FileManager.default.fileExists(atPath: path) {
            let r = try Replica(home: members[i].home, clock: clock)
            r.pageSize = 40
            members[i].replica = r
            return r
        }
        do {
            var idRNG = SeededGenerator(seed: options.seed &+ UInt64(i) &* 7919)
            let r = try await Replica.create(
                home: members[i].home, hubURL: "sim://hub", token: tokens[members[i].user.name]!, transport: members[i].transport,
                clock: clock, id: ReplicaID.random(using: &idRNG))
            r.pageSize = 40
            members[i].replica = r
            return r
        } catch let e as ReplicaError {
            note("  \(members[i].user.name) could not init: \(e)")
            return nil
        }
    }

    func step(_ n: Int) async throws {
        if !hub.delayed.isEmpty, chance(20) { await hub.deliverDelayed(upTo: 1 + Int(rng.next() % 3)) }
        let i = Int(rng.next() % UInt64(members.count))
        guard let r = try await replica(i) else { return }
        let who = "\(members[i].user.name)(\(r.role))"
        switch rng.next() % 100 {
        case 0..<22:
            try await sync(i, r, who)
        case 22..<24:
            // The operator changes someone's role or manager: records move between replicas.
            let target = pick(users.filter { $0.role != "manager" })
            let roles = ["sales", "expert", "success"]
            let engine = hub.engine
            let role = pick(roles)
            note("step \(n): operator sets \(target.name) role \(role)")
            let old = try engine.store.user(named: target.name)?.role ?? target.role
            // The hub says which deals the change left in no one's sight (I17); every user here
            // has a manager, so those are deals only this user saw (a team's ownerless deal):
            // the operator follows the advice and undoes the change.
            let (_, unseen) = try engine.updateUserSayingUnseen(target.name) { $0.role = role }
            if !unseen.isEmpty {
                note("  the hub says no one sees \(unseen.count) deal(s) now: the operator sets \(target.name) role \(old) again")
                _ = try engine.updateUser(target.name) { $0.role = old }
            }
        case 24..<26:
            // A replica process dies mid-sync; it comes back from its database.
            note("step \(n): \(who) crashes during a sync")
            members[i].transport.pullsUntilCrash = Int(rng.next() % 3)
            _ = try? await r.sync(transport: members[i].transport)
            members[i].transport.pullsUntilCrash = nil
            members[i].replica = nil
            report.replicaCrashes += 1
        case 26 where options.restores:
            // The laptop is backed up: its replica's folder as it is now (no write is under way).
            note("step \(n): \(who)'s laptop is backed up")
            let copy = members[i].home + ".backup"
            try? FileManager.default.removeItem(atPath: copy)
            try FileManager.default.copyItem(atPath: members[i].home, toPath: copy)
            backups[i] = copy
        case 27 where options.restores && backups[i] != nil:
            try restore(i, r, who, step: n)
        case 28 where options.compactions:
            try compact(step: n)
        default:
            try work(i, r, who, step: n)
            // Now and then the edit just made was a mistake: taken back before any sync sends it.
            if options.undo, undoRNG.next() % 100 < 6 { try undo(i, r, who, step: n) }
        }
    }

    /// The laptop is restored from its last backup: what waited on it and is not in the backup
    /// is gone with it (those writes need not reach the hub); what the backup holds comes back,
    /// an edit taken back since included, and must reach the hub, in the log or as a conflict.
    func restore(_ i: Int, _ r: Replica, _ who: String, step n: Int) throws {
        guard let copy = backups[i] else { return }
        note("step \(n): \(who)'s laptop is restored from its backup")
        func pending(_ replica: Replica) throws -> Set<WrittenKey> {
            Set(
                try replica.store.outbox(replica: replica.id, author: replica.user).map {
                    WrittenKey(record: $0.write.record, field: $0.write.field, stamp: $0.write.stamp)
                })
        }
        let now = try pending(r)
        let backedUp = try pending(try Replica(home: copy, clock: clock))
        let kept = Set(backedUp.map(\.made)), gone = Set(now.map(\.made)).subtracting(kept)
        written = written.filter { !gone.contains($0.made) }
        takenBack = takenBack.filter { !kept.contains($0.made) }
        members[i].replica = nil
        try FileManager.default.removeItem(atPath: members[i].home)
        try FileManager.default.copyItem(atPath: copy, toPath: members[i].home)
        report.restores += 1
        // What the laptop holds is the backup's now: a deal held only since is not this file's to explain.
        heldDeals[i] = nil
        try noteHeld(i, try Replica(home: members[i].home, clock: clock))
    }

    /// The operator compacts the log with a retention window of none, one or two hours: what it
    /// prunes is read first (the account of writes keeps it), and a replica not seen within the
    /// window gets `cursor-expired` at its next sync and re-syncs from nothing, keeping its
    /// pending writes.
    func compact(step n: Int) throws {
        var retention = Int64(rng.next() % 3) * 3_600_000
        let engine = hub.engine, store = engine.store
        // Hub processes stamp when they saw a replica by their own clock, the machine's, not the
        // simulation's that this engine compacts by: the window is taken back from the last
        // replica they saw (a run lasts seconds of it, so only a window of none expires any).
        if options.hubExecutable != nil, let latest = try store.replicas().map(\.lastSeenMilliseconds).max() {
            retention -= latest - clock.nowMilliseconds()
        }
        var cursor = try store.logBounds().compactedThrough
        while case let page = try store.log(after: cursor, limit: 10_000), let last = page.last {
            for e in page {
                pruned.insert(WrittenKey(record: e.entry.record, field: e.entry.field, stamp: e.entry.stamp))
                if e.entry.kind == .delete { prunedDeletions.insert(e.entry.record) }
            }
            cursor = last.entry.sequence
        }
        let done = try engine.compact(retention: retention)
        report.compactions += 1
        report.compactedTombstones += done.tombstones
        note("step \(n): operator compacts (retention \(retention) ms): through \(done.watermark), \(done.entries) entries, \(done.tombstones) tombstones")
    }

    /// Takes back the user's last edit if none of it is sent yet (`opps undo`). A write a failed
    /// sync noted (`remember`) and that never left leaves the account of writes with it.
    func undo(_ i: Int, _ r: Replica, _ who: String, step n: Int) throws {
        guard let edit = try r.lastEdit(), edit.entries.allSatisfy({ $0.batch == 0 }) else { return }
        try r.undo(edit)
        for e in edit.entries {
            let key = WrittenKey(record: e.write.record, field: e.write.field, stamp: e.write.stamp)
            written.remove(key)
            takenBack.insert(key)
        }
        report.undone += 1
        note("step \(n): \(who) took back its last edit (\(edit.entries.count) write(s) on \(edit.records.map { String($0.hex.prefix(8)) }.joined(separator: ", ")))")
    }

    /// Notes the deals member `i`'s laptop holds now (`heldDeals`).
    func noteHeld(_ i: Int, _ r: Replica) throws {
        let all = try r.store.allConfirmed(workspace: r.workspace).filter { r.workspace.entity($0.entity)?.stageField != nil }
        heldDeals[i, default: []].formUnion(all.filter { !$0.isDeleted }.map(\.id))
        heldDeals[i]?.subtract(all.filter(\.isDeleted).map(\.id))
    }

    func sync(_ i: Int, _ r: Replica, _ who: String) async throws {
        remember(r)
        report.syncs += 1
        defer { try? noteHeld(i, r) }
        do {
            let s = try await r.sync(transport: members[i].transport)
            // No simulated fault loses the hub's committed state, so a repair means the hub's
            // record of what this replica holds went wrong.
            // A restored laptop knows itself by its file and goes on as a new replica (§5.5):
            // it does not pull under the old id, which would repair.
            // A re-sync from nothing after a compaction passed its cursor is not one.
            if s.diverged { throw fail("\(who) diverged from the hub and had to repair") }
            if s.repaired { report.expiredResyncs += 1 }
            if s.tookNewID { report.newReplicas += 1 }
            note("  \(who) synced: pushed \(s.pushed), pulled \(s.pulled)\(s.repaired ? ", repaired" : "")")
        } catch let e as ReplicaError {
            report.failedSyncs += 1
            note("  \(who) sync failed: \(e)")
        }
    }

    /// Notes every write waiting in the outbox: each must end in the hub's log or a conflict.
    func remember(_ r: Replica) {
        replicaUsers[r.id] = r.user
        guard let pending = try? r.store.outbox(replica: r.id, author: r.user) else { return }
        for e in pending { written.insert(WrittenKey(record: e.write.record, field: e.write.field, stamp: e.write.stamp)) }
    }

    /// One piece of offline work, weighted like a sales day.
    func work(_ i: Int, _ r: Replica, _ who: String, step n: Int) throws {
        let deals = (try? r.store.list(entity: "opportunity", workspace: r.workspace)) ?? []
        func edit(_ id: RecordID, _ changes: [(String, Value)]) {
            report.edits += 1
            do {
                try r.edit(id, changes)
                note("step \(n): \(who) set \(changes.map { "\($0.0)=\($0.1.canonicalText)" }.joined(separator: " ")) on \(id.hex.prefix(8))")
            } catch {
                report.refusedLocally += 1
                note("step \(n): \(who) refused locally: \(error)")
            }
        }
        func create(_ entity: String, _ stage: String?, _ fields: [(String, Value)]) -> RecordID? {
            report.edits += 1
            do {
                let id = try r.create(entity: entity, stage: stage, fields: fields, using: &rng).record
                note("step \(n): \(who) created \(entity) \(id.hex.prefix(8))")
                return id
            } catch {
                report.refusedLocally += 1
                note("step \(n): \(who) could not create \(entity): \(error)")
                return nil
            }
        }
        let amount = Value.decimal(ExactDecimal(units: Int64(rng.next() % 5_000_000), scale: 2))
        switch (r.role, rng.next() % 10) {
        case ("marketing", 0..<4), ("sales", 0..<2):
            guard let account = create("account", nil, [("name", .text("Co \(rng.next() % 100) \(Attacker.marker)"))]) else { return }
            let stage = r.role == "marketing" ? "lead" : "discovery"
            var fields: [(String, Value)] = [("name", .text("Deal \(rng.next() % 1000) \(Attacker.marker)")), ("account", .reference(account))]
            if r.role == "marketing" { fields += [("lead_source", .member(pick(["web", "event", "referral"]))), ("territory", .text(pick(["north", "south"])))] }
            _ = create("opportunity", stage, fields)
        case ("marketing", _) where !deals.isEmpty:
            let d = pick(deals)
            if chance(50) {
                edit(
                    d.id,
                    [
                        ("contact", .reference(RecordID(high: 1, low: rng.next()))), ("qualification", .text("ok")), ("check_need", .boolean(true)),
                        ("check_budget", .boolean(true)), ("check_timing", .boolean(true)), ("check_contact", .boolean(true)),
                    ])
            } else {
                edit(d.id, [("stage", .member("qualified"))])
            }
        case ("sales", 2..<6) where !deals.isEmpty:
            let d = pick(deals)
            edit(
                d.id,
                [
                    pick([
                        ("amount", amount), ("next_step", .text("call \(rng.next() % 9) \(Attacker.marker)")),
                        ("close_date", .date(CivilDate(daysSinceEpoch: Int32(20_500 + rng.next() % 300)))),
                        ("needs", .text("crm")), ("decision_makers", .text("cio")), ("discount", .decimal(ExactDecimal(units: Int64(rng.next() % 2000), scale: 2))),
                    ])
                ])
        case ("sales", 6..<8) where !deals.isEmpty:
            let d = pick(deals)
            if case let .member(s) = d["stage"], let idx = r.workspace.stageIndex(s), idx + 1 < r.workspace.stages.count - 1 {
                edit(d.id, [("stage", .member(r.workspace.stages[idx + 1].name))])
            }
        case ("sales", 8) where !deals.isEmpty:
            // Requests a manager decides: a discount above the threshold, or an expert on the team;
            // now and then one of the rep's own still undecided taken back (§7.1 "Withdrawal"),
            // perhaps while a manager decides it.
            let d = pick(deals)
            let mine = ((try? r.store.list(entity: "approval", workspace: r.workspace)) ?? []).filter(r.mayWithdraw)
            if !mine.isEmpty, chance(25) {
                let a = pick(mine)
                report.edits += 1
                do {
                    _ = try r.withdraw(request: a.id)
                    report.withdrawals += 1
                    note("step \(n): \(who) withdrew \(a.id.hex.prefix(8))")
                } catch {
                    report.refusedLocally += 1
                    note("step \(n): \(who) could not withdraw: \(error)")
                }
            } else if chance(50) {
                edit(d.id, [("discount", .decimal(ExactDecimal(units: Int64(1_100 + rng.next() % 2000), scale: 2)))])
            } else if let member = users.filter({ $0.role == "expert" || $0.role == "success" }).randomElement(using: &rng) {
                _ = create(
                    "membership", nil,
                    [
                        ("opportunity", .reference(d.id)), ("user", .text(member.name)),
                        ("role", .member(member.role == "expert" ? "expert" : "success")), ("state", .member("active")),
                    ])
            }
        case ("sales", 9) where !deals.isEmpty && chance(60):
            // Tasks: one given to an expert or kept, or one of the deal's handed to someone else
            // (an expert's laptop may still hold it as hers: the hub judges her write by whom it
            // is for when it arrives, the relation `assignee`).
            let tasks = ((try? r.store.list(entity: "task", workspace: r.workspace)) ?? []).filter { !$0.isDeleted }
            let whom = pick(users.filter { $0.role == "expert" }.map(\.name) + [r.user])
            if !tasks.isEmpty, chance(40) {
                edit(pick(tasks).id, [("assignee", .text(whom))])
            } else {
                _ = create(
                    "task", nil,
                    [
                        ("opportunity", .reference(pick(deals).id)), ("text", .text("task \(rng.next() % 9) \(Attacker.marker)")), ("assignee", .text(whom)),
                        ("done", .boolean(false)),
                    ])
            }
        case ("expert", _) where !deals.isEmpty:
            // Her tasks (the rep's she may only read: refused on her laptop), or the solution.
            let tasks = ((try? r.store.list(entity: "task", workspace: r.workspace)) ?? []).filter { !$0.isDeleted }
            if !tasks.isEmpty, chance(40) {
                let mine = tasks.filter { $0["assignee"] == .text(r.user) }
                let task = !mine.isEmpty && chance(75) ? pick(mine) : pick(tasks)
                edit(task.id, [pick([("done", .boolean(true)), ("due", .date(CivilDate(daysSinceEpoch: Int32(20_500 + rng.next() % 300))))])])
            } else {
                edit(
                    pick(deals).id,
                    [pick([("solution", .text("design \(rng.next() % 9) \(Attacker.marker)")), ("tech_risk", .member(pick(["low", "medium", "high"])))])])
            }
        case ("success", _) where !deals.isEmpty:
            edit(pick(deals).id, [pick([("health", .member(pick(["green", "yellow", "red"]))), ("next_step", .text("onboard"))])])
        case ("manager", 0..<3) where !deals.isEmpty:
            edit(pick(deals).id, [("amount", amount)])
        case ("manager", 3..<5) where !deals.isEmpty:
            // Reassigned, or now and then cleared: every deal here is made by someone max
            // manages, so a cleared one stays in his sight (I17 lets it through).
            let owner: Value = chance(15) ? .null : .text(pick(users.filter { $0.role == "sales" }.map(\.name) + ["max"]))
            edit(pick(deals).id, [("owner", owner)])
        case ("manager", 5..<7) where !deals.isEmpty:
            let d = pick(deals)
            if let member = users.filter({ $0.role == "expert" || $0.role == "success" }).randomElement(using: &rng) {
                _ = create(
                    "membership", nil,
                    [
                        ("opportunity", .reference(d.id)), ("user", .text(member.name)), ("role", .member(member.role == "expert" ? "expert" : "success")),
                        ("state", .member(chance(80) ? "active" : "removed")),
                    ])
            }
        case ("manager", 7) where !deals.isEmpty && chance(25):
            // A manager deletes a deal made by mistake (merge-semantics.md §7.2): replicas that
            // held it learn of the deletion; writes still in outboxes come back as conflicts.
            let d = pick(deals)
            report.edits += 1
            do {
                try r.delete(d.id)
                note("step \(n): \(who) deleted \(d.id.hex.prefix(8))")
            } catch {
                report.refusedLocally += 1
                note("step \(n): \(who) could not delete: \(error)")
            }
        case ("manager", _) where !deals.isEmpty:
            // Decide a pending approval request (two managers may decide one concurrently), or
            // set a deal's approval state by hand.
            let pending = ((try? r.store.list(entity: "approval", workspace: r.workspace)) ?? []).filter { $0["state"] == .member("pending") }
            if !pending.isEmpty, chance(70) {
                let decision = chance(60) ? "approved" : "rejected"
                edit(pick(pending).id, [("state", .member(decision)), ("note", .text("\(decision) by \(r.user)"))])
            } else {
                edit(pick(deals).id, [("approval_state", .member(pick(["approved", "rejected"])))])
            }
        case (_, _) where !deals.isEmpty:
            // Everyone logs activities on deals they see.
            _ = create(
                "activity", nil,
                [
                    ("opportunity", .reference(pick(deals).id)), ("kind", .member(pick(["call", "visit", "email", "checkin"]))),
                    ("note", .text("met \(rng.next() % 50) \(Attacker.marker)")), ("at", .timestamp(Timestamp(milliseconds: clock.nowMilliseconds()))),
                ])
        default:
            break
        }
    }

    /// Everyone syncs, without faults, until a whole round changes nothing.
    func quiesce() async throws {
        await hub.deliverDelayed(upTo: hub.delayed.count)
        for i in members.indices { members[i].transport = SimulatedTransport(hub: hub, faults: .none, seed: 0) { [weak self] in self?.note($0) } }
        var lastHead: UInt64 = .max
        for round in 0..<6 {
            for i in members.indices {
                guard let r = try await replica(i) else { throw fail("\(members[i].user.name) cannot open or create its replica") }
                remember(r)
                do {
                    let s = try await r.sync(transport: members[i].transport)
                    try noteHeld(i, r)
                    if s.diverged { throw fail("\(members[i].user.name) diverged from the hub and had to repair on a quiet network") }
                    if s.tookNewID { report.newReplicas += 1 }
                } catch let e as SimulationFailure {
                    throw e
                } catch {
                    throw fail("quiescing sync of \(members[i].user.name) failed in round \(round): \(error)")
                }
            }
            let head = try hub.engine.store.head()
            if head == lastHead { return }
            lastHead = head
        }
        throw fail("the hub kept changing after six quiet rounds")
    }

    func check() async throws {
        let store = hub.engine.store
        // Every write is accounted for: in the log, or a conflict record its author can see.
        var logged = pruned
        var deletions = prunedDeletions
        var cursor = try store.logBounds().compactedThrough
        while true {
            let page = try store.log(after: cursor, limit: 10_000)
            if page.isEmpty { break }
            for e in page {
                logged.insert(WrittenKey(record: e.entry.record, field: e.entry.field, stamp: e.entry.stamp))
                if e.entry.kind == .delete { deletions.insert(e.entry.record) }
            }
            cursor = page.last!.entry.sequence
        }
        // I9: a deleted record stays deleted, its tombstone compacted away or not: no write made
        // it again (an older copy's create of it, sent again).
        for id in deletions {
            if let r = try store.record(id, workspace: hub.engine.workspace), !r.isDeleted { throw fail("\(id) was deleted, and is live again") }
            if try store.record(id, workspace: hub.engine.workspace) == nil, try store.compacted([id]).isEmpty {
                throw fail("\(id) was deleted, and its tombstone went without its id being kept")
            }
        }
        var conflicted = Set<WrittenKey>()
        for c in try store.openConflicts(user: nil) { conflicted.insert(WrittenKey(record: c.conflict.record, field: c.conflict.field, stamp: c.conflict.loser.stamp)) }
        // A restored laptop sends a write again under its new replica id (§5.5): the same write,
        // made by the same user at the same hlc.
        func byUser(_ keys: Set<WrittenKey>) -> Set<UserMade> {
            Set(keys.compactMap { k in replicaUsers[k.stamp.replica].map { UserMade(made: k.made, user: $0) } })
        }
        let reached = byUser(logged).union(byUser(conflicted))
        for w in written where !logged.contains(w) && !conflicted.contains(w) {
            if let user = replicaUsers[w.stamp.replica], reached.contains(UserMade(made: w.made, user: user)) { continue }
            throw fail("write \(w.field) on \(w.record) at \(w.stamp) vanished: neither in the log nor a conflict record")
        }
        // What a user took back never left the laptop.
        if let w = takenBack.first(where: { w in replicaUsers[w.stamp.replica].map { reached.contains(UserMade(made: w.made, user: $0)) } ?? false }) {
            throw fail("write \(w.field) on \(w.record) at \(w.stamp) was taken back on the laptop, yet reached the hub")
        }
        report.writes = written.count
        report.conflicts = conflicted.count
        // Sequences are gapless (past what compaction pruned).
        let bounds = try store.logBounds()
        if bounds.head > bounds.compactedThrough, try store.logCount(below: bounds.head) != Int(bounds.head - bounds.compactedThrough) {
            throw fail("the log has gaps between \(bounds.compactedThrough) and \(bounds.head)")
        }
        report.records = try store.recordCount()
        // Every approval request reached the hub whole and is pending or decided by someone.
        let workspace = hub.engine.workspace
        for id in try store.records(visibleTo: VisibilityQuery(user: "", all: true)) {
            guard let a = try store.record(id, workspace: workspace), a.entity == "approval" else { continue }
            report.approvals += 1
            switch a["state"] {
            case .member("pending"): break
            case .member("approved"), .member("rejected"):
                report.decided += 1
                // Decided by nobody: invalid when made, or settled by the hub when its deal's
                // new owner left it no one who could carry it out (§7.1), in the hub's name.
                let settled = a.fields["state"]?.author == BatchDecider.systemAuthor && a["note"].canonicalText.hasPrefix("not applied: ")
                if a["decided_by"].isNull, !a["note"].canonicalText.hasPrefix("invalid request"), !settled { throw fail("approval \(id) decided by nobody") }
            case .member("withdrawn"):
                // Taken back by its creator, who said so, and decided by nobody.
                report.withdrawn += 1
                if a["withdrawn"] != .boolean(true) || a.fields["state"]?.author != a.creator || !a["decided_by"].isNull {
                    throw fail("approval \(id) withdrawn, but not by its creator alone")
                }
            default: throw fail("approval \(id) has no state after quiescing")
            }
        }
        // The model: the hub's records, and what each user may see of them by the core's
        // visibility rule (Workspace.view) — which the hub's SQL must give too.
        var everything = RecordSet()
        for e in workspace.entities {
            for id in try store.liveRecords(entity: e.name) { if let record = try store.record(id, workspace: workspace) { everything.put(record) } }
        }
        let directory = Directory(users: try store.users().map(\.directoryEntry))
        let names = UserNames(try store.users().map(\.name))
        // I17: every live deal is in some enabled user's sight, by the visibility rule itself.
        var seen = Set<RecordID>()
        for u in try store.users() where !u.disabled {
            seen.formUnion(workspace.view(of: everything, for: Actor(user: u.name, role: u.role), directory: directory).keys)
        }
        for r in everything.records.values where !r.isDeleted && workspace.entity(r.entity)?.stageField != nil && !seen.contains(r.id) {
            let stage = workspace.entity(r.entity)?.stageField.map { r[$0].canonicalText } ?? "none"
            throw fail("deal \(r.id) (stage \(stage), owner \(r.owner ?? "none"), creator \(r.creator)) is seen by no enabled user (I17)")
        }
        // Every replica equals the hub's state for exactly the records its user may see.
        for i in members.indices {
            guard let r = try await replica(i) else { continue }
            guard let user = try store.user(named: members[i].user.name) else { continue }
            let expected = Dictionary(uniqueKeysWithValues: try hub.engine.visibleState(for: user).map { ($0.id, $0) })
            let model = workspace.view(of: everything, for: Actor(user: user.name, role: user.role), directory: directory)
            if let extra = Set(expected.keys).subtracting(model.keys).first {
                throw fail("the hub's SQL shows \(user.name) \(extra), which the visibility rule does not")
            }
            if let missing = Set(model.keys).subtracting(expected.keys).first {
                throw fail("the hub's SQL hides \(missing) from \(user.name), which the visibility rule shows")
            }
            if let differing = model.first(where: { expected[$0.key] != $0.value }) {
                throw fail("the hub's SQL shows \(user.name) \(differing.key) otherwise than the visibility rule: \(diff(expected[differing.key]!, differing.value))")
            }
            let all = try r.store.allConfirmed(workspace: r.workspace)
            if try r.store.outboxCount() != 0 { throw fail("\(user.name) still has pending writes after quiescing") }
            // The hub's users' names, as a user field is checked against them on the laptop (protocol 6).
            if let held = try r.userNames(), held.names != names.names || held.digest != names.digest {
                throw fail("\(user.name) holds \(held.names.count) users' names (\(held.digest)), the hub \(names.names.count) (\(names.digest))")
            } else if try r.userNames() == nil {
                throw fail("\(user.name) holds no users' names after quiescing")
            }
            // A tombstone a replica keeps (merge-semantics.md §7.2) must be a deletion the hub has,
            // or one whose tombstone it compacted away (its id kept).
            let compacted = try store.compacted(all.filter(\.isDeleted).map(\.id))
            for t in all where t.isDeleted && !compacted.contains(t.id) {
                // Its author as the user received it: withheld from a role that may read no deal's owner
                // (visibility.md §6), whichever role they had when it came.
                guard let d = try store.record(t.id, workspace: workspace)?.deleted,
                    d == t.deleted
                        || FieldState(value: d.value, stamp: d.stamp, author: Workspace.shown(d.author, to: user.name), authority: d.authority, sequence: d.sequence)
                            == t.deleted
                else {
                    throw fail("\(user.name) keeps \(t.id) as deleted, which the hub has not deleted so")
                }
            }
            let held = all.filter { !$0.isDeleted }
            let heldIDs = Set(held.map(\.id))
            // Nothing shows that the hub never confirmed (sync-protocol.md §6.3): a record made
            // here and deleted before this replica held it, say, an older copy's.
            if let phantom = Set(try r.store.allIDs()).subtracting(all.map(\.id)).first {
                throw fail("\(user.name) shows \(phantom), which the hub never confirmed to it")
            }
            // A deal this laptop held that a sync took off it says why when its id is typed back
            // (`Replica.notHere`), not "no record here has the id".
            for id in (heldDeals[i] ?? []).subtracting(all.map(\.id)).sorted() {
                if case .lookup = try r.notHere(id.description) {
                    throw fail("\(user.name) held deal \(id), which a sync took off its laptop without keeping why (opps show says it never was there)")
                }
            }
            if let extra = heldIDs.subtracting(expected.keys).first { throw fail("\(user.name) (\(user.role)) holds \(extra), which it may not see") }
            if let missing = Set(expected.keys).subtracting(heldIDs).first { throw fail("\(user.name) (\(user.role)) lacks \(missing), which it may see") }
            for record in held where record != expected[record.id] {
                throw fail("\(user.name) differs from the hub on \(record.id): \(diff(record, expected[record.id]!))")
            }
            // Nothing waits: what the user sees is what the hub confirmed (an edit taken back
            // leaves no value of its own in sight).
            for record in held {
                guard let view = try r.store.view(record.id, workspace: r.workspace) else { throw fail("\(user.name) holds \(record.id) but shows nothing of it") }
                let shown = view.fields.mapValues(\.value), confirmed = record.fields.mapValues(\.value)
                if shown != confirmed || view.isDeleted != record.isDeleted {
                    throw fail("\(user.name) shows \(record.id) otherwise than the hub confirmed it, with nothing waiting: \(diff(view, record))")
                }
            }
        }
    }

    func diff(_ a: Record, _ b: Record) -> String {
        var out = [String]()
        for f in Set(a.fields.keys).union(b.fields.keys) where a.fields[f] != b.fields[f] {
            out.append(
                "\(f): \(a.fields[f].map { "\($0.value.canonicalText)#\($0.sequence)" } ?? "-") vs hub \(b.fields[f].map { "\($0.value.canonicalText)#\($0.sequence)" } ?? "-")"
            )
        }
        if a.created != b.created { out.append("creation differs") }
        if a.deleted != b.deleted { out.append("deletion differs") }
        return out.joined(separator: "; ")
    }
}

/// The simulation's wall clock: moves only when the simulation says so, so runs replay.
final class SimulationClock: PhysicalClock, @unchecked Sendable {
    private let lock = NSLock()
    private var ms: Int64
    init(start: Int64) { ms = start }
    func nowMilliseconds() -> Int64 { lock.withLock { ms } }
    func advance(_ delta: Int64) { lock.withLock { ms += delta } }
}
