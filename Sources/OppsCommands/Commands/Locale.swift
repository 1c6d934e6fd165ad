import ArgumentParser
import OppsConsole
import OppsCore
import OppsReplica

/// `opps locale`: the language this laptop shows the workspace in (workspace-format.md "Labels").
struct LocaleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "locale", abstract: "Show or choose the language stages, fields and choices are shown in.",
        discussion: """
            Without a tag: the language in use, why, and the languages the workspace has labels in. \
            With one: this laptop's setting (it wins over LANG; --locale on any command wins over it). \
            Names always work as input, whatever the language.

            Example: opps locale zh-CN
            """)

    @Argument(help: "A language tag the workspace has labels in, such as zh-CN or en.")
    var tag: String?

    @Flag(help: "Forget this laptop's setting: LANG decides again.")
    var clear = false

    @OptionGroup var home: HomeOption

    func validate() throws {
        if let tag, !LocaleTag.isValid(tag) { throw ValidationError(home.say("\"\(tag)\" is not a language tag such as zh-CN or en", "「\(tag)」不是语言代码（例如 zh-CN 或 en）")) }
        if tag != nil && clear { throw ValidationError(home.say("give a tag or --clear, not both", "语言和 --clear 只能给一个")) }
    }

    func run() throws {
        let r = try home.open()
        let have = r.workspace.locales
        if let tag {
            guard have.contains(tag) || have.contains(where: { LocaleTag.language($0) == LocaleTag.language(tag) }) else {
                let listed = have.isEmpty ? nil : have.joined(separator: ", ")
                throw ReplicaError.invalid(
                    "the workspace has no labels in \(tag) (it has: \(listed ?? "none"))", chinese: "工作区没有 \(tag) 的标签（它有：\(listed ?? "无")）")
            }
            try r.store.setMeta("locale", tag)
        } else if clear {
            try r.store.setMeta("locale", "")
        }
        let words = home.words(r)
        Console.out(words.say.showing(words.locale, have: have))
        if words.locale != nil, let stage = r.workspace.stages.first {
            Console.out(words.say.forExample(stage: stage.name, reads: words.stage(stage.name)))
        }
    }
}
