import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct MergeCommand<Kind: DirectoryKind>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "merge", abstract: "Merge duplicate \(Kind.noun)s into one (those who may delete: managers, by default).",
            discussion: """
                KEEP stays; each DUPLICATE is deleted after its values fill KEEP's empty fields and everything \
                here that names it (\(Kind.namedBy)) names KEEP instead. At sync the hub re-points what \
                this laptop does not hold too, so nothing is lost; every step is an \
                ordinary synced write with your name on it (opps history shows them).\(Kind.mergeNote)

                Example: \(Kind.command) merge 7dka36sd 3tqq0nqd
                """)
    }
    @Argument(help: "The \(Kind.noun) to keep: its short id or exact name.") var keep: String
    @Argument(help: "The duplicates to merge into it.") var duplicates: [String]
    @OptionGroup var home: HomeOption

    func validate() throws {
        if duplicates.isEmpty {
            throw ValidationError(home.say("give the \(Kind.noun) to keep, then at least one duplicate", "先写要保留的\(Kind.chineseNoun)，再写至少一个重复的"))
        }
    }

    func run() throws {
        let r = try home.open()
        func resolve(_ text: String) throws -> RecordID {
            let id = try r.resolveID(text, among: [Kind.entity])
            guard let record = try r.record(id) else {
                throw ReplicaError.invalid(
                    "\(text) is not on this laptop: \(Kind.command) duplicates lists what is", chinese: "本机没有 \(text)：\(Kind.command) duplicates 列出可合并的记录")
            }
            guard record.entity == Kind.entity else { throw ReplicaError.invalid("\(text) is not \(Kind.aNoun)", chinese: "\(text) 不是\(Kind.chineseNoun)") }
            return id
        }
        let keepID = try resolve(keep)
        let ids = try duplicates.map(resolve)
        let short = try r.shortIDs()
        // All or nothing: one refusal leaves every record as it was.
        let results = try r.store.transaction { try ids.map { try r.merge($0, into: keepID) } }
        let words = home.words(r)
        for (id, m) in zip(ids, results) {
            Console.out(
                words.say.merged(
                    short(id), into: short(keepID), repointed: m.repointed, filled: m.filled.map { words.field(Kind.entity, $0) }, leftToHub: m.leftToHub))
        }
    }
}

extension MergeCommand: HintsAfterError {
    /// Merging is deleting: one who may not (a rep) says what they can do — ask whoever may,
    /// with the line to run.
    func hint(for error: ReplicaError, words: Vocabulary) -> String? {
        guard case .refused(_, _, .deleteNotPermitted, _, _) = error else { return nil }
        let line = CommandGuess.shell(Kind.command.split(separator: " ").dropFirst().map(String.init) + ["merge", keep] + duplicates)
        return words.say("a manager merges them: ask yours to run \(line)", "合并由经理来做：请经理运行 \(line)")
    }
}
