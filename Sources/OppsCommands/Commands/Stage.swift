import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct StageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage", abstract: "Move a deal to another stage (gates and ownership rules apply, offline too).",
        discussion: "Example: opps stage 7dka36sd solution; opps stage 7dka36sd lost --reason price")

    @Argument(help: "The record: its short id as opps list prints it (4+ characters do), a full id, or an exact name.")
    var id: String

    @Argument(help: "The stage.")
    var stage: String

    @Option(help: "Why: the hand-off rejection reason when moving a lead back, or the loss reason when moving to lost.")
    var reason: String?

    @OptionGroup var home: HomeOption

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    func run() throws {
        let r = try home.open()
        let words = home.words(r)
        let stage = try stageNamed(self.stage, r, words)
        let recordID = try r.resolveID(id)
        try report(try r.moveStage(recordID, to: stage, reason: reason), json: json, r, words: words)
    }
}

/// A stage typed by a user: its name or any label (any case); one clear line naming the stages
/// in the reader's words otherwise.
func stageNamed(_ text: String, _ r: Replica, _ words: Vocabulary) throws -> String {
    if let s = r.workspace.stage(input: text) { return s.name }
    let stages = r.workspace.stages.map { words.stage($0.name) }
    throw ReplicaError.invalid(
        words.say("unknown stage \"\(text)\" (\(stages.joined(separator: ", ")))", "没有阶段「\(text)」（阶段：\(stages.joined(separator: "、"))）"))
}
