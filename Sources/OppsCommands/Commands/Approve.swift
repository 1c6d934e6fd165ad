import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// Decide a request: the shared body of approve and reject.
func decide(_ home: HomeOption, _ id: String, _ decision: String, note: String?, json: Bool) throws {
    let r = try home.open()
    guard r.workspace.approvals?.requests != nil else { throw ReplicaError.invalid("this workspace has no approval requests") }
    let (result, a) = try r.decide(request: try r.resolveID(id), decision, note: note)
    if json { try report(result, json: true, r, words: home.words(r)); return }
    let words = home.words(r)
    // What was asked, in the reader's words (折扣 → 15.00), as opps approvals shows it.
    Console.out(words.say.decided(decision, try r.shortIDs()(a.id), r.requested(a, words: words, chinese: words.say.chinese)))
}

struct ApproveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve", abstract: "Approve a request (approvers; works offline, takes effect at the hub when synced).",
        discussion:
            "When two approvers decide the same request, the first decision to reach the hub stands; the other is told in opps conflicts.\n\nExample: opps approve kx3m0q2a --note \"ok for Q4\""
    )
    @Argument(help: "The request: its short id as opps approvals prints it.") var id: String
    @Option(help: "A note for the requester.") var note: String?
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the outcome as JSON.") var json = false

    func run() throws { try decide(home, id, "approved", note: note, json: json) }
}

struct RejectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject", abstract: "Reject a request with a reason (approvers; works offline, takes effect at the hub when synced).",
        discussion: "Example: opps reject kx3m0q2a --note \"revisit pricing\"")
    @Argument(help: "The request: its short id as opps approvals prints it.") var id: String
    @Option(help: "Why (required): the requester sees it.") var note: String
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the outcome as JSON.") var json = false

    func validate() throws {
        guard !note.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError(home.say("--note must say why", "--note 必须写明驳回的原因")) }
    }

    func run() throws { try decide(home, id, "rejected", note: note, json: json) }
}

struct WithdrawCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "withdraw", abstract: "Take back your own request before it is decided (works offline, takes effect at the hub when synced).",
        discussion: """
            The request's deal is unlocked again at the hub, and an approver who decides it after that is told in \
            opps conflicts. A request decided already cannot be withdrawn: make a new one instead.

            Example: opps withdraw kx3m0q2a
            """)
    @Argument(help: "The request: its short id as opps approvals prints it.") var id: String
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the outcome as JSON.") var json = false

    func run() throws {
        let r = try home.open()
        let (result, a) = try r.withdraw(request: try r.resolveID(id))
        let words = home.words(r)
        if json { try report(result, json: true, r, words: words); return }
        Console.out(words.say.withdrew(try r.shortIDs()(a.id), r.requested(a, words: words, chinese: words.say.chinese)))
    }
}
