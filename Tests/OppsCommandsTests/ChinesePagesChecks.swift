import ArgumentParser
import OppsCommandLine
import OppsConsole
import Testing

/// What the Chinese help pages of either command line must hold (`ChinesePages`): every command
/// the parser describes has its line, every argument it shows has its sentence and is on the
/// page, every line fits 80 columns, and no sentence is left over for a command or argument
/// that is gone.
enum ChinesePagesChecks {
    /// Every command as the parser describes it, with its path ("team add").
    static func commands<Root>(_ help: ChinesePages<Root>) -> [(path: [String], command: HelpCommand)] {
        func walk(_ c: HelpCommand, _ path: [String]) -> [(path: [String], command: HelpCommand)] {
            (path.isEmpty ? [] : [(path, c)]) + (c.subcommands ?? []).filter { $0.commandName != "help" }.flatMap { walk($0, path + [$0.commandName]) }
        }
        return help.root.map { walk($0, []) } ?? []
    }

    /// Every command's English page, as the parser lays it out for an English reader, fits 80
    /// columns, a Chinese word in it (an example, a label) taking two.
    static func expectEnglishFits<Root>(_ help: ChinesePages<Root>, run: @Sendable ([String]) async -> Run) async {
        for (path, _) in commands(help) {
            let page = await ProcessEnvironment.$pinned.withValue(["LANG": "C"]) { await run(path + ["--help"]) }
            #expect(page.code == 0 && !page.stdout.isEmpty, "\(help.tool) \(path)")
            for line in page.stdout.split(separator: "\n") { #expect(String(line).displayWidth <= 80, "\(help.tool) \(path): \(line)") }
        }
    }

    /// The checks above, for `help`; the commands, for the tool's own checks.
    @discardableResult
    static func expectComplete<Root>(_ help: ChinesePages<Root>, atLeast: Int) throws -> [(path: [String], command: HelpCommand)] {
        let all = commands(help)
        #expect(all.count >= atLeast, "the parser's description of \(help.tool) was read")
        for (path, command) in all {
            let key = path.joined(separator: " ")
            #expect(help.abstract(key) != nil, "no Chinese line for \(help.tool) \(key)")
            let page = try #require(help.page(path))
            for argument in (command.arguments ?? []) where argument.shouldDisplay {
                #expect(help.sentence(key, argument.key) != nil, "\(help.tool) \(key): no sentence for \(argument.label)")
                #expect(page.contains("  " + help.named(argument.label, in: key)), "\(help.tool) \(key): \(argument.label) not on the page")
            }
            // Every value is named in Chinese (`<编号>`, not `<id>`), on the page and its usage line.
            #expect(page.firstMatch(of: /<[a-z]/) == nil, "\(help.tool) \(key): a value named in English: \(page.prefix(300))")
            for line in page.split(separator: "\n", omittingEmptySubsequences: false) {
                #expect(String(line).displayWidth <= 80, "\(help.tool) \(key): \(line)")
            }
            // Neither language's page keeps a source line's continuation mark (a `\\` written
            // for a `\` in a multi-line literal prints as a backslash).
            for text in [command.discussion ?? "", page] {
                #expect(!text.split(separator: "\n").contains { $0.hasSuffix("\\") }, "\(help.tool) \(key): a line ends in a backslash")
            }
        }
        let keys = Set(all.map { $0.path.joined(separator: " ") })
        for key in help.pages.keys { #expect(keys.contains(key), "\(help.tool): a page for no command: \(key)") }
        for c in help.lines { #expect(keys.contains(c.name), "\(help.tool): a line for no command: \(c.name)") }
        let shared = Set(all.flatMap { ($0.command.arguments ?? []).map(\.key) })
        for key in help.arguments.keys {
            let words = key.split(separator: " ").map(String.init)
            guard words.count > 1 else {
                #expect(shared.contains(key) || key == "help", "\(help.tool): a sentence for no argument: \(key)")
                continue
            }
            let command = all.first { $0.path == Array(words.dropLast()) }?.command
            #expect(command?.arguments?.contains { $0.key == words.last } == true, "\(help.tool): a sentence for no argument: \(key)")
        }
        // No value's name is left over for a value that is gone (the parser's own words aside).
        let values = Set(
            all.flatMap { path, command in
                (command.arguments ?? []).compactMap(\.valueName).flatMap { [$0, (path + [$0]).joined(separator: " ")] }
            })
        for key in help.values.keys where !["subcommand", "subcommands", "options"].contains(key) {
            #expect(values.contains(key), "\(help.tool): a name for no value: \(key)")
        }
        return all
    }
}
