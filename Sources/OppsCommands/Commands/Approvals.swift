import ArgumentParser
import Foundation
import OppsCommandLine
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

// Approvals and the opportunity team (DOMAIN.md; issue 5 items 2 and 3). A write the user may
// only propose becomes an approval request record on the laptop; an approver decides it with
// `opps approve` / `opps reject`, offline too; the hub applies the decision when it syncs.

/// An approval request as `opps approvals` shows it.
func approvalJSON(_ r: Replica, _ a: Record) throws -> JSON {
    let deal: Record? = if case let .reference(d) = a["opportunity"] { try r.record(d) } else { nil }
    return try JSONValueEncoder.encode(
        ApprovalJSON(
            id: a.id.description, state: approvalState(r, a), kind: a["kind"], opportunity: a["opportunity"], deal: deal?["name"], requested: a["requested"],
            field: a["field"], value: a["value"], requested_by: a.creator, decided_by: a["decided_by"], note: a["note"],
            at: a.created.stamp.hlc.timestamp.description))
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
            `opps approve ID` or `opps reject ID --note TEXT`, offline too; who asked may take a request \
            back before it is decided with `opps withdraw ID`.

            Example: opps approvals --all
            """)

    @Flag(help: "Also list requests decided or withdrawn.") var all = false
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
        let words = home.words(r)
        let say = words.say
        if list.isEmpty {
            // Where the decided ones are, when there are some (they are not listed without --all).
            let decided = all ? 0 : try r.store.list(entity: name, workspace: r.workspace).count { a in approver || a.creator == r.user }
            Console.out((approver ? say.nothingWaits : say.noOpenRequests) + (decided > 0 ? say.decidedElsewhere(decided) : ""))
            return
        }
        let short = try r.shortIDs()
        for a in list {
            let deal: String = if case let .reference(d) = a["opportunity"], let rec = try r.record(d) { rec["name"].canonicalText } else { "?" }
            let state = Replica.withdrawing(a) ? say.withdrawing : a["state"].isNull ? say.requested : words.value(name, "state", a["state"])
            let kind = words.value(name, "kind", a["kind"])
            let head = "\(short(a.id))  \(state.padding(9))  \(kind.padding(8))  \(fit(deal, 24))"
            let asked = r.requested(a, words: words, chinese: say.chinese)
            // Who asked, but not on one's own requests; who decided.
            var people: [String] = []
            if a.creator != r.user { people.append(say.requestedBy(authorName(a.creator, chinese: say.chinese))) }
            if case let .text(d) = a["decided_by"] { people.append(say.decidedBy(authorName(d, chinese: say.chinese))) }
            var who = people.joined(separator: say("; ", "；"))
            if let note = words.note(of: a, chinese: say.chinese) { who += say(" (\(note))", "（\(note)）") }
            // One line when it fits the terminal; else what it asks for and who asked and decided
            // continue under the id.
            let one = head + "  " + asked + (who.isEmpty ? "" : "  " + who)
            if one.displayWidth <= Console.width {
                Console.out(one)
            } else {
                let indent = String(repeating: " ", count: ShortID.length + 2)
                let width = max(20, Console.width - indent.count)
                if (head + "  " + asked).displayWidth <= Console.width {
                    Console.out(head + "  " + asked)
                } else {
                    Console.out(head.trimmingTrailingSpaces)
                    for l in asked.wrapped(width: width) { Console.out(indent + l) }
                }
                if !who.isEmpty { for l in who.wrapped(width: width) { Console.out(indent + l) } }
            }
        }
        // An approver's next step, with the id of the first request still waiting for them.
        if let first = list.first(where: r.awaitsMyDecision) {
            let id = short(first.id)
            Console.out(say.howToDecide(id).wrapped(width: Console.width).joined(separator: "\n"))
        } else if let first = list.first(where: r.mayWithdraw) {
            Console.out(say.howToWithdraw(short(first.id)).wrapped(width: Console.width).joined(separator: "\n"))
        }
    }
}
