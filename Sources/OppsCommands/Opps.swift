import ArgumentParser
import Foundation
import OppsCommandLine
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// `opps`: the field rep's command line. Every command works offline against the local
/// replica; `opps sync` reconciles with the hub.
public struct Opps: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "opps",
        abstract: "Work on your opportunities offline and sync them with the OppSync hub.",
        discussion: """
            The replica lives in --home DIR, else $OPPS_HOME, else ~/.opps. A record is named by the short \
            id opps prints (4+ of its characters do) or its name (to read one, a part of its name only it holds \
            does too). Commands that print data take --json.

            Stages, fields and choices read in your language when the workspace has labels in it \
            (opps locale zh-CN, or LANG), and so do opps's own sentences and every --help page, in Chinese too; \
            you may type a name or a label: opps set 7dka36sd 技术风险=低.

            Exit codes: 0 ok; 1 bad input (a record, field or value the replica cannot take); 2 the hub \
            cannot be reached (local work is kept); 3 refused by an ownership rule; 4 authentication \
            failed; 5 the hub's certificate is not trusted; 64 bad usage (an unknown command or \
            option, a missing or malformed argument), as for opps-hub.

            Example: opps init --hub http://127.0.0.1:8080 --token opps_… then opps new \"ACME rollout\" --account ACME
            """,
        version: "0.1.0",
        subcommands: [
            InitCommand.self, ConnectCommand.self, SyncCommand.self, StatusCommand.self, NewCommand.self, LeadCommand.self, ListCommand.self, ForecastCommand.self,
            ShowCommand.self, SetCommand.self, StageCommand.self, UndoCommand.self, TeamCommand.self, ApprovalsCommand.self, ApproveCommand.self, RejectCommand.self,
            WithdrawCommand.self,
            LogCommand.self, TaskCommand.self, TodayCommand.self, BoardCommand.self, FunnelCommand.self, ReportCommand.self, ExportCommand.self,
            ConflictsCommand.self, HistoryCommand.self, DeleteCommand.self, DealDuplicatesCommand.self, MergeCommand<DealKind>.self, AccountCommand.self,
            ContactCommand.self, LocaleCommand.self, RulesCommand.self,
            WebCommand.self,
        ]
    )

    public init() {}
}

/// Runs `opps` with `arguments` and returns the exit code; errors become one line on stderr
/// (or a JSON object on stdout with --json), never a stack trace.
public enum OppsMain {
    public static func run(_ arguments: [String]) async -> Int32 {
        let json = arguments.contains("--json")
        // Bad usage, said once in the reader's language (--json keeps English): exit 64.
        let chinese = !json && ChineseHelp.readerIsChinese(arguments)
        func badUsage(_ english: String, _ chineseText: String) -> Int32 {
            report(chinese ? chineseText : english, code: ExitStatus.usage, json: json)
            return ExitStatus.usage
        }
        let commands = Opps.configuration.subcommands.map { $0._commandName }
        if let typo = CommandSuggestion.unknown(arguments, known: commands) {
            let guess = CommandGuess.line(for: arguments, typo: typo, commands: commands)
            return badUsage(
                "unknown command \"\(typo)\" (opps --help lists the commands)" + (guess.map { "; did you mean: \($0)" } ?? ""),
                "没有命令「\(typo)」（opps --help 列出所有命令）" + (guess.map { "。是指：\($0)" } ?? ""))
        }
        // The overview, and a command's own help, in Chinese for a Chinese reader.
        let rest = ChineseHelp.split(arguments).rest
        if [[], ["--help"], ["-h"], ["help"]].contains(rest), ChineseHelp.readerIsChinese(arguments) {
            Console.out(ChineseHelp.text)
            return 0
        }
        // No command, only where and how to read (`opps --home X`): the overview, as bare `opps`
        // gives it, not "unknown option".
        if rest.isEmpty, !arguments.isEmpty {
            Console.out(Opps.helpMessage(columns: Console.width))
            return 0
        }
        // `opps --home` with its value left out: what a command's own --home says, not "unknown option".
        if rest.count == 1, let option = rest.first, option == "--home" || option == "--locale" {
            let message = "Missing value for '\(option) <\(option.dropFirst(2))>'"
            report(chinese ? ChineseUsage.translate(message).map { ChineseCommandHelp.help.named($0) } ?? message : message, code: ExitStatus.usage, json: json)
            return ExitStatus.usage
        }
        // A group of commands named with nothing after it (`opps report`, `opps lead --home X`):
        // its page, which lists what it does, in the reader's language; not the parser's English,
        // nor "no option --home".
        if let (path, type) = Self.groupAlone(rest) {
            if ChineseHelp.readerIsChinese(arguments), let page = ChineseCommandHelp.page(path) {
                Console.out(page)
            } else {
                Console.out(Usage.fitted(Opps.helpMessage(for: type, columns: Console.width)))
            }
            return 0
        }
        if let path = ChineseCommandHelp.path(asked: arguments), ChineseHelp.readerIsChinese(arguments), let page = ChineseCommandHelp.page(path) {
            Console.out(page)
            return 0
        }
        // `opps team --help`: the group's page, which lists add and remove beside list.
        if let group = ChineseCommandHelp.help.groupAsked(rest) {
            Console.out(Usage.fitted(Opps.helpMessage(for: group, columns: Console.width)))
            return 0
        }
        // `opps set ID --set a=b`, as other tools write it: the line without it ("no option
        // --set: did you mean --json?" sent the rep the wrong way).
        if rest.first == "set", let fixed = CommandGuess.withoutSetOption(arguments) {
            let line = CommandGuess.shell(fixed)
            return badUsage("opps set takes FIELD=VALUE pairs as they are, without --set; did you mean: \(line)", "opps set 直接写 字段=值，不用 --set。是指：\(line)")
        }
        // `opps account lst`: a word after a group, that is none of its commands and is near one,
        // said as such (with the one it is near) — not taken as the words its default command
        // searches for (`opps account 物流` is), nor "Unexpected argument 'lst'".
        func unknownCommand(_ group: String, _ typo: String, _ subs: [String]) -> Int32 {
            let near = CommandSuggestion.closest(to: typo, among: subs)
            let line = near.map { CommandGuess.shell([group, $0] + Array(rest.dropFirst(2))) }
            return badUsage(
                "unknown command \"\(typo)\" for opps \(group) (it has \(subs.joined(separator: ", ")))" + (line.map { "; did you mean: \($0)" } ?? ""),
                "没有命令「\(typo)」：opps \(group) 的命令有 \(subs.joined(separator: "、"))" + (line.map { "。是指：\($0)" } ?? ""))
        }
        if let (group, typo, subs) = Self.unknownSubcommand(rest), CommandSuggestion.closest(to: typo, among: subs) != nil {
            return unknownCommand(group, typo, subs)
        }
        var command: any ParsableCommand
        do {
            command = try Opps.parseAsRoot(CommandGuess.negativeAmountsJoined(arguments))
        } catch {
            if error is CleanExit || Opps.exitCode(for: error).isSuccess {
                Console.out(Usage.fitted(Opps.fullMessage(for: error)))
                return 0
            }
            // An unknown option, a missing argument, a value the parser refuses: bad usage.
            // `opps lead foo`: a word after a group with no default command that is none of its
            // commands (near none), said as such.
            if let (group, typo, subs) = Self.unknownSubcommand(rest) { return unknownCommand(group, typo, subs) }
            if let meant = ChineseCommandHelp.help.listsByItself(rest), let command = meant.first {
                let line = CommandGuess.shell(meant)
                return badUsage("opps \(command) lists by itself: run \(line)", "opps \(command) 本身就会列出：运行 \(line)")
            }
            let message = Opps.message(for: error)
            // A missing argument: what it is, and the command's example.
            let said =
                ChineseCommandHelp.help.missingArgument(message, words: rest, chinese: chinese)
                ?? (chinese ? ChineseUsage.translate(message).map { ChineseCommandHelp.help.named($0) } : nil)
            report(said ?? message, code: ExitStatus.usage, json: json)
            return ExitStatus.usage
        }
        do {
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            return 0
        } catch let e as ReplicaError {
            let code: Int32 =
                switch e {
                case .unreachable, .unreachableAtInit, .wrongAddress: 2
                case .refused, .notAssigned: 3
                case .authentication, .authenticationAtInit, .disabled: 4
                case .certificate, .certificateAtInit: 5
                default: 1
                }
            // Without a replica (the first run, an init that failed) the reader is --locale's or
            // LANG's; those errors name no field, so the built-in workspace's words say them.
            let words = HomeOption.reader(of: command) ?? HomeOption.language(of: command).map { Vocabulary(.default, locale: $0) }
            // In the reader's language where the error has a Chinese form (`ReplicaError.chinese`,
            // which the web app says too); --json keeps English. (A list of its own here left out
            // the hub's 503 the web said in Chinese.)
            let said = json ? nil : words.flatMap { $0.say.error(e, $0) }
            report(said ?? e.description, code: code, json: json)
            // What to do about it, where the command knows (a stage gate: the `opps set` that meets it).
            if !json, let words, let hint = (command as? any HintsAfterError)?.hint(for: e, words: words) { Console.err(hint) }
            return code
        } catch let e as ExitCode {
            return e.rawValue
        } catch let e as StoreError where e.fileFailure != nil {
            // The replica's disk full, its folder read-only, its file damaged: said as such, with
            // what to do (not "store error 10: disk I/O error"). The replica may not open now, so
            // the reader is --locale's or LANG's unless it does.
            let home = HomeOption.of(command)
            let chinese = !json && (home?.say.chinese ?? false)
            let reason = e.replicaReason(home: home?.path ?? "~/.opps")
            report(reason.map { chinese ? $0.chinese : $0.english } ?? e.description, code: 1, json: json)
            return 1
        } catch {
            if error is CleanExit || Opps.exitCode(for: error).isSuccess {
                Console.out(Usage.fitted(Opps.fullMessage(for: error)))
                return 0
            }
            report(Opps.message(for: error), code: 1, json: json)
            return 1
        }
    }

    /// The group of commands `words` name and nothing else, when it has no default command.
    static func groupAlone(_ words: [String]) -> ([String], ParsableCommand.Type)? { ChinesePages<Opps>.groupAlone(words) }

    static func unknownSubcommand(_ words: [String]) -> (group: String, typo: String, commands: [String])? { ChinesePages<Opps>.unknownSubcommand(words) }

    static func report(_ message: String, code: Int32, json: Bool) {
        if json {
            Console.out((try? FailureJSON(error: message, exit: Int(code)).jsonLine()) ?? message)
        } else {
            Console.err("opps: " + message)
        }
    }
}

/// `--home`: where the replica lives.
struct HomeOption: ParsableArguments {
    @Option(help: "The replica home (default: $OPPS_HOME, else ~/.opps).")
    var home: String?

    var path: String {
        if let home { return home }
        if let env = ProcessEnvironment.current["OPPS_HOME"], !env.isEmpty { return env }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".opps").path
    }

    @Option(help: "Show the workspace's labels in this language (zh-CN, en…); default: opps locale's setting, else LANG.")
    var locale: String?

    func validate() throws {
        if let locale, !LocaleTag.isValid(locale) { throw ValidationError(say("--locale takes a language tag such as zh-CN or en", "--locale 要写语言代码，例如 zh-CN 或 en")) }
    }

    func open() throws -> Replica { try Replica(home: path, clock: SystemClock()) }

    /// The words of the reader `command` runs for: its own `--home` and `--locale` as parsed,
    /// the replica's setting, LANG. Nil when the command has no home or there is no replica.
    static func reader(of command: any ParsableCommand) -> Vocabulary? {
        guard let home = of(command), let r = try? home.open() else { return nil }
        return home.words(r)
    }

    /// The language of `command`'s reader when it has no replica: its --locale, else LANG's.
    static func language(of command: any ParsableCommand) -> String? { of(command)?.locale ?? posixLocale }

    /// `command`'s own `--home` and `--locale`, as parsed.
    static func of(_ command: any ParsableCommand) -> HomeOption? {
        Mirror(reflecting: command).children.lazy.compactMap { ($0.value as? OptionGroup<HomeOption>)?.wrappedValue }.first
    }

    /// The sentences for this command's reader, with or without a replica: its words' language
    /// when there is one; else --locale, then LANG.
    var say: Phrases {
        if let r = try? open() { return words(r).say }
        let tag = locale ?? Self.posixLocale
        return Phrases(chinese: tag.map { LocaleTag.language($0) == "zh" } ?? false)
    }

    /// The language LC_ALL, LC_MESSAGES or LANG names.
    static var posixLocale: String? {
        LocaleTag.fromEnvironment(ProcessEnvironment.current)
    }

    /// The words to print for `r`'s workspace: labels in the reader's language (workspace-format.md
    /// "Labels"): --locale, the replica's setting, LC_ALL / LC_MESSAGES / LANG, the workspace's own.
    func words(_ r: Replica) -> Vocabulary {
        Vocabulary(r.workspace, locale: r.workspace.displayLocale(preferring: [locale, Self.setting(r), Self.posixLocale]))
    }

    /// The language the reader chose: --locale, else the replica's setting (`opps locale`); nil
    /// when neither says (the web app then reads the browser's).
    func chosenLanguage(_ r: Replica) -> String? { locale ?? Self.setting(r) }

    /// The replica's own setting (`opps locale`), nil when unset.
    static func setting(_ r: Replica) -> String? { (try? r.store.meta("locale")).flatMap { $0.isEmpty ? nil : $0 } }
}

struct SystemClock: PhysicalClock {
    func nowMilliseconds() -> Int64 { DeviceClock.fixed ?? Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}

/// The device clock `opps` reads. Tests pin it (per task, so parallel tests do not interfere)
/// to script a day with known device times; the command line never does.
public enum DeviceClock {
    @TaskLocal public static var fixed: Int64?
}

/// A command that can say, after an error it met, what to do about it (one more line on
/// stderr, never with --json).
protocol HintsAfterError {
    func hint(for error: ReplicaError, words: Vocabulary) -> String?
}
