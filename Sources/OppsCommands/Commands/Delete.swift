import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a record (managers, in the default workspace).",
        discussion: """
            For a record made by mistake or a duplicate. Everyone who holds the record learns at their next \
            sync that it was deleted, and by whom; nothing can change it afterwards, and a write still \
            waiting on someone's laptop comes back to them as a conflict. A deal you no longer need to \
            work is closed as lost, not deleted.

            Example: opps delete 7dka36sd
            """)

    @Argument(help: "The record: its short id as opps list prints it (4+ characters do), a full id, or an exact name.")
    var id: String

    @OptionGroup var home: HomeOption

    func run() throws {
        let r = try home.open()
        let recordID = try r.resolveID(id)
        try r.delete(recordID)
        Console.out(home.words(r).say.deleted(try r.shortIDs()(recordID)))
    }
}

extension DeleteCommand: HintsAfterError {
    /// A deal a rep may not delete: one that went nowhere is closed as lost, which is theirs to
    /// do; deleting is a manager's (one made by mistake, a duplicate).
    func hint(for error: ReplicaError, words: Vocabulary) -> String? {
        guard case .refused("opportunity", _, .deleteNotPermitted, _, _) = error else { return nil }
        return words.say(
            "a deal that went nowhere is closed as lost: \(CommandGuess.shell(["stage", id, "lost", "--reason", "WHY"])) (a manager deletes one made by mistake)",
            "没有结果的商机请标为输单：\(CommandGuess.shell(["stage", id, words.stage("lost"), "--reason", "原因"]))（误建的商机由经理删除）")
    }
}
