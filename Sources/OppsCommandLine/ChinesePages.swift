import ArgumentParser
import Foundation
import OppsConsole

/// A command line's own help pages (`opps set --help`, `opps-hub help user add`) for a Chinese
/// reader, for any tool whose commands are `Root`'s.
///
/// The page's shape comes from the argument parser's own description of the commands (its
/// `--experimental-dump-help` tree), so it always lists exactly the arguments, options and
/// subcommands the parser takes; only the sentences are the tool's, from its tables. Each tool's
/// tests hold that every command and every argument it shows has its Chinese sentence, that no
/// sentence is left over for one that is gone, and that every line fits 80 columns.
public struct ChinesePages<Root: ParsableCommand>: Sendable {
    /// A command's sentences: what it is for (nil: its line in `lines`), and what else its reader
    /// needs (examples at the end), paragraphs split by a blank line.
    public typealias Page = (abstract: String?, discussion: String?)

    /// The tool as its reader types it: `opps`, `opps-hub`.
    public let tool: String
    /// Keyed by the command's path (`user add`).
    public let pages: [String: Page]
    /// Keyed by the command's path and the argument's long name or value name (`user add role`),
    /// or by the argument's name alone for one that means the same everywhere (`data`, `help`).
    public let arguments: [String: String]
    /// Each top-level command's line, as the tool's overview lists them.
    public let lines: [(name: String, line: String)]
    /// Each argument's value as its reader names it (`<id>` → `<编号>`, `--home <home>` →
    /// `--home <目录>`), keyed as `arguments` are: the command's path and the value's name
    /// (`backup to`: a file, where `forecast to` is a date), or the value's name alone.
    public let values: [String: String]
    /// How to ask for a page's English: the command's path, and whether it is a group.
    public let english: @Sendable (_ key: String, _ group: Bool) -> String

    public init(
        tool: String, pages: [String: Page], arguments: [String: String], values: [String: String] = [:], lines: [(name: String, line: String)],
        english: @escaping @Sendable (String, Bool) -> String
    ) {
        self.tool = tool
        self.pages = pages
        self.arguments = arguments
        self.values = ["subcommand": "子命令", "subcommands": "子命令", "options": "选项"].merging(values) { $1 }
        self.lines = lines
        self.english = english
        root = try? JSONDecoder().decode(HelpDump.self, from: Data(Root._dumpHelp().utf8)).command
    }

    public typealias Command = HelpCommand
    public typealias Argument = HelpArgument

    /// The tool's commands as the parser describes them, read once (a help request asks for
    /// them twice: which page, then the page).
    public let root: Command?

    /// The command `words` ask help for (`set … --help`, `help team add`), the reader's own
    /// options already taken out. Nil when they ask for no command's help.
    public func path(asked words: [String]) -> [String]? {
        var words = words
        if words.first == "help" {
            words.removeFirst()
        } else {
            let options = words.prefix { $0 != "--" }
            guard options.contains("--help") || options.contains("-h") else { return nil }
        }
        var path: [String] = []
        var command = root
        for word in words {
            guard let next = command?.subcommands?.first(where: { $0.commandName == word }) else { break }
            path.append(word)
            command = next
        }
        return path.isEmpty ? nil : path
    }

    /// The group of commands whose help `words` ask for (`team --help`, `help team`): the parser
    /// hands such a request to the group's default command (`team list`), whose page does not
    /// say that `team add` exists. Nil when they ask for a single command's help, or none.
    public func groupAsked(_ words: [String]) -> ParsableCommand.Type? {
        guard let path = path(asked: words) else { return nil }
        var type: ParsableCommand.Type = Root.self
        for word in path {
            guard let next = type.configuration.subcommands.first(where: { $0._commandName == word }) else { return nil }
            type = next
        }
        return type.configuration.subcommands.isEmpty ? nil : type
    }

    /// The group, the word after it and the group's commands, when that word is a plain word
    /// (not an option) naming none of them and the group has no default command, or is near one
    /// of its names (`account lst`, a typo the default command then failed to parse). Asked only
    /// once parsing failed: a group's default command takes words of its own.
    public static func unknownSubcommand(_ words: [String]) -> (group: String, typo: String, commands: [String])? {
        guard words.count >= 2, let group = Root.configuration.subcommands.first(where: { $0._commandName == words[0] }) else { return nil }
        let subs = group.configuration.subcommands.map { $0._commandName }
        let word = words[1]
        guard !subs.isEmpty, !word.hasPrefix("-"), !subs.contains(word) else { return nil }
        if group.configuration.defaultSubcommand != nil, CommandSuggestion.closest(to: word, among: subs) == nil { return nil }
        return (words[0], word, subs)
    }

    /// The parser's "Missing expected argument '<id>'" said with what the argument is and the
    /// command's example, in the reader's language: `opps team list needs <id>: the deal: its
    /// short id …; example: opps team list 7dka36sd`. `words` are the command line without the
    /// reader's own options; a group's default command is the one meant when no other is named.
    /// Nil: not that message, or an argument the pages do not know.
    public func missingArgument(_ message: String, words: [String], chinese: Bool) -> String? {
        // A positional argument (`'<id>'`, `'<text> ...'`) or a required option (`'--account <account>'`).
        guard let m = message.wholeMatch(of: /Missing expected argument '(--[a-z-]+ )?<([^>]+)>(?: \.\.\.)?'/) else { return nil }
        let option = m.1.map { String($0.dropFirst(2).dropLast()) }
        let name = String(m.2)
        var command = root
        var type: ParsableCommand.Type = Root.self
        var path: [String] = []
        func enter(_ word: String) -> Bool {
            guard let next = type.configuration.subcommands.first(where: { $0._commandName == word }),
                let described = command?.subcommands?.first(where: { $0.commandName == word })
            else { return false }
            (type, command) = (next, described)
            path.append(word)
            return true
        }
        for word in words where !word.hasPrefix("-") { if !enter(word) { break } }
        while let fallback = type.configuration.defaultSubcommand, enter(fallback._commandName) {}
        let wanted: (HelpArgument) -> Bool =
            if let option { { $0.kind == "option" && $0.names?.contains(where: { $0.kind == "long" && $0.name == option }) == true } } else {
                { $0.kind == "positional" && $0.valueName == name }
            }
        guard !path.isEmpty, let argument = command?.arguments?.first(where: wanted) else { return nil }
        let key = path.joined(separator: " ")
        let label = option.map { "--\($0) <\(name)>" } ?? "<\(name)>"
        // The help's sentence continues this line: its first letter lowercased, unless it starts
        // a word in capitals (`FIELD=VALUE pairs`, not `fIELD=VALUE`).
        let said =
            chinese
            ? sentence(key, argument.key)
            : argument.abstract.map { text in
                guard let first = text.first, !(text.dropFirst().first?.isUppercase ?? false) else { return text }
                return String(first).lowercased() + text.dropFirst()
            }
        guard var said else { return nil }
        if said.hasSuffix(".") || said.hasSuffix("。") { said.removeLast() }
        // The command's example (its page's last paragraph says it), else its group's.
        let marker = chinese ? "例子：" : "Example: "
        let discussions = chinese ? [pages[key]?.discussion, pages[path.dropLast().joined(separator: " ")]?.discussion] : [command?.discussion]
        let example = discussions.lazy.compactMap { $0?.components(separatedBy: marker).dropFirst().last?.split(separator: "\n").first.map(String.init) }.first
        let line = "\(tool) \(key)"
        return chinese
            ? "\(line) 缺少参数 \(named(label, in: key))：\(said)" + (example.map { "；例子：\($0)" } ?? "")
            : "\(line) needs \(label): \(said)" + (example.map { "; example: \($0)" } ?? "")
    }

    /// `opps approvals list`, `opps today show`: a command that lists by itself (it takes no
    /// argument of its own and has no commands under it) named with `list`, `ls` or `show`
    /// after it. The command line meant, for "it lists by itself: run opps approvals --all":
    /// the command and the flags after it that it takes (an option's value with it).
    public func listsByItself(_ words: [String]) -> [String]? {
        guard words.count >= 2, ["list", "ls", "show"].contains(words[1]),
            let type = Root.configuration.subcommands.first(where: { $0._commandName == words[0] }), type.configuration.subcommands.isEmpty,
            let described = root?.subcommands?.first(where: { $0.commandName == words[0] }),
            !(described.arguments ?? []).contains(where: { $0.kind == "positional" })
        else { return nil }
        var line = [words[0]]
        var rest = words.dropFirst(2)[...]
        while let word = rest.popFirst() {
            guard word.hasPrefix("--"),
                let argument = described.arguments?.first(where: { a in a.names?.contains { $0.kind == "long" && "--" + $0.name == word } == true })
            else { continue }
            line.append(word)
            if argument.kind == "option", let value = rest.popFirst() { line.append(value) }
        }
        return line
    }

    /// The group of commands `words` name and nothing else, when it has no default command: its
    /// page is what its reader wants (`opps report`, `opps-hub user`), not a usage error.
    public static func groupAlone(_ words: [String]) -> ([String], ParsableCommand.Type)? {
        guard !words.isEmpty else { return nil }
        var type: ParsableCommand.Type = Root.self
        for word in words {
            guard let next = type.configuration.subcommands.first(where: { $0._commandName == word }) else { return nil }
            type = next
        }
        guard !type.configuration.subcommands.isEmpty, type.configuration.defaultSubcommand == nil else { return nil }
        return (words, type)
    }

    /// The Chinese page of the command at `path`; nil when there is no such command.
    public func page(_ path: [String]) -> String? {
        var command = root
        var type: ParsableCommand.Type = Root.self
        for word in path {
            command = command?.subcommands?.first { $0.commandName == word }
            guard let next = type.configuration.subcommands.first(where: { $0._commandName == word }) else { return nil }
            type = next
        }
        guard let command else { return nil }
        let key = path.joined(separator: " ")
        let words = pages[key]
        var out: [String] = []
        let usage = named(Root.usageString(for: type).replacingOccurrences(of: "\n", with: " "), in: key)
        out += Usage.wrap("用法：" + usage, width: 80)
        out.append("")
        if let abstract = abstract(key) { out += abstract.wrapped(width: 80) }
        if let discussion = words?.discussion {
            for paragraph in discussion.components(separatedBy: "\n\n") {
                out.append("")
                out += paragraph.wrapped(width: 80)
            }
        }
        let shown = (command.arguments ?? []).filter(\.shouldDisplay)
        for (title, kinds) in [("参数：", ["positional"]), ("选项：", ["option", "flag"])] {
            let rows = shown.filter { kinds.contains($0.kind) }
            guard !rows.isEmpty else { continue }
            out += ["", title]
            for argument in rows {
                var said = sentence(key, argument.key) ?? ""
                // The parser's own help adds an option's default; so does this page, unless said.
                if argument.kind == "option", let value = argument.defaultValue, !said.contains("默认") { said += "（默认：\(value)）" }
                out += Self.row(named(argument.label, in: key), said, width: 80)
            }
        }
        let group = !(command.subcommands?.isEmpty ?? true)
        if let subcommands = command.subcommands, group {
            out += ["", "子命令："]
            for sub in subcommands where sub.commandName != "help" {
                out += Self.row(sub.commandName, abstract(key + " " + sub.commandName) ?? "", width: 80)
            }
            out.append("")
            out += ("每个子命令的帮助：\(tool) \(key) <子命令> --help").wrapped(width: 80)
        }
        out.append("")
        out += ("英文帮助：" + english(key, group)).wrapped(width: 80)
        return out.joined(separator: "\n")
    }

    /// A command's line: a top-level command's from `lines`, unless its page says another.
    public func abstract(_ key: String) -> String? {
        pages[key]?.abstract ?? lines.first { $0.name == key }?.line
    }

    /// `text`'s values named as the Chinese reader reads them (`values`): `opps set <编号>
    /// <字段=值> ... [--home <目录>]`. A value with no Chinese name keeps the parser's.
    public func named(_ text: String, in command: String = "") -> String {
        text.replacing(/<([a-z][a-z0-9=-]*)>/) { m in
            let name = String(m.1)
            return "<" + (values["\(command) \(name)"] ?? values[name] ?? name) + ">"
        }
    }

    public func sentence(_ command: String, _ argument: String) -> String? {
        if argument == "h" || argument == "help" { return arguments["help"] }
        return arguments["\(command) \(argument)"] ?? arguments[argument]
    }

    /// One argument or subcommand: its label in a column of 24, its sentence wrapped beside it
    /// (under it when the label is wider), as the parser's own help lays them out.
    static func row(_ label: String, _ sentence: String, width: Int) -> [String] {
        let column = 26
        let lines = sentence.wrapped(width: width - column)
        let head = "  " + label
        var out: [String]
        var rest = lines[...]
        if head.displayWidth <= column - 2 {
            out = [head.padding(column) + (rest.popFirst() ?? "")]
        } else {
            out = [head]
        }
        out += rest.map { String(repeating: " ", count: column) + $0 }
        return out.map { $0.trimmingTrailingSpaces }
    }
}

/// The parser's description of a tool, as `--experimental-dump-help` prints it: the shape
/// of every page.
public struct HelpCommand: Decodable, Sendable {
    public let commandName: String
    public let abstract: String?
    public let discussion: String?
    public let arguments: [HelpArgument]?
    public let subcommands: [HelpCommand]?
}

public struct HelpArgument: Decodable, Sendable {
    public struct Name: Decodable, Sendable {
        public let kind: String
        public let name: String
    }
    public let kind: String
    public let names: [Name]?
    public let preferredName: Name?
    public let valueName: String?
    /// Its help, in English.
    public let abstract: String?
    public let shouldDisplay: Bool
    public let isRepeating: Bool
    public let defaultValue: String?

    /// The key its sentence is found by: the long name, else the value's name.
    public var key: String { names?.first(where: { $0.kind == "long" })?.name ?? preferredName?.name ?? valueName ?? "" }

    /// As the parser's own help writes it: `<id> ...`, `--home <home>`, `-h, --help`.
    public var label: String {
        let value = "<\(valueName ?? key)>" + (isRepeating ? " ..." : "")
        guard kind != "positional" else { return value }
        let spelled = (names ?? []).map { ($0.kind == "long" ? "--" : "-") + $0.name }.sorted { $0.count < $1.count }.joined(separator: ", ")
        return kind == "option" ? "\(spelled) \(value)" : spelled
    }
}

struct HelpDump: Decodable { let command: HelpCommand }

/// The argument parser's usage errors a reader meets (a missing argument, an unknown option, a
/// value left out), in Chinese. Nil: say the parser's English.
public enum ChineseUsage {
    /// Options as a Chinese reader may name them, by the words the help pages give their values
    /// and the fields they set (`--金额` is `--amount`).
    public static let optionsByWord: [String: String] = [
        "金额": "--amount", "客户": "--account", "币种": "--currency", "联系人": "--contact", "阶段": "--stage", "负责人": "--owner",
        "原因": "--reason", "输单原因": "--reason", "截止": "--due", "截止日期": "--due", "到期": "--due", "地点": "--place",
        "说明": "--note", "备注": "--note", "时间": "--at", "来源": "--source", "线索来源": "--source", "公司": "--company",
        "成交日期": "--close", "预计成交日期": "--close", "目录": "--home", "语言": "--locale", "执行人": "--assignee", "类型": "--type",
        "角色": "--role", "区域": "--territory", "经理": "--manager", "数据目录": "--data",
    ]

    public static func translate(_ message: String) -> String? {
        if let m = message.wholeMatch(of: /Missing expected argument '(.+)'/) { return "缺少参数 \(m.1)（用法见 --help）" }
        if let m = message.wholeMatch(of: /Unexpected argument '(.+)'/) { return "多余的参数「\(m.1)」（名称里有空格时请加引号）" }
        if let m = message.wholeMatch(of: /[0-9]+ unexpected arguments: (.+)/) {
            let words = m.1.split(separator: ", ").map { "「\($0.trimmingCharacters(in: CharacterSet(charactersIn: "'")))」" }
            return "多余的参数\(words.joined(separator: "、"))（名称里有空格时请加引号）"
        }
        if let m = message.wholeMatch(of: /Unknown option '(.+)'\. Did you mean '(.+)'\?/) { return "没有选项 \(m.1)：是指 \(m.2) 吗？" }
        if let m = message.wholeMatch(of: /Unknown option '(.+)'/) {
            // An option typed by its Chinese word, as fields are (`--金额 50万`): the option it is.
            if let option = optionsByWord[String(m.1).trimmingCharacters(in: CharacterSet(charactersIn: "-－—"))] {
                return "没有选项 \(m.1)：是指 \(option) 吗？（选项写英文名，值可以写中文）"
            }
            return "没有选项 \(m.1)（选项见 --help）"
        }
        if let m = message.wholeMatch(of: /Missing value for '(.+)'/) { return "选项 \(m.1) 缺少值" }
        if let m = message.wholeMatch(of: /The value '(.*)' is invalid for '(.+)'.*/) { return "「\(m.1)」不是 \(m.2) 能接受的值" }
        return nil
    }
}

extension String {
    public var trimmingTrailingSpaces: String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
