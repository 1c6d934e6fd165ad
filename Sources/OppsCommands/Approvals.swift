import ArgumentParser
import OppsConsole
import OppsCore
import OppsReplica

// Approvals and the opportunity team (DOMAIN.md; issue 5 items 2 and 3). A write the user may
// only propose becomes an approval request record on the laptop; an approver decides it with
// `opps approve` / `opps reject`, offline too; the hub applies the decision when it syncs.

/// An approval request as `opps approvals` shows it.
func approvalJSON(_ r: Replica, _ a: Record) throws -> JSON {
    let deal: Record? = if case let .reference(d) = a["opportunity"] { try r.record(d) } else { nil }
    return .object([
        ("id", .string(a.id.description)), ("state", .string(approvalState(r, a))), ("kind", a["kind"].plainJSON),
        ("opportunity", a["opportunity"].plainJSON), ("deal", deal.map { $0["name"].plainJSON } ?? .null),
        ("requested", a["requested"].plainJSON), ("field", a["field"].plainJSON), ("value", a["value"].plainJSON),
        ("requested_by", .string(a.creator)), ("decided_by", a["decided_by"].plainJSON), ("note", a["note"].plainJSON),
        ("at", .string(a.created.stamp.hlc.timestamp.description)),
    ])
}

/// pending / approved / rejected, or `requested` for a request not yet at the hub.
func approvalState(_ r: Replica, _ a: Record) -> String {
    if case let .member(s) = a["state"] { return s }
    return "requested"
}

struct ApprovalsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approvals",
        abstract: "Approval requests: what waits for your decision (approvers) or what you asked for (everyone else).",
        discussion: """
            A discount above the workspace threshold, leaving a stage with an amount above it, a lost deal \
            to confirm, a team change or an owner change you may only propose: each becomes a request \
            (state `requested` until it reaches the hub, then `pending`). Approvers decide with \
            `opps approve ID` or `opps reject ID --note TEXT`, offline too.
            
            Example: opps approvals --all
            """)

    @Flag(help: "Also list decided requests.") var all = false
    @OptionGroup var home: HomeOption
    @Flag(help: "Print a JSON array.") var json = false

    func run() throws {
        let r = try home.open()
        guard let ap = r.workspace.approvals, let name = ap.requests else { throw ReplicaError.invalid("this workspace has no approval requests") }
        let approver = ap.approvers.contains(r.role)
        let list = try r.store.list(entity: name, workspace: r.workspace).filter { a in
            let open = a["state"].isNull || a["state"] == .member("pending")
            return (all || open) && (approver || a.creator == r.user)
        }.sorted { $0.created.stamp < $1.created.stamp }
        if json {
            Console.out(JSON.array(try list.map { try approvalJSON(r, $0) }).compactText)
            return
        }
        if list.isEmpty { Console.out(approver ? "nothing waits for your decision" : "no open requests of yours"); return }
        let short = try r.shortIDs()
        for a in list {
            let deal: String = if case let .reference(d) = a["opportunity"], let rec = try r.record(d) { rec["name"].canonicalText } else { "?" }
            var line = "\(short(a.id))  \(approvalState(r, a).padding(9))  \(a["kind"].canonicalText.padding(8))  \(fit(deal, 24))  \(a["requested"].canonicalText)  by \(a.creator)"
            if case let .text(d) = a["decided_by"] { line += "; decided by \(d)" }
            if case let .text(n) = a["note"] { line += " (\(n))" }
            Console.out(line)
        }
    }
}

/// Decide a request: the shared body of approve and reject.
func decide(_ home: HomeOption, _ id: String, _ decision: String, note: String?, json: Bool) throws {
    let r = try home.open()
    guard let name = r.workspace.approvals?.requests else { throw ReplicaError.invalid("this workspace has no approval requests") }
    let rid = try r.resolveID(id)
    guard let a = try r.record(rid), a.entity == name else { throw ReplicaError.invalid("\(id) is not an approval request (see: opps approvals)") }
    if a["state"].isNull { throw ReplicaError.invalid("request \(id) has not reached the hub yet: sync first") }
    var changes: [(String, Value)] = [("state", .member(decision))]
    if let note { changes.append(("note", .text(note))) }
    let result = try r.edit(rid, changes)
    if json { try report(result, json: true, r); return }
    Console.out("\(decision) \(try r.shortIDs()(a.id)): \(a["requested"].canonicalText) (takes effect at the hub when you sync)")
}

struct ApproveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve", abstract: "Approve a request (approvers; works offline, takes effect at the hub when synced).",
        discussion: "When two approvers decide the same request, the first decision to reach the hub stands; the other is told in opps conflicts.\n\nExample: opps approve kx3m0q2a --note \"ok for Q4\"")
    @Argument(help: "The request: its short id as opps approvals prints it.") var id: String
    @Option(help: "A note for the requester.") var note: String?
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the outcome as JSON.") var json = false

    func run() throws { try decide(home, id, "approved", note: note, json: json) }
}

struct RejectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject", abstract: "Reject a request with a reason (approvers; works offline, takes effect at the hub when synced).", discussion: "Example: opps reject kx3m0q2a --note \"revisit pricing\"")
    @Argument(help: "The request: its short id as opps approvals prints it.") var id: String
    @Option(help: "Why (required): the requester sees it.") var note: String
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the outcome as JSON.") var json = false

    func validate() throws {
        guard !note.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--note must say why") }
    }

    func run() throws { try decide(home, id, "rejected", note: note, json: json) }
}

/// `opps team …`: the people on a deal besides its owner.
struct TeamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "team", abstract: "The opportunity team: list, add or remove experts and success managers.",
        discussion: """
            A manager's change applies at once (pending sync). The owner's is a request a manager \
            approves (opps approvals); once accepted, the member's field ownership follows the \
            matrix and the deal enters their replica at their next sync.
            
            Example: opps team add 7dka36sd eve --role expert
            """,
        subcommands: [List.self, Add.self, Remove.self])

    static func memberships(_ r: Replica, deal: RecordID) throws -> [Record] {
        try r.store.list(entity: "membership", workspace: r.workspace).filter { $0["opportunity"] == .reference(deal) }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a deal's team.", discussion: "Example: opps team list 7dka36sd")
        @Argument(help: "The deal: its short id as opps list prints it, or its exact name.") var id: String
        @OptionGroup var home: HomeOption
        @Flag(help: "Print a JSON array.") var json = false

        func run() throws {
            let r = try home.open()
            let members = try TeamCommand.memberships(r, deal: try dealID(r, id))
            if json {
                Console.out(JSON.array(members.map { m in
                    .object([("id", .string(m.id.description)), ("user", m["user"].plainJSON), ("role", m["role"].plainJSON),
                             ("state", m["state"].isNull ? .string("requested") : m["state"].plainJSON)])
                }).compactText)
                return
            }
            if members.isEmpty { Console.out("no team members"); return }
            let short = try r.shortIDs()
            for m in members {
                Console.out("\(short(m.id))  \(m["user"].canonicalText.padding(12)) \(m["role"].canonicalText.padding(8)) \(m["state"].isNull ? "requested" : m["state"].canonicalText)")
            }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user to a deal's team (the owner requests, a manager approves).", discussion: "Example: opps team add 7dka36sd eve --role expert")
        @Argument(help: "The deal: its short id as opps list prints it, or its exact name.") var id: String
        @Argument(help: "The user to add.") var user: String
        @Option(help: "Their role on the deal: expert or success.") var role: String
        @OptionGroup var home: HomeOption
        @Flag(help: "Print the outcome as JSON.") var json = false

        func validate() throws {
            guard ["expert", "success"].contains(role) else { throw ValidationError("--role must be expert or success") }
        }

        func run() throws {
            let r = try home.open()
            let deal = try dealID(r, id)
            if try TeamCommand.memberships(r, deal: deal).contains(where: { $0["user"] == .text(user) && $0["state"] != .member("removed") }) {
                throw ReplicaError.invalid("\(user) is already on the team (or requested)")
            }
            var rng = SystemRandomNumberGenerator()
            let result = try r.create(entity: "membership", stage: nil, fields: [
                ("opportunity", .reference(deal)), ("user", .text(user)), ("role", .member(role)), ("state", .member("active")),
            ], using: &rng)
            if json { try report(result, json: true, r); return }
            if let req = result.requests.first {
                Console.out("requested: \(user) as \(role) — approval \(try r.shortIDs()(req)) waits for a manager")
            } else {
                Console.out("added \(user) as \(role) (pending sync)")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a user from a deal's team (the owner requests, a manager approves).", discussion: "Example: opps team remove 7dka36sd eve")
        @Argument(help: "The deal: its short id as opps list prints it, or its exact name.") var id: String
        @Argument(help: "The user to remove.") var user: String
        @OptionGroup var home: HomeOption
        @Flag(help: "Print the outcome as JSON.") var json = false

        func run() throws {
            let r = try home.open()
            let deal = try dealID(r, id)
            guard let m = try TeamCommand.memberships(r, deal: deal).first(where: { $0["user"] == .text(user) && $0["state"] == .member("active") }) else {
                throw ReplicaError.invalid("\(user) is not an active member of this deal's team")
            }
            let result = try r.edit(m.id, [("state", .member("removed"))])
            if json { try report(result, json: true, r); return }
            if let req = result.requests.first {
                Console.out("requested: remove \(user) — approval \(try r.shortIDs()(req)) waits for a manager")
            } else {
                Console.out("removed \(user) (pending sync)")
            }
        }
    }
}
