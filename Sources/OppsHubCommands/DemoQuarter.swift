import Foundation
import OppsCore
import OppsHub
import OppsReplica
import OppsStore
import OppsWire
import SwiftProtobuf

/// The demo's quarter (issue 19): a sales team's last 90 days, generated from a seed through the
/// same paths a real team uses. Every user works on a real replica (OppsReplica: local rules,
/// approval requests, outbox) in device time, and syncs with the hub engine every evening, so
/// every rule applies and what the demo shows is also a test that those paths hold.
///
/// Two territories: north (English names, USD/EUR/GBP) and east (Chinese names, CNY/HKD/JPY),
/// three reps and a manager each; a marketer whose leads the hub assigns within the territory;
/// an expert on some deals and a success manager after the win. Deals move through the stages
/// with the gates met, some are won, some lost (a rep's request a manager confirms), some go
/// stale; tasks and next steps fall due today and before; one discount approval waits and one
/// was decided; a rep asked for the expert; two conflicts (a manager's override, and the
/// expert's concurrent edit the owner's won).
public struct DemoQuarter: Sendable {
    public var seed: UInt64
    public var deals: Int
    /// The real now: the quarter ends the day before.
    public var now: Int64
    /// Progress lines in Chinese (the demo's reader reads Chinese).
    public var chinese = false

    public init(seed: UInt64 = 2026, deals: Int = 300, now: Int64) {
        self.seed = seed
        self.deals = deals
        self.now = now
    }

    public static let team: [HubUser] = [
        HubUser(name: "max", role: "manager", team: "north"),
        HubUser(name: "lin", role: "manager", team: "华东"),
        HubUser(name: "sam", role: "sales", team: "north", territory: "north", manager: "max"),
        HubUser(name: "tom", role: "sales", team: "north", territory: "north", manager: "max"),
        HubUser(name: "amy", role: "sales", team: "north", territory: "north", manager: "max"),
        HubUser(name: "wei", role: "sales", team: "华东", territory: "华东", manager: "lin"),
        HubUser(name: "fang", role: "sales", team: "华东", territory: "华东", manager: "lin"),
        HubUser(name: "jun", role: "sales", team: "华东", territory: "华东", manager: "lin"),
        HubUser(name: "mia", role: "marketing", team: "north", manager: "max"),
        HubUser(name: "eve", role: "expert", team: "north", manager: "max"),
        HubUser(name: "sue", role: "success", team: "north", manager: "max"),
    ]

    /// What the quarter made, for the printout and the tests.
    public struct Summary: Sendable {
        public var deals = 0, accounts = 0, contacts = 0, activities = 0, tasks = 0
        public var byStage: [String: Int] = [:]
        public var approvalsPending = 0, approvalsDecided = 0, teamRequests = 0, conflicts = 0
        public var writes = 0
    }

    static let day: Int64 = 86_400_000
    /// Each evening: marketing first (its hand-offs are assigned as they arrive), then the reps,
    /// the expert and success, and the managers last, so each sees the day's requests that evening.
    static let syncOrder = ["mia", "sam", "tom", "amy", "wei", "fang", "jun", "eve", "sue", "max", "lin"]

    // MARK: The story of one deal, planned before anything runs

    enum Step: Sendable {
        case create, lead, handoff, accept
        case move(String)
        case activity(String)
        case task(dueInDays: Int)
        case nextStep(dueInDays: Int)
        case discount(decide: Bool)
        case askExpert, addExpert, loss, confirmLoss
        case overrideAmount, expertEdit, postsale
    }

    struct Action: Sendable {
        var day: Int
        var minute: Int
        var deal: Int
        var step: Step
    }

    struct Plan: Sendable {
        var north: Bool
        var rep: String
        var manager: String
        var account: Int
        var name: String
        /// What is sold: the name is the customer's short name and this.
        var product: String
        var currency: String
        var cents: Int64
        var actions: [Action]
    }

    /// The deals played out by users on replicas; beyond them (`--deals` 100,000) the rest of the
    /// quarter is pushed in bulk through the hub engine, rules applied (`bulk`).
    public var story = 300

    /// Days of the quarter: 0 … 89, day 89 being yesterday.
    static let days = 90

    /// Accounts: two for every three deals, a multiple of six so that deal i and deal i + accounts
    /// (the same account) belong to the same rep.
    static func accounts(_ deals: Int) -> Int { Swift.max(6, deals * 2 / 3 / 6 * 6) }

    func plans(_ rng: inout SplitMix) -> [Plan] {
        let northReps = ["sam", "tom", "amy"], eastReps = ["wei", "fang", "jun"]
        let accounts = Self.accounts(deals)
        let stages = ["discovery", "solution", "proposal", "negotiation"]
        var out = [Plan]()
        for i in 0..<deals {
            let north = i % 2 == 0
            let reps = north ? northReps : eastReps
            let account = (i / 2 * 2 + (north ? 0 : 1)) % accounts
            let currency = north ? ["USD", "USD", "USD", "EUR", "GBP"][rng.int(5)] : ["CNY", "CNY", "CNY", "CNY", "HKD", "JPY"][rng.int(6)]
            let cents = Int64(rng.int(96) + 5) * 500_000 * (currency == "JPY" ? 100 : 1)
            let product = north ? Names.productsEN[rng.int(Names.productsEN.count)] : Names.productsZH[rng.int(Names.productsZH.count)]
            var plan = Plan(
                north: north, rep: reps[i / 2 % 3], manager: north ? "max" : "lin", account: account,
                name: Names.account(account).short + " " + product, product: product, currency: currency, cents: cents, actions: [])
            // Where it ends: a quarter's spread, more early stages than late, a third closed.
            let roll = rng.int(100)
            let target: String =
                switch roll {
                case 0..<18: "discovery"
                case 18..<32: "solution"
                case 32..<44: "proposal"
                case 44..<55: "negotiation"
                case 55..<80: "won"
                default: "lost"
                }
            let fromLead = rng.int(100) < 30
            if i % 25 == 3 {
                // A lead marketing is still working on.
                at(Self.days - 1 - rng.int(6), .lead)
                out.append(plan)
                continue
            }
            if i % 25 == 8 {
                // Handed off and assigned; the rep has not accepted it yet.
                let d = Self.days - 6 - rng.int(4)
                at(d, .lead)
                at(d + 2 + rng.int(3), .handoff)
                out.append(plan)
                continue
            }
            var day = rng.int(Self.days - 35)
            // What would fall after yesterday does not happen: the deal is not that far yet.
            func at(_ d: Int, _ step: Step) { if d < Self.days { plan.actions.append(Action(day: d, minute: 60 + rng.int(540), deal: i, step: step)) } }
            if fromLead {
                at(day, .lead)
                day += 1 + rng.int(4)
                at(day, .handoff)
                day += 1 + rng.int(3)
                at(day, .accept)
            } else {
                at(day, .create)
            }
            let last = target == "lost" ? rng.int(4) : (stages.firstIndex(of: target) ?? 3)
            var stale = false
            for s in 0...Swift.min(last, 3) {
                // A few activities in each stage, then the move on.
                for _ in 0..<(1 + rng.int(2)) {
                    day += 1 + rng.int(4)
                    at(day, .activity(["call", "visit", "email", "meeting", "checkin"][rng.int(5)]))
                }
                let isLast = s == Swift.min(last, 3)
                if isLast && !["won", "lost"].contains(target) { break }
                day += 2 + rng.int(6)
                if s < 3 && !(isLast && target == "lost") { at(day, .move(stages[s + 1])) }
            }
            if target == "won" {
                day += 2 + rng.int(5)
                at(day, .move("won"))
                if rng.int(3) == 0 { at(day + 2, .postsale) }
            } else if target == "lost" {
                day += 2 + rng.int(5)
                at(day, .loss)
                at(day + 1 + rng.int(2), .confirmLoss)
            } else {
                stale = rng.int(100) < 12
                // Open deals: a next step falling due around today; some a task too.
                if !stale {
                    at(Self.days - 2 - rng.int(10), .activity(["call", "email", "meeting"][rng.int(3)]))
                    at(Self.days - 1 - rng.int(3), .nextStep(dueInDays: rng.int(14) - 4))
                    if rng.int(4) == 0 { at(Self.days - 1 - rng.int(3), .task(dueInDays: rng.int(5) - 3)) }
                }
            }
            // Stale deals stop: nothing after an early point in the quarter.
            if stale { plan.actions = plan.actions.filter { $0.day < Self.days - 20 } }
            out.append(plan)
        }
        // The handful of scenes every picture needs, on deals with the right shape.
        // An open deal of the territory that reached `stage` (or later) before the scene's day and
        // has no scene yet.
        var used = Set<Int>()
        func open(_ stage: String, north: Bool, before sceneDay: Int, rep: String? = nil) -> Int? {
            let want = stages.firstIndex(of: stage)!
            let found = out.indices.first { i in
                // A scene for a given rep: a deal they made themselves (the hub assigns leads).
                if let rep, out[i].rep != rep || !out[i].actions.contains(where: { if case .create = $0.step { true } else { false } }) { return false }
                guard out[i].north == north, !used.contains(i), out[i].actions.contains(where: { if case .nextStep = $0.step { true } else { false } }) else {
                    return false
                }
                var reached = -1
                for a in out[i].actions {
                    switch a.step {
                    case let .move(s):
                        guard a.day < sceneDay - 1, let k = stages.firstIndex(of: s) else { return false }
                        reached = Swift.max(reached, k)
                    case .create, .accept:
                        guard a.day < sceneDay - 1 else { return false }
                        reached = Swift.max(reached, 0)
                    default:
                        break
                    }
                }
                return reached >= want
            }
            if let found { used.insert(found) }
            return found
        }
        let end = Self.days - 1
        /// The latest of these stages a deal of the territory reached in time.
        func open(_ stages: [String], north: Bool, before day: Int, rep: String? = nil) -> Int? {
            for s in stages { if let d = open(s, north: north, before: day, rep: rep) { return d } }
            return rep == nil ? nil : open(stages, north: north, before: day)
        }
        if let d = open(["negotiation", "proposal", "solution", "discovery"], north: true, before: end - 6, rep: "sam") {
            out[d].actions.append(Action(day: end - 6, minute: 300, deal: d, step: .discount(decide: true)))
        }
        if let d = open(["negotiation", "proposal", "solution", "discovery"], north: false, before: end - 1) {
            out[d].actions.append(Action(day: end - 1, minute: 300, deal: d, step: .discount(decide: false)))
        }
        if let d = open(["solution", "proposal", "negotiation", "discovery"], north: true, before: end - 20, rep: "sam") {
            out[d].actions.append(Action(day: end - 20, minute: 200, deal: d, step: .addExpert))
            out[d].actions.append(Action(day: end - 3, minute: 400, deal: d, step: .expertEdit))
        }
        if let d = open(["proposal", "discovery", "solution", "negotiation"], north: true, before: end - 2) {
            out[d].actions.append(Action(day: end - 2, minute: 500, deal: d, step: .askExpert))
        }
        if let d = open(["proposal", "solution", "negotiation"], north: true, before: end - 4, rep: "sam") {
            out[d].actions.append(Action(day: end - 4, minute: 420, deal: d, step: .overrideAmount))
        }
        return out
    }

    // MARK: Running it

    /// Creates the quarter in an initialised, empty hub store: users added by the caller (their
    /// tokens in `tokens`). `progress` hears a line per simulated week.
    public func run(
        store: any HubStorage, configuration: HubConfiguration, tokens: [String: String],
        progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> Summary {
        var rng = SplitMix(seed)
        let clock = DemoClock(now - Int64(Self.days) * Self.day)
        var config = configuration
        config.clock = clock
        let engine = try HubEngine(store: store, configuration: config)
        let transport = EngineTransport(engine: engine)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("opps-demo-\(seed)-\(UInt64.random(in: 0...UInt64.max))").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var replicas = [String: Replica]()
        for (i, user) in Self.team.enumerated() {
            var idRNG = SplitMix(seed &+ UInt64(i + 1) &* 0x9E37_79B9_7F4A_7C15)
            replicas[user.name] = try await Replica.create(
                home: scratch + "/" + user.name, hubURL: "demo", token: tokens[user.name]!, transport: transport,
                clock: clock, id: ReplicaID.random(using: &idRNG))
        }
        let plans = DemoQuarter(seed: seed, deals: Swift.min(deals, story), now: now).plans(&rng)
        var summary = Summary()
        var dealIDs = [Int: RecordID]()
        var accountIDs = [Int: RecordID]()
        var contactIDs = [Int: RecordID]()
        let accounts = Self.accounts(deals)
        let start = now - Int64(Self.days) * Self.day
        // The quarter's first day at 00:00 UTC.
        let day0 = start - start % Self.day
        let today = CivilDate(daysSinceEpoch: Int32(now / Self.day))
        var byDay = [[Action]](repeating: [], count: Self.days)
        for p in plans { for a in p.actions { byDay[a.day].append(a) } }
        var conflictsSeen = 0
        // Decisions due on a later day, and loss requests by deal (filled as the quarter runs).
        var pendingDecisions = [(Int, String, RecordID, String, String)]()
        var lossRequests = [Int: RecordID]()
        var nextAccount = accounts

        /// The customer a deal is made for, and the name of the deal: the customer's short name
        /// and the product (a customer of the user's own stands in for one they cannot see).
        func account(_ wanted: Int, _ r: Replica, product: String) throws -> (id: RecordID, deal: String) {
            if let id = accountIDs[wanted], try r.record(id) != nil { return (id, Names.account(wanted).short + " " + product) }
            // Made by someone this user does not share it with: a customer of their own instead.
            var n = wanted
            if accountIDs[n] != nil {
                n = nextAccount + (wanted % 2 == nextAccount % 2 ? 0 : 1)
                nextAccount = n + 1
            }
            let name = Names.account(n)
            let id = try r.create(
                entity: "account", stage: nil,
                fields: [
                    ("name", .text(name.full)), ("industry", .text(name.industry)),
                    ("territory", .text(n % 2 == 0 ? "north" : "华东")),
                ], using: &rng
            ).record
            accountIDs[n] = id
            summary.accounts += 1
            return (id, name.short + " " + product)
        }
        func contact(_ n: Int, account: RecordID, _ r: Replica) throws -> RecordID {
            if let id = contactIDs[n], try r.record(id) != nil { return id }
            let person = Names.person(summary.contacts, chinese: n % 2 == 1)
            let id = try r.create(
                entity: "contact", stage: nil,
                fields: [
                    ("name", .text(person.name)), ("account", .reference(account)),
                    ("title", .text(person.title)), ("phone", .text(person.phone)),
                ], using: &rng
            ).record
            contactIDs[n] = id
            summary.contacts += 1
            return id
        }
        func owner(_ deal: RecordID) throws -> String? { try store.record(deal, workspace: engine.workspace)?.owner }
        func text(_ plan: Plan, _ en: [String], _ zh: [String]) -> String { plan.north ? en[rng.int(en.count)] : zh[rng.int(zh.count)] }

        for d in 0..<Self.days {
            let actions = byDay[d].sorted { ($0.minute, $0.deal) < ($1.minute, $1.deal) }
            var acted = Set<String>()
            for a in actions {
                clock.now = day0 + Int64(d) * Self.day + Int64(a.minute) * 60_000
                let plan = plans[a.deal]
                let deal = dealIDs[a.deal]
                let rep = try deal.flatMap(owner) ?? plan.rep
                let dueDate = { (n: Int) in Value.date(CivilDate(daysSinceEpoch: today.daysSinceEpoch + Int32(n))) }
                var who = rep
                do {
                    switch a.step {
                    case .create:
                        let r = replicas[rep]!
                        let (acc, name) = try account(plan.account, r, product: plan.product)
                        let person = try contact(plan.account, account: acc, r)
                        let id = try r.create(
                            entity: "opportunity", stage: "discovery",
                            fields: [
                                ("name", .text(name)), ("account", .reference(acc)), ("contact", .reference(person)), ("currency", .member(plan.currency)),
                            ], using: &rng
                        ).record
                        dealIDs[a.deal] = id
                        summary.deals += 1
                    case .lead:
                        who = "mia"
                        let r = replicas["mia"]!
                        let (acc, name) = try account(plan.account, r, product: plan.product)
                        let person = try contact(plan.account, account: acc, r)
                        let id = try r.create(
                            entity: "opportunity", stage: "lead",
                            fields: [
                                ("name", .text(name)), ("account", .reference(acc)), ("contact", .reference(person)),
                                ("lead_source", .member(["web", "event", "referral", "campaign", "partner"][rng.int(5)])),
                                ("territory", .text(plan.north ? "north" : "华东")),
                            ], using: &rng
                        ).record
                        dealIDs[a.deal] = id
                        summary.deals += 1
                    case .handoff:
                        who = "mia"
                        guard let deal else { continue }
                        _ = try replicas["mia"]!.edit(
                            deal,
                            [
                                ("qualification", .text(text(plan, Names.qualificationEN, Names.qualificationZH))),
                                ("check_need", .boolean(true)), ("check_budget", .boolean(true)), ("check_timing", .boolean(true)),
                                ("check_contact", .boolean(true)),
                            ])
                        _ = try replicas["mia"]!.edit(deal, [("stage", .member("qualified"))])
                    case .accept:
                        guard let deal, let r = replicas[rep] else { continue }
                        _ = try r.edit(deal, [("stage", .member("discovery"))])
                    case let .move(stage):
                        guard let deal, let r = replicas[rep] else { continue }
                        var fields: [(String, Value)] = []
                        switch stage {
                        case "solution":
                            fields = [
                                ("needs", .text(text(plan, Names.needsEN, Names.needsZH))), ("decision_makers", .text(text(plan, Names.decidersEN, Names.decidersZH))),
                                ("amount", .decimal(ExactDecimal(units: plan.cents, scale: 2))), ("currency", .member(plan.currency)),
                                ("close_date", dueDate(20 + rng.int(60))),
                            ]
                        case "proposal":
                            fields = [
                                ("solution", .text(text(plan, Names.solutionEN, Names.solutionZH))),
                                ("tech_risk", .member(["low", "low", "medium", "high"][rng.int(4)])),
                            ]
                        case "negotiation":
                            fields = [("quote_terms", .text(text(plan, Names.termsEN, Names.termsZH)))]
                        case "won":
                            fields = [("close_date", .date(CivilDate(daysSinceEpoch: Int32(clock.now / Self.day))))]
                        default: break
                        }
                        if !fields.isEmpty { _ = try r.edit(deal, fields) }
                        _ = try r.edit(deal, [("stage", .member(stage))])
                    case let .activity(kind):
                        guard let deal, let r = replicas[rep] else { continue }
                        _ = try r.create(
                            entity: "activity", stage: nil,
                            fields: [
                                ("opportunity", .reference(deal)), ("kind", .member(kind)), ("at", .timestamp(Timestamp(milliseconds: clock.now))),
                                ("note", .text(text(plan, Names.notesEN, Names.notesZH))),
                            ] + (kind == "visit" || kind == "checkin" ? [("place", .text(plan.north ? "customer HQ" : "客户总部"))] : []), using: &rng)
                        summary.activities += 1
                    case let .nextStep(due):
                        guard let deal, let r = replicas[rep] else { continue }
                        _ = try r.edit(deal, [("next_step", .text(text(plan, Names.nextEN, Names.nextZH))), ("next_step_due", dueDate(due))])
                    case let .task(due):
                        guard let deal, let r = replicas[rep] else { continue }
                        _ = try r.create(
                            entity: "task", stage: nil,
                            fields: [
                                ("opportunity", .reference(deal)), ("text", .text(text(plan, Names.tasksEN, Names.tasksZH))), ("due", dueDate(due)),
                                ("assignee", .text(rep)), ("done", .boolean(false)),
                            ], using: &rng)
                        summary.tasks += 1
                    case let .discount(decide):
                        guard let deal, let r = replicas[rep] else { continue }
                        let result = try r.edit(deal, [("discount", .decimal(ExactDecimal(units: 1500, scale: 2)))])
                        if decide, let request = result.requests.first {
                            // The manager decides two days later (after both syncs).
                            pendingDecisions.append((d + 2, plan.manager, request, "approved", plan.north ? "ok for this quarter" : "同意，本季度内有效"))
                        } else if !result.requests.isEmpty {
                            summary.approvalsPending += 1
                        }
                    case .askExpert:
                        guard let deal, let r = replicas[rep] else { continue }
                        _ = try r.create(
                            entity: "membership", stage: nil,
                            fields: [
                                ("opportunity", .reference(deal)), ("user", .text("eve")), ("role", .member("expert")), ("state", .member("active")),
                            ], using: &rng)
                        summary.teamRequests += 1
                    case .addExpert:
                        who = plan.manager
                        guard let deal, let r = replicas[plan.manager] else { continue }
                        _ = try r.create(
                            entity: "membership", stage: nil,
                            fields: [
                                ("opportunity", .reference(deal)), ("user", .text("eve")), ("role", .member("expert")), ("state", .member("active")),
                            ], using: &rng)
                    case .loss:
                        guard let deal, let r = replicas[rep] else { continue }
                        let reason = ["price", "competitor", "no_budget", "no_decision", "timing", "product_fit"][rng.int(6)]
                        let result = try r.edit(deal, [("loss_reason", .member(reason)), ("stage", .member("lost"))])
                        if let request = result.requests.first {
                            lossRequests[a.deal] = request
                        }
                    case .confirmLoss:
                        who = plan.manager
                        guard let request = lossRequests[a.deal], let r = replicas[plan.manager], try r.record(request) != nil else { continue }
                        _ = try r.edit(request, [("state", .member("approved"))])
                    case .overrideAmount:
                        // The rep and the manager change the amount the same morning; the manager
                        // syncs first, and the override wins: the rep finds a conflict.
                        guard let deal, let r = replicas[rep], let m = replicas[plan.manager] else { continue }
                        _ = try r.edit(deal, [("amount", .decimal(ExactDecimal(units: plan.cents + 1_000_000, scale: 2)))])
                        _ = try m.edit(deal, [("amount", .decimal(ExactDecimal(units: plan.cents - 500_000, scale: 2)))])
                        _ = try await m.sync(transport: transport)
                        acted.insert(plan.manager)
                    case .expertEdit:
                        // The owner gives the expert a task, and both sync. The owner brings it
                        // forward a day; the expert, working from yesterday's copy, moves it back:
                        // the owner made it, and the owner's stands. (An expert writes the tasks
                        // assigned to her: DOMAIN.md's next-step row.)
                        guard let deal, let r = replicas[rep], let e = replicas["eve"] else { continue }
                        let task = try r.create(
                            entity: "task", stage: nil,
                            fields: [
                                ("opportunity", .reference(deal)), ("text", .text("Review the architecture before the quote")), ("due", dueDate(3)),
                                ("assignee", .text("eve")), ("done", .boolean(false)),
                            ], using: &rng
                        ).record
                        _ = try await r.sync(transport: transport)
                        _ = try await e.sync(transport: transport)
                        _ = try r.edit(task, [("due", dueDate(2))])
                        _ = try await r.sync(transport: transport)
                        _ = try e.edit(task, [("due", dueDate(5))])
                        who = "eve"
                    case .postsale:
                        who = "sue"
                        guard let deal, let r = replicas["sue"], try r.record(deal) != nil else { continue }
                        // Taken on, its first renewal two months on (a pilot's term): the
                        // quarter's earlier deals' renewals come up on sue's last day.
                        let renews = CivilDate(daysSinceEpoch: Int32(clock.now / Self.day) + 60)
                        _ = try r.edit(
                            deal, [("onboarding", .text("sue")), ("health", .member(["green", "green", "yellow"][rng.int(3)])), ("renewal_date", .date(renews))])
                    }
                } catch let e as ReplicaError {
                    // A refusal is what a real user would see; the demo's story avoids them, and
                    // one that happens anyway is reported, not hidden.
                    progress("  day \(d + 1): \(who) could not \(a.step): \(e)")
                }
                acted.insert(who)
            }
            for (due, manager, request, decision, note) in pendingDecisions where due == d {
                clock.now = day0 + Int64(d) * Self.day + 11 * 3_600_000
                if let r = replicas[manager], try r.record(request) != nil {
                    _ = try r.edit(request, [("state", .member(decision)), ("note", .text(note))])
                    summary.approvalsDecided += 1
                    acted.insert(manager)
                }
            }
            // Everyone syncs in the evening: what one did today, the others see tomorrow.
            clock.now = day0 + Int64(d) * Self.day + 13 * 3_600_000
            for user in Self.syncOrder {
                let report = try await replicas[user]!.sync(transport: transport)
                conflictsSeen += report.conflicts
                summary.writes += report.pushed
            }
            if d % 7 == 6 || d == Self.days - 1 {
                progress(
                    chinese
                        ? "  第 \(d / 7 + 1) 周：\(grouped(summary.deals)) 个商机，\(grouped(summary.writes)) 次写入"
                        : "  week \(d / 7 + 1): \(grouped(summary.deals)) deals, \(grouped(summary.writes)) writes")
            }
        }
        summary.conflicts = conflictsSeen
        for plan in plans.indices {
            guard let id = dealIDs[plan], let record = try store.record(id, workspace: engine.workspace), case let .member(s) = record["stage"] else { continue }
            summary.byStage[s, default: 0] += 1
        }
        if deals > story {
            clock.now = now
            try bulk(engine: engine, day0: day0, summary: &summary, rng: &rng, firstAccount: nextAccount + 2, progress: progress)
        }
        return summary
    }

    /// The rest of a big quarter: each rep's deals as batches of writes pushed through the hub
    /// engine — decided by the same rules as any push, in device time — without a replica per
    /// user (a replica would apply every write again). Deals move through the gates; lost ones
    /// are closed by their manager; open ones carry a next step.
    func bulk(
        engine: HubEngine, day0: Int64, summary: inout Summary, rng: inout SplitMix, firstAccount: Int,
        progress: @Sendable (String) -> Void
    ) throws {
        let ws = engine.workspace
        var sessions = [String: (user: HubUser, replica: ReplicaID, batch: UInt64)]()
        for name in Self.team.map(\.name) {
            guard let user = try engine.store.user(named: name) else { continue }
            let replica = ReplicaID.random(using: &rng)
            var h = HandshakeRequest()
            h.minVersion = ProtocolVersion.minimum
            h.maxVersion = ProtocolVersion.current
            h.replica = Data(replica.bytes)
            _ = try engine.handshake(user: user, request: h)
            sessions[name] = (user, replica, 0)
        }
        var pending = [String: [FieldWrite]]()
        var rejected = 0
        // Deals their manager closes as lost once the rep's writes are in: the close is written on
        // top of the stage the hub sequenced (a base another replica's stamp cannot name).
        var losses = [(deal: RecordID, reason: String, manager: String, at: Int64)]()
        func flush() throws {
            try push(Self.syncOrder)
            for loss in losses {
                guard let record = try engine.store.record(loss.deal, workspace: ws), let state = record.fields["stage"], let session = sessions[loss.manager] else {
                    continue
                }
                let stamp = { (k: Int64) in Stamp(hlc: HLC(milliseconds: loss.at + k, counter: 0), replica: session.replica) }
                pending[loss.manager, default: []] += [
                    FieldWrite(record: loss.deal, entity: "opportunity", field: "loss_reason", value: .member(loss.reason), author: loss.manager, stamp: stamp(1)),
                    FieldWrite(
                        record: loss.deal, entity: "opportunity", field: "stage", value: .member("lost"), base: .sequence(state.sequence), author: loss.manager,
                        stamp: stamp(2)),
                ]
            }
            losses = []
            try push(["max", "lin"])
        }
        func push(_ users: [String]) throws {
            var group = [(user: HubUser, request: PushRequest, received: [UInt8]?)]()
            for name in users {
                guard var writes = pending[name], !writes.isEmpty, var session = sessions[name] else { continue }
                while !writes.isEmpty {
                    let chunk = Array(writes.prefix(4000))
                    writes.removeFirst(chunk.count)
                    session.batch += 1
                    group.append((session.user, try BatchCoding.encode(chunk, replica: session.replica, batch: session.batch, workspace: ws), nil))
                }
                sessions[name] = session
                pending[name] = []
            }
            for result in engine.push(group: group) {
                let (response, _) = try result.get()
                for r in response.results where r.outcome == .rejected || r.outcome == .lost {
                    rejected += 1
                    if rejected <= 3 { progress("  bulk: a write was refused (\(r.rule)): \(r.detail)") }
                }
                summary.writes += response.results.count
            }
        }
        let north = ["sam", "tom", "amy"], east = ["wei", "fang", "jun"]
        let stages = ["discovery", "solution", "proposal", "negotiation"]
        let today = CivilDate(daysSinceEpoch: Int32(now / Self.day))
        for i in story..<deals {
            let isNorth = i % 2 == 0
            let rep = (isNorth ? north : east)[i / 2 % 3], manager = isNorth ? "max" : "lin"
            let replica = sessions[rep]!.replica
            let counter = UInt16(truncatingIfNeeded: i)
            var t = day0 + Int64(rng.int(Self.days - 30)) * Self.day + Int64(60 + rng.int(540)) * 60_000
            var step: Int64 = 0
            func stamp(_ r: ReplicaID) -> Stamp { step += 1; return Stamp(hlc: HLC(milliseconds: t + step, counter: counter), replica: r) }
            var writes = [FieldWrite]()
            var last = [String: Stamp]()
            func set(_ record: RecordID, _ entity: String, _ field: String, _ value: Value) -> FieldWrite {
                let s = stamp(replica)
                let key = "\(record)/\(field)"
                let w = FieldWrite(record: record, entity: entity, field: field, value: value, base: last[key].map(Base.stamp) ?? .none, author: rep, stamp: s)
                last[key] = s
                return w
            }
            func create(_ entity: String, _ stage: String? = nil) -> RecordID {
                let id = UUID128.version7(milliseconds: t, using: &rng)
                let s = stamp(replica)
                writes.append(FieldWrite(record: id, entity: entity, kind: .create, value: stage.map(Value.member) ?? .null, author: rep, stamp: s))
                // The creation sets the first stage with its own stamp: a later stage change is
                // made on top of it, as `opps` makes it. Without a base it was concurrent with the
                // creation, and each deal moved on left its rep a conflict against themselves
                // (13,392 of them for sam in a 100,000-deal demo).
                if stage != nil { last["\(id)/stage"] = s }
                return id
            }
            let n = firstAccount + (i - story) * 2 + (isNorth ? 0 : 1)
            let name = Names.account(n)
            let account = create("account")
            writes += [set(account, "account", "name", .text(name.full)), set(account, "account", "industry", .text(name.industry))]
            let person = Names.person(summary.contacts, chinese: !isNorth)
            let contact = create("contact")
            writes += [
                set(contact, "contact", "name", .text(person.name)), set(contact, "contact", "account", .reference(account)),
                set(contact, "contact", "phone", .text(person.phone)),
            ]
            let currency = isNorth ? ["USD", "USD", "EUR", "GBP"][rng.int(4)] : ["CNY", "CNY", "CNY", "HKD"][rng.int(4)]
            let product = isNorth ? Names.productsEN[rng.int(Names.productsEN.count)] : Names.productsZH[rng.int(Names.productsZH.count)]
            let deal = create("opportunity", "discovery")
            writes += [
                set(deal, "opportunity", "name", .text(name.short + " " + product)), set(deal, "opportunity", "account", .reference(account)),
                set(deal, "opportunity", "contact", .reference(contact)), set(deal, "opportunity", "currency", .member(currency)),
            ]
            summary.accounts += 1
            summary.contacts += 1
            summary.deals += 1
            let target = rng.int(100)
            let reach = target < 20 ? 0 : target < 35 ? 1 : target < 48 ? 2 : 3
            let close = target >= 60  // won 60–84, lost 85–99
            var stage = "discovery"
            func text(_ en: [String], _ zh: [String]) -> Value { .text(isNorth ? en[rng.int(en.count)] : zh[rng.int(zh.count)]) }
            for s in 0...reach {
                for _ in 0..<(1 + rng.int(2)) {
                    t += Int64(1 + rng.int(4)) * Self.day
                    guard t < now - Self.day else { break }
                    let a = create("activity")
                    writes += [
                        set(a, "activity", "opportunity", .reference(deal)),
                        set(a, "activity", "kind", .member(["call", "visit", "email", "meeting", "checkin"][rng.int(5)])),
                        set(a, "activity", "at", .timestamp(Timestamp(milliseconds: t))), set(a, "activity", "note", text(Names.notesEN, Names.notesZH)),
                    ]
                    summary.activities += 1
                }
                guard s < reach || close else { break }
                t += Int64(2 + rng.int(6)) * Self.day
                guard t < now - Self.day, s < 3 || close else { break }
                switch stages[s] {
                case "discovery":
                    writes += [
                        set(deal, "opportunity", "needs", text(Names.needsEN, Names.needsZH)),
                        set(deal, "opportunity", "decision_makers", text(Names.decidersEN, Names.decidersZH)),
                        set(deal, "opportunity", "amount", .decimal(ExactDecimal(units: Int64(rng.int(96) + 5) * 500_000, scale: 2))),
                        set(deal, "opportunity", "close_date", .date(CivilDate(daysSinceEpoch: today.daysSinceEpoch + Int32(20 + rng.int(60))))),
                    ]
                case "solution":
                    writes += [
                        set(deal, "opportunity", "solution", text(Names.solutionEN, Names.solutionZH)),
                        set(deal, "opportunity", "tech_risk", .member(["low", "medium", "high"][rng.int(3)])),
                    ]
                case "proposal":
                    writes += [set(deal, "opportunity", "quote_terms", text(Names.termsEN, Names.termsZH))]
                default:
                    break
                }
                if s < 3 {
                    stage = stages[s + 1]
                    writes.append(set(deal, "opportunity", "stage", .member(stage)))
                }
            }
            // A step that would fall after yesterday did not happen; what follows is yesterday's.
            t = Swift.min(t, now - Self.day)
            if close, t < now - 2 * Self.day, stage == "negotiation" || target >= 85 {
                t = Swift.min(t + Int64(1 + rng.int(3)) * Self.day, now - Self.day)
                if target < 85 {
                    writes += [
                        set(deal, "opportunity", "close_date", .date(CivilDate(daysSinceEpoch: Int32(t / Self.day)))), set(deal, "opportunity", "stage", .member("won")),
                    ]
                    stage = "won"
                } else {
                    // The manager closes it as lost, with the reason (a rep's loss is a request).
                    losses.append((deal, ["price", "competitor", "no_budget", "no_decision", "timing"][rng.int(5)], manager, t))
                    stage = "lost"
                }
            } else if stage != "won" {
                writes += [
                    set(deal, "opportunity", "next_step", text(Names.nextEN, Names.nextZH)),
                    set(deal, "opportunity", "next_step_due", .date(CivilDate(daysSinceEpoch: today.daysSinceEpoch + Int32(rng.int(14) - 4)))),
                ]
            }
            summary.byStage[stage, default: 0] += 1
            pending[rep, default: []] += writes
            if (pending[rep]?.count ?? 0) >= 2000 { try flush() }
            if (i - story + 1) % 10_000 == 0 {
                progress(
                    chinese
                        ? "  批量：\(grouped(deals)) 个商机中的 \(grouped(i + 1)) 个，\(grouped(summary.writes)) 次写入"
                        : "  bulk: \(grouped(i + 1)) of \(grouped(deals)) deals, \(grouped(summary.writes)) writes")
            }
        }
        try flush()
        if rejected > 0 { progress(chinese ? "  批量：\(grouped(rejected)) 次写入被拒绝" : "  bulk: \(grouped(rejected)) writes refused") }
    }

}

/// The demo's device and hub clock: set by the quarter as it moves through the days.
final class DemoClock: PhysicalClock, @unchecked Sendable {
    var now: Int64
    init(_ now: Int64) { self.now = now }
    func nowMilliseconds() -> Int64 { now }
}

/// The protocol in-process (`HubEngine.answer`), statuses from the error's own mapping.
final class EngineTransport: Transport, @unchecked Sendable {
    let engine: HubEngine
    init(engine: HubEngine) { self.engine = engine }

    func send<Out: SwiftProtobuf.Message>(_ endpoint: String, body: [UInt8], token: String, as: Out.Type) async throws(TransportError) -> Out {
        switch engine.answer(endpoint, body, token: token) {
        case let .success(reply):
            do { return try BodyCodec.decode(Out.self, from: reply, as: .protobuf) } catch { throw .unreachable("undecodable answer: \(error)") }
        case let .failure(e):
            throw .refused(status: e.code.httpStatus, e)
        }
    }
}

/// A small seeded generator (SplitMix64): the same seed makes the same quarter.
struct SplitMix: RandomNumberGenerator, Sendable {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
