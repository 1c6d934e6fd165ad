import ArgumentParser
import Foundation
import OppsCommandLine
import OppsConsole
import OppsCore
import OppsHub
import OppsStore
import OppsWire

/// `opps-hub`: the operator's command line for the sync hub.
public struct OppsHub: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "opps-hub",
        abstract: "Run and operate the OppSync hub.",
        discussion: """
            The hub is the authority every replica syncs with: it sequences writes, decides \
            conflicts by the workspace's ownership rules, and keeps every losing write as a \
            conflict record. Exit codes: 0 success, 1 failure (one line on stderr says what \
            and what to do), 64 bad usage.
            """,
        version: "0.1.0 (protocol \(ProtocolVersion.current))",
        subcommands: [
            Demo.self, Init.self, Serve.self, StatusCommand.self, UserCommand.self, TokenCommand.self, WorkspaceCommand.self, AuditCommand.self, ConflictsCommand.self,
            CompactCommand.self, BackupCommand.self, RestoreCommand.self, MigrateCommand.self, ImportCommand.self, DuplicatesCommand.self,
        ]
    )

    public init() {}
}

/// Runs `opps-hub` with `arguments` and returns the exit code (0 ok, 1 failure, 64 usage);
/// errors are one line on stderr. In-process tests call this.
public enum OppsHubMain {
    public static func run(_ arguments: [String]) async -> Int32 {
        let chinese = ChineseHubHelp.readerIsChinese
        let commands = OppsHub.configuration.subcommands.map { $0._commandName }
        if let typo = CommandSuggestion.unknown(arguments, known: commands) {
            let rest = Array(arguments.drop { $0 != typo }.dropFirst())
            let guess = CommandSuggestion.closest(to: typo, among: commands).map {
                CommandSuggestion.line("opps-hub", (arguments.first == "help" ? ["help"] : []) + [$0] + rest)
            }
            Console.err(
                chinese
                    ? "opps-hub：没有命令「\(typo)」（opps-hub --help 列出所有命令）" + (guess.map { "。是指：\($0)" } ?? "")
                    : "opps-hub: unknown command \"\(typo)\" (opps-hub --help lists the commands)" + (guess.map { "; did you mean: \($0)" } ?? ""))
            return ExitStatus.usage
        }
        // The overview, and a command's own help, in Chinese for a Chinese reader.
        if chinese, [[], ["--help"], ["-h"], ["help"]].contains(arguments) {
            Console.out(ChineseHubHelp.overview)
            return 0
        }
        // A group named with only where the hub is (`opps-hub user --data DIR`): the group's page,
        // which lists its commands, not "unknown option --data".
        if let (path, group) = groupAlone(arguments) {
            Console.out(chinese ? ChineseHubHelp.help.page(path) ?? "" : Usage.fitted(OppsHub.helpMessage(for: group, columns: Console.width)))
            return 0
        }
        if chinese, let path = ChineseHubHelp.help.path(asked: arguments), let page = ChineseHubHelp.help.page(path) {
            Console.out(page)
            return 0
        }
        // `opps-hub backup --help`: the group's page, which lists every command in it.
        if let group = ChineseHubHelp.help.groupAsked(arguments) {
            Console.out(Usage.fitted(OppsHub.helpMessage(for: group, columns: Console.width)))
            return 0
        }
        do {
            var command = try OppsHub.parseAsRoot(arguments)
            if var a = command as? any AsyncParsableCommand { try await a.run() } else { try command.run() }
            return 0
        } catch let e as CommandFailure {
            Console.err((chinese ? "opps-hub：" : "opps-hub: ") + e.said)
            return 1
        } catch let e as ExitCode {
            return e.rawValue
        } catch {
            let code = OppsHub.exitCode(for: error)
            if error is CleanExit || code.isSuccess {
                Console.out(Usage.fitted(OppsHub.fullMessage(for: error)))
                return 0
            }
            // `opps-hub user lst --data DIR`: the group's commands and the one meant (it said
            // "Unknown option '--data'").
            if let (group, typo, subs) = ChinesePages<OppsHub>.unknownSubcommand(arguments) {
                let line = CommandSuggestion.closest(to: typo, among: subs).map { CommandSuggestion.line("opps-hub", [group, $0] + Array(arguments.dropFirst(2))) }
                Console.err(
                    chinese
                        ? "opps-hub：没有命令「\(typo)」：opps-hub \(group) 的命令有 \(subs.joined(separator: "、"))" + (line.map { "。是指：\($0)" } ?? "")
                        : "opps-hub: unknown command \"\(typo)\" for opps-hub \(group) (it has \(subs.joined(separator: ", ")))"
                            + (line.map { "; did you mean: \($0)" } ?? ""))
                return ExitStatus.usage
            }
            let message = OppsHub.message(for: error)
            // A missing argument: what it is, and the command's example.
            if let said = ChineseHubHelp.help.missingArgument(message, words: arguments, chinese: chinese) {
                Console.err((chinese ? "opps-hub：" : "opps-hub: ") + said)
                return code.rawValue
            }
            Console.err(chinese ? "opps-hub：" + (ChineseUsage.translate(message).map { ChineseHubHelp.help.named($0) } ?? message) : "opps-hub: " + message)
            return code.rawValue
        }
    }
}

extension OppsHubMain {
    /// The group of commands `arguments` name, when they name nothing else but where the hub is
    /// (`--data`, `--store` with their values) and the group has no default command.
    static func groupAlone(_ arguments: [String]) -> ([String], ParsableCommand.Type)? {
        var words: [String] = []
        var i = 0
        while i < arguments.count {
            if ["--data", "--store"].contains(arguments[i]) {
                i += 2
                continue
            }
            if arguments[i].hasPrefix("--data=") || arguments[i].hasPrefix("--store=") {
                i += 1
                continue
            }
            words.append(arguments[i])
            i += 1
        }
        return ChinesePages<OppsHub>.groupAlone(words)
    }
}

/// `opps-hub workspace …`: the workspace document.
public struct WorkspaceCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "workspace",
        abstract: "Check and show workspace documents (entities, fields, stages, roles, ownership rules).",
        discussion: "The format is described in Protocol/spec/workspace-format.md.\n\nExample: opps-hub workspace show --data /srv/opps > workspace.json",
        subcommands: [Check.self, Show.self, Apply.self]
    )

    public init() {}

    /// `opps-hub workspace check FILE`.
    public struct Check: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Validate a workspace file and report every problem with its line and column.",
            discussion:
                "Exits 0 when the file is valid, 1 when it is not (problems on stderr, or as JSON with --json).\n\nExample: opps-hub workspace check workspace.json"
        )

        @Argument(help: "The workspace file (JSON).")
        var file: String

        @Flag(help: "Print the result as one JSON object.")
        var json = false

        public init() {}

        public func run() throws {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw CommandFailure("cannot read \(file): check the path and permissions", chinese: "无法读取 \(file)：请检查路径和权限")
            }
            let report = WorkspaceReport(text: text, file: file)
            if json {
                Console.out(report.json.prettyText)
            } else if report.issues.isEmpty {
                Console.out(report.summary)
            } else {
                for issue in report.issues {
                    Console.err("\(file):\(issue.position.line):\(issue.position.column): \(issue.path): \(say(issue.message, issue.chinese))")
                }
            }
            if !report.issues.isEmpty { throw ExitCode.failure }
        }
    }

    /// `opps-hub workspace show`.
    public struct Show: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Print a hub's current workspace document (--data), or the built-in default, a starting point for your own.",
            discussion: "Example: opps-hub workspace show --data /srv/opps > workspace.json"
        )

        @Option(name: .customLong("data"), help: "The hub's data directory; without it (and without --store), the built-in default is shown.")
        var directory: String?

        @Option(name: .customLong("store"), help: "Instead of --data: the hub's PostgreSQL database (postgres://…).")
        var store: String?

        public init() {}

        public func validate() throws { try DataOption(directory: directory, store: store).validate() }

        public func run() throws {
            if directory != nil || store != nil {
                let engine = try DataOption(directory: directory, store: store).openEngine()
                guard let (_, document) = try engine.store.workspace() else { throw CommandFailure("the hub has no workspace", chinese: "服务器没有工作区") }
                Console.out(document.hasSuffix("\n") ? String(document.dropLast()) : document)
                return
            }
            Console.out(Workspace.defaultDocument.hasSuffix("\n") ? String(Workspace.defaultDocument.dropLast()) : Workspace.defaultDocument)
        }
    }
}

extension WorkspaceCommand {
    /// `opps-hub workspace apply`.
    public struct Apply: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Make a workspace file the hub's new version (e.g. a custom field); replicas pick it up at their next sync.",
            discussion:
                "The file must validate, carry a higher version, and keep every entity and field with its number and type (enums may gain members); its roles may not leave a deal someone sees now seen by no one (the refusal says which). Nothing is changed when it does not.\n\nExample: opps-hub workspace apply workspace.json --data /srv/opps (after raising its version and adding a field)"
        )

        @Argument(help: "The workspace file (JSON).")
        var file: String

        @OptionGroup var data: DataOption

        public init() {}

        public func run() throws {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CommandFailure("cannot read \(file)", chinese: "无法读取 \(file)") }
            let ws = try adminCall { try data.openEngine().apply(workspace: text) }
            Console.out(
                say(
                    "workspace \"\(ws.name)\" version \(ws.version) applied; replicas get it at their next sync",
                    "已采用工作区「\(ws.name)」第 \(ws.version) 版；副本在下一次同步时拿到它"))
        }
    }
}

/// The outcome of checking one workspace text; pure so tests can call it.
public struct WorkspaceReport: Sendable {
    public var file: String
    public var workspace: Workspace?
    public var issues: [WorkspaceIssue]

    public init(text: String, file: String) {
        self.file = file
        do {
            workspace = try Workspace.decode(text)
            issues = []
        } catch {
            workspace = nil
            issues = error.issues
        }
    }

    public var summary: String {
        guard let w = workspace else { return say("\(file): \(counted(issues.count, "problem"))", "\(file)：\(issues.count) 个问题") }
        let fields = w.entities.reduce(0) { $0 + $1.fields.count }
        return say(
            "\(file): valid workspace \"\(w.name)\" version \(w.version): \(w.entities.count) entities, \(fields) fields, \(w.stages.count) stages, \(w.roles.count) roles",
            "\(file)：有效的工作区「\(w.name)」第 \(w.version) 版：\(w.entities.count) 个实体，\(fields) 个字段，\(w.stages.count) 个阶段，\(w.roles.count) 个角色")
    }

    public var json: JSON {
        (try? JSONValueEncoder.encode(
            WorkspaceCheckJSON(
                file: file, valid: issues.isEmpty, version: workspace?.version,
                issues: issues.map { .init(line: $0.position.line, column: $0.position.column, path: $0.path, message: $0.message) }))) ?? .null
    }
}

/// A failure the user can act on: printed as one line, exit code 1.
public struct CommandFailure: Error, CustomStringConvertible, LocalizedError {
    public var message: String
    /// The same for a Chinese reader (LANG), where it has one.
    public var chinese: String?
    public init(_ message: String, chinese: String? = nil) {
        self.message = message
        self.chinese = chinese
    }
    /// What failed, then why: `english: reason.english`, `chinese：reason.chinese`.
    init(_ english: String, chinese: String, because reason: (english: String, chinese: String)) {
        self.init("\(english): \(reason.english)", chinese: "\(chinese)：\(reason.chinese)")
    }
    /// The failure as a hub error says it, in both languages.
    init(_ error: HubError) { self.init(error.message, chinese: error.chinese) }
    /// What the operator reads: the Chinese when they read Chinese and it has one.
    var said: String { ChineseHubHelp.readerIsChinese ? chinese ?? message : message }
    public var description: String { message }
    public var errorDescription: String? { message }
}

extension StoreError {
    /// Why the store failed, for the operator in each language: a database a newer opps-hub
    /// wrote (a migration this build does not know) said as that, with what to do; any other
    /// failure as the store words it. For a file that may not be the hub's own (a backup, a
    /// restore's source): `databaseReason` is the hub database's.
    var reason: (english: String, chinese: String) {
        guard code == StoreError.newerSchema else { return (message, message) }
        return (
            "it was written by a newer opps-hub: run that version of opps-hub (or a later one); nothing in it was changed",
            "它是更新版本的 opps-hub 写的：请用那个版本（或更新的）opps-hub；其中的数据没有改动"
        )
    }

    /// `reason`, of the hub's own database: a full or failing disk, a file the hub may not
    /// write, a damaged file are each said as that, with what to do.
    var databaseReason: (english: String, chinese: String) {
        switch fileFailure {
        case .diskFullOrFailing?:
            return (
                "its disk is full or failing (\(message)); nothing in it was changed: free some space, then run the command again",
                "磁盘满了或出了故障（\(message)）；其中的数据没有改动：腾出空间后再运行一次"
            )
        case .notWritable?:
            return (
                "this user may not write it (\(message)): check the data directory's owner and permissions; nothing in it was changed",
                "当前用户不能写入它（\(message)）：请检查数据目录的所有者和权限；其中的数据没有改动"
            )
        case .damaged?:
            return (
                "it is damaged (\(message)): stop the hub and restore the last backup (opps-hub restore)",
                "它已损坏（\(message)）：请停止服务器并恢复最近的备份（opps-hub restore）"
            )
        case nil:
            return reason
        }
    }
}

/// What `opps-hub` says, in the operator's language (LANG): the English, or the Chinese for a
/// Chinese reader.
func say(_ english: String, _ chinese: String) -> String { ChineseHubHelp.readerIsChinese ? chinese : english }
