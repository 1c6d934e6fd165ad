import OppsConsole

/// What a rep most likely meant by a word `opps` has no command for, as the whole command line
/// to type: a typo of a command (`lsit` → `opps list`), or a word people use for one (`done ID`
/// → `opps task done ID`, `edit` → `opps set`, `call ID …` → `opps log ID call …`, `看板` →
/// `opps board`). The words typed after it are kept, so the line can be typed back as it is.
enum CommandGuess {
    /// The options that take an amount, or another number a minus may begin (`opps web
    /// --sync-minutes -1` is then refused as out of range, not as "missing its value").
    static let amountOptions: Set<String> = ["--amount", "--amount-min", "--amount-max", "--port", "--sync-minutes"]

    /// `--amount -5` as `--amount=-5`: the parser takes a word starting with `-` for an option,
    /// which left --amount "without a value" — a negative amount is a value the workspace's
    /// bounds judge, by name. Only a word that reads as a number is joined, so `--amount
    /// --account X` still says --amount has no value.
    static func negativeAmountsJoined(_ arguments: [String]) -> [String] {
        var out = [String](), i = 0
        while i < arguments.count {
            let word = arguments[i]
            if word == "--" { return out + arguments[i...] }
            if amountOptions.contains(word), i + 1 < arguments.count, Self.isNegativeNumber(arguments[i + 1]) {
                out.append(word + "=" + arguments[i + 1])
                i += 2
                continue
            }
            out.append(word)
            i += 1
        }
        return out
    }

    /// `-5`, `-1,200.50`, `-12万`: a minus, then a digit.
    static func isNegativeNumber(_ word: String) -> Bool {
        word.count > 1 && word.first == "-" && word.dropFirst().first.map(\.isNumber) == true
    }

    /// Words for a command, in English and Chinese, that are not its name.
    static let synonyms: [String: [String]] = {
        var out: [String: [String]] = [:]
        let table: [([String], [String])] = [
            (["done", "complete", "finish", "完成"], ["task", "done"]),
            (["edit", "update", "change", "modify", "修改", "改"], ["set"]),
            (["move", "advance", "推进", "阶段"], ["stage"]),
            (["ls", "deals", "search", "find", "商机", "列表", "搜索"], ["list"]),
            (["add", "create", "新建"], ["new"]),
            (["view", "info", "get", "查看", "详情"], ["show"]),
            (["rm", "remove", "删除"], ["delete"]),
            (["todo", "agenda", "今天", "待办"], ["today"]),
            (["tasks", "任务"], ["task", "list"]),
            (["reports", "报表", "报告"], ["report"]),
            (["预测"], ["forecast"]),
            (["漏斗", "转化"], ["funnel"]),
            (["导出"], ["export"]),
            (["历史", "修改记录"], ["history"]),
            (["团队"], ["team"]),
            (["规则", "权限"], ["rules"]),
            (["跟进"], ["log"]),
            (["pipeline", "kanban", "看板"], ["board"]),
            (["push", "pull", "refresh", "同步"], ["sync"]),
            (["whoami", "me", "状态"], ["status"]),
            (["language", "lang", "语言"], ["locale"]),
            (["open", "browser", "ui", "网页", "浏览器"], ["web", "--open"]),
            (["approval", "审批"], ["approvals"]),
            (["leads", "线索"], ["lead"]),
            (["accounts", "customer", "customers", "客户"], ["account"]),
            (["contacts", "联系人"], ["contact"]),
            (["冲突"], ["conflicts"]),
            (["帮助"], ["help"]),
        ]
        for (words, command) in table { for w in words { out[w] = command } }
        return out
    }()

    /// The kinds of activity `opps log` takes, by name and by their default Chinese label:
    /// `opps call ID …` means `opps log ID call …`.
    static let activities: Set<String> = ["call", "visit", "email", "meeting", "checkin", "note", "电话", "拜访", "邮件", "会议", "签到", "备注"]

    /// The command line `arguments` (which start with `typo`, or `help typo`) most likely meant,
    /// or nil when nothing is near.
    static func line(for arguments: [String], typo: String, commands: [String]) -> String? {
        // A word known to mean a command (`tasks` is the task list, not `task`'s default add)
        // before the command its spelling is nearest.
        let asksHelp = arguments.first == "help" && arguments.dropFirst().first == typo
        let rest = Array(arguments.drop { $0 != typo }.dropFirst())
        var words: [String]
        if asksHelp {
            guard let command = synonyms[typo.lowercased()]?.first ?? CommandSuggestion.closest(to: typo, among: commands + ["help"]) else { return nil }
            words = ["help", command]
        } else if activities.contains(typo.lowercased()) {
            // The deal comes first in `opps log`, then the kind.
            words = ["log"] + (rest.first.map { [$0] } ?? ["<id>"]) + [typo] + rest.dropFirst()
            return shell(words)
        } else if let command = synonyms[typo.lowercased()] ?? CommandSuggestion.closest(to: typo, among: commands + ["help"]).map({ [$0] }) {
            words = command + (command == ["set"] ? withoutSetOption(rest) ?? rest : rest)
        } else {
            return nil
        }
        return shell(words)
    }

    static func shell(_ words: [String]) -> String { CommandSuggestion.line("opps", words) }

    /// `words` without the `--set` other tools put before each FIELD=VALUE (`edit ID --set a=b`,
    /// `--set=a=b`): `opps set` takes the pairs as they are. Nil when there is none.
    static func withoutSetOption(_ words: [String]) -> [String]? {
        guard words.contains(where: { $0 == "--set" || $0.hasPrefix("--set=") }) else { return nil }
        return words.compactMap { $0 == "--set" ? nil : $0.hasPrefix("--set=") ? String($0.dropFirst(6)) : $0 }
    }
}
