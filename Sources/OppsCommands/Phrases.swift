import Foundation
import OppsConsole
import OppsCore
import OppsReplica

/// The command line's own sentences in the reader's language. The workspace gives the business's
/// words (stages, fields, members, roles: `Vocabulary`); these are `opps`'s: headings, summaries,
/// what an edit did, what a sync did. English, and Chinese when the labels shown are Chinese — the
/// same rule as the web app's `WebText`, so a reader sees one language, not a sentence of each.
///
/// Every sentence lives here in both languages, so a translator reads one file and a new command
/// adds its sentences here rather than an English string in its own file. `--json`, `--csv`, the
/// wire and ids never go through it: machines read names. The rules' refusals, proposals and
/// conflicts are said by their rule (`Vocabulary.chineseReason`, shared with the web app); the
/// errors a rep meets daily are said here (`error`). The rarer errors made below the command line
/// (the argument parser, the workspace, the store) stay English.
struct Phrases: Sendable {
    let chinese: Bool

    init(chinese: Bool) { self.chinese = chinese }

    /// The sentences for `words`' language: Chinese for any `zh` locale, else English.
    init(_ words: Vocabulary) { chinese = words.readsChinese }

    func callAsFunction(_ en: String, _ zh: String) -> String { chinese ? zh : en }

    // MARK: - shared words

    var pendingSync: String { self("(pending sync)", "（待同步）") }
    var lockedForApproval: String { self("(locked: approval pending)", "（审批中，已锁定）") }
    var empty: String { self("(empty)", "（空）") }
    var never: String { self("never", "从未") }
    func yesNo(_ b: Bool) -> String { chinese ? (b ? "是" : "否") : (b ? "true" : "false") }
    /// A value as a reader reads it: an enum member by its label, a yes/no in their words.
    func value(_ words: Vocabulary, _ entity: String, _ field: String, _ v: Value) -> String {
        if case let .boolean(b) = v { return yesNo(b) }
        return words.value(entity, field, v)
    }

    /// `opps init` run again on a replica whose first sync was cut short.
    func resumingFirstSync(records: Int) -> String {
        self(
            "carrying on with the first sync that did not finish here (\(grouped(records)) records so far)",
            "接着完成上次没有完成的第一次同步（本机已有 \(grouped(records)) 条记录）")
    }
    /// `opps sync` that finished a replica's first full sync (an `opps init` cut short): what it
    /// holds now, rather than every record listed as news.
    func firstSyncDone(records: Int) -> String {
        self("the first full sync is done: \(grouped(records)) records here", "第一次完整同步已完成：本机有 \(grouped(records)) 条记录")
    }

    // MARK: - today

    func todaySummary(_ day: CivilDate, due: Int, overdue: Int, stale: Int) -> String {
        self("today \(day): \(due) due, \(overdue) overdue, \(stale) stale", "今天 \(day)：\(due) 项今日到期，\(overdue) 项逾期，\(stale) 个商机久未跟进")
    }
    var dueToday: String { self("due today", "今日到期") }
    /// A marketer's leads still before their hand-off, on their day.
    /// Of them, `sentBack` came back from the rep they were handed to (`Replica.sentBack`).
    func leadsAwaiting(_ n: Int, sentBack: Int = 0) -> String {
        let back = sentBack == 0 ? "" : " (\(grouped(sentBack)) sent back)"
        return self(
            (n == 1 ? "1 of your leads waits for its hand-off" : "\(grouped(n)) of your leads wait for their hand-off") + back + ": opps lead list",
            "你的线索：\(grouped(n)) 条等待交接" + (sentBack == 0 ? "" : "，其中 \(grouped(sentBack)) 条被退回") + "（opps lead list）")
    }
    /// A rep's leads handed to them (`Agenda.handedToYou`): the title, an item's date, and the
    /// two things to do with one — move it on, or send it back to `back` (the lead stage, by its
    /// label) with the reason.
    var handedToYouTitle: String { self("leads handed to you (accept or send back):", "交接给你的线索（接受或退回）：") }
    func handedOn(_ day: String) -> String { self("handed\u{00A0}off\u{00A0}\(day)", "\(day) 交接") }
    var hintAccept: (label: String, command: String) { (self("accept one:", "接受："), self("opps stage ID next", "opps stage 编号 下一阶段")) }
    func hintSendBack(_ back: String) -> (label: String, command: String) {
        (self("send one back:", "退回："), self("opps stage ID \(back) --reason \"why\"", "opps stage 编号 \(back) --reason \"原因\""))
    }
    /// A success manager's day (`Agenda.handOffs`, `renewals`): the titles, an item's date, and
    /// how to take a deal on, with the post-sale owner field by its label.
    func handOffsTitle(_ field: String) -> String { self("won deals no one has taken on (\(field) not set):", "待接手的赢单（\(field)未填）：") }
    /// With `overdue`: some of them are past their day (not renewed yet).
    func renewalsTitle(_ days: Int, overdue: Bool = false) -> String {
        overdue ? self("renewals overdue or in the next \(days) days:", "逾期及 \(days) 天内的续约：") : self("renewals in the next \(days) days:", "\(days) 天内续约：")
    }
    /// A success manager's customers at risk (`Agenda.atRisk`), the health field and its red value by their labels.
    func atRiskTitle(_ field: String, _ red: String) -> String { self("customers at risk (\(field) \(red)):", "需要关注的客户（\(field)为「\(red)」）：") }
    func atRiskSince(_ day: String) -> String { self("since\u{00A0}\(day)", "自 \(day) 起") }
    func renewalOverdue(_ day: String) -> String { self("renewal\u{00A0}was\u{00A0}due\u{00A0}\(day)", "\(day) 续约，已逾期") }
    /// Others' deals waiting on fields this user owns (`Agenda.toFill`), and the line that fills them.
    var toFillTitle: String { self("deals waiting on fields you own (needed for their next stage):", "等你填写的商机（进入下一阶段前要填、归你负责）：") }
    func hintFill(_ fields: [String]) -> (label: String, command: String) {
        (self("fill them in:", "填写："), "opps set " + self("ID ", "编号 ") + fields.map { "\($0)=…" }.joined(separator: " "))
    }
    /// A renewal done: its next date takes it off the day.
    func hintRenewed(_ field: String) -> (label: String, command: String) {
        (self("renewed one:", "续约后："), self("opps set ID \(field)=DATE", "opps set 编号 \(field)=日期"))
    }
    func wonOn(_ day: String) -> String { self("won\u{00A0}\(day)", "\(day) 赢单") }
    func renewsOn(_ day: String) -> String { self("renews\u{00A0}\(day)", "\(day) 续约") }
    func hintTakeOn(_ field: String, user: String) -> (label: String, command: String) {
        (self("take one on:", "接手："), self("opps set ID \(field)=\(user)", "opps set 编号 \(field)=\(user)"))
    }
    var nothingToday: String {
        self("nothing due or overdue today; your deals: opps board", "今天没有到期或逾期的事；看你的商机：opps board")
    }
    /// After `opps today`'s items: what to type for each kind listed (the ids are the items').
    var hintTaskDone: (label: String, command: String) { (self("a task done:", "完成任务："), self("opps task done ID", "opps task done 编号")) }
    var hintNextStep: (label: String, command: String) {
        (self("a next step:", "写下一步："), self("opps set ID next_step=\"…\" next_step_due=DATE", "opps set 编号 下一步=\"…\" 下一步截止=日期"))
    }
    var hintTeamDeal: (label: String, command: String) { (self("a team deal:", "团队的商机："), self("opps show ID", "opps show 编号")) }
    var hintFollowUp: (label: String, command: String) { (self("a follow-up:", "记录跟进："), self("opps log ID call \"what happened\"", "opps log 编号 电话 \"发生了什么\"")) }
    var overdue: String { self("overdue", "已逾期") }
    var staleDeals: String { self("stale deals", "久未跟进的商机") }
    /// An agenda item's kind (`task`, `next_step`, `stale`, `overdue`, `unaccepted`), in words: the column is read, never typed back (English read
    /// `next_step` there).
    func agendaKind(_ kind: String) -> String {
        guard chinese else { return kind == "next_step" ? "next step" : kind == "unaccepted" ? "waiting" : kind == "unassigned" ? "no rep" : kind }
        switch kind {
        case "task": return "任务"
        case "next_step": return "下一步"
        case "stale": return "待跟进"
        case "unaccepted": return "未接受"
        case "unassigned": return "无人接手"
        case "overdue": return "已逾期"
        default: return kind
        }
    }
    /// A next step that is due but says nothing.
    var noNextStepText: String { self("(next step not written)", "（下一步未写明）") }
    /// When an agenda item was due, after its text.
    /// `day` as a list shows it (`shortDay`: 12-01, the year only when it is not this one).
    /// Held together when a line wraps (a no-break space): `(due` at one line's end and `12-01)`
    /// at the next's start read as two things.
    func dueOn(_ day: String) -> String { self(" (due\u{00A0}\(day))", "（\(day) 到期）") }
    /// How an approver decides (after `opps approvals`), with a waiting request's id.
    func howToDecide(_ id: String) -> String {
        self("approve: opps approve \(id); reject: opps reject \(id) --note WHY", "批准：opps approve \(id)；驳回：opps reject \(id) --note 原因")
    }
    /// What to do about the conflicts listed (after `opps conflicts`): with a number of one of
    /// the reader's own values, write it again or put it aside; else put it aside.
    func howToSettle(own: UInt64?, any: UInt64) -> String {
        if let own {
            return self(
                "restore yours: opps conflicts restore \(own); put aside: opps conflicts dismiss \(own)",
                "重新写入你的值：opps conflicts restore \(own)；不再显示：opps conflicts dismiss \(own)")
        }
        return self("put aside: opps conflicts dismiss \(any)", "不再显示：opps conflicts dismiss \(any)")
    }
    /// The reader's own writes that did not hold, still open here (`opps today`).
    func ownConflictsOpen(_ n: Int) -> String {
        self(
            (n == 1 ? "1 write of yours did not hold" : "\(grouped(n)) writes of yours did not hold") + " (opps conflicts)",
            "你有 \(grouped(n)) 项修改未被采用（opps conflicts）")
    }
    func awaitingDecision(_ n: Int) -> String {
        self("waiting for your decision: \(n) request\(n == 1 ? "" : "s") (opps approvals)", "待你审批：\(n) 项（opps approvals）")
    }
    /// A manager's team's deals that slipped: overdue next steps, and deals gone stale.
    func teamSummary(overdue: Int, stale: Int, unaccepted: Int = 0, unassigned: Int = 0) -> String {
        let leads = unaccepted == 0 ? ("", "") : (", \(unaccepted) lead\(unaccepted == 1 ? "" : "s") not accepted", "，\(unaccepted) 条线索交接后未接受")
        let orphans = unassigned == 0 ? ("", "") : (", \(unassigned) lead\(unassigned == 1 ? "" : "s") no rep took", "，\(unassigned) 条线索没有分到销售顾问")
        return self(
            "your team: \(overdue) overdue next step\(overdue == 1 ? "" : "s"), \(stale) stale deal\(stale == 1 ? "" : "s")\(leads.0)\(orphans.0):",
            "你的团队：\(overdue) 项下一步逾期，\(stale) 个商机久未跟进\(leads.1)\(orphans.1)：")
    }
    /// Under a manager's team when a lead no rep took is on it: how to give it one, the owner
    /// field by its label.
    func hintGiveARep(_ owner: String) -> (label: String, command: String) {
        (self("give a lead a rep:", "指派销售顾问："), self("opps set ID \(owner)=NAME", "opps set 编号 \(owner)=用户名"))
    }
    func noFollowUp(since day: String) -> String { self("no follow-up since\u{00A0}\(day)", "自 \(day) 起未跟进") }

    // MARK: - show and its timeline

    func deletedBy(_ author: String, at time: String) -> String {
        self("deleted by \(author) at \(time): kept here as it was; nothing can change it", "已由 \(author) 于 \(time) 删除：按原样保留在本机，不能再修改")
    }
    var notOnThisLaptop: String { self("(not on this laptop)", "（不在本机）") }
    var timeline: String { self("timeline (device time)", "时间线（设备时间）") }
    /// A write's fate: `lost`, `rejected`, … (Outcome).
    func outcome(_ o: String) -> String { Vocabulary.outcome(o, chinese: chinese) }
    /// Why a rule decided, and the rules' detail, in this reader's language (`Vocabulary.reason`).
    func rule(_ words: Vocabulary, _ name: String, entity: String, field: String) -> String {
        words.reason(rule: name, entity: entity, field: field, chinese: chinese)
    }
    func detail(_ words: Vocabulary, _ rule: RuleID, _ detail: String, entity: String, field: String) -> String {
        words.detail(rule, detail, entity: entity, field: field, chinese: chinese)
    }
    /// A value inside a sentence, quoted so a text's own words do not run into the sentence's
    /// (「等待客户回复」, "demo Friday"); the empty mark as it is.
    func quoted(_ value: String) -> String { value == empty ? value : chinese ? "「\(value)」" : "\"\(value)\"" }
    func madeShort(_ id: String, _ entity: String, name: String?) -> String {
        chinese
            ? "\(id)  \(entity)" + (name.map { "「\($0)」" } ?? "") + pendingSync
            : "\(id)  \(entity)" + (name.map { " \"\($0)\"" } ?? "") + " " + pendingSync
    }
    /// An activity just logged: its kind, where (a check-in's place), what happened (cut to 40
    /// columns), the deal, and the time when one was given.
    func logged(_ id: String, kind: String, note: String?, deal: String?, at: String?, place: String? = nil) -> String {
        let note = note.map { cut($0.replacingOccurrences(of: "\n", with: " "), 40) }
        let place = place.map { cut($0, 30) }
        if chinese {
            return "\(id)  已记录\(kind)" + (place.map { "（\($0)）" } ?? "") + (note.map { "：\($0)" } ?? "") + (deal.map { "（\($0)）" } ?? "")
                + (at.map { "，\($0)" } ?? "") + pendingSync
        }
        return "\(id)  logged \(kind)" + (place.map { " at \($0)" } ?? "") + (note.map { ": \($0)" } ?? "") + (deal.map { " (\($0))" } ?? "")
            + (at.map { ", \($0)" } ?? "") + " " + pendingSync
    }
    /// A task just made, with the day it is due as the typed date was read (`下周一` is which
    /// Monday?) and whose it is when not the reader's.
    func taskMade(_ id: String, _ entity: String, text: String, due: CivilDate?, assignee: String?) -> String {
        let day = due.map { "\($0)（\(weekday($0))）" }
        if chinese {
            return "\(id)  \(entity)「\(text)」" + (day.map { "，\($0)到期" } ?? "") + (assignee.map { "，由 \($0) 执行" } ?? "") + pendingSync
        }
        return "\(id)  \(entity) \"\(text)\"" + (due.map { ", due \($0) (\(weekday($0)))" } ?? "") + (assignee.map { ", for \($0)" } ?? "") + " "
            + pendingSync
    }

    // MARK: - edits

    /// Fields an edit wrote, each with its value now when given (`已修改 金额：500,000.00、预计成交日期：2026-12-11（周五）（待同步）`).
    func changed(_ fields: [(label: String, value: String?)]) -> String {
        let en = fields.map { f in f.value.map { "\(f.label) to \($0)" } ?? f.label }, zh = fields.map { f in f.value.map { "\(f.label)：\($0)" } ?? f.label }
        return self("changed \(en.joined(separator: "; ")) (pending sync)", "已修改 \(zh.joined(separator: "、"))（待同步）")
    }
    /// After the first items of an `opps today` list.
    func moreInAgenda(_ n: Int) -> String {
        self("  …and \(grouped(n)) more (opps today --all lists every one)", "  …还有 \(grouped(n)) 项（opps today --all 列出全部）")
    }
    /// After the first deals of a board's column: how many more, and how to see them (one
    /// owner's, where the board holds several).
    func moreOnBoard(_ n: Int, owners: Bool) -> String {
        owners
            ? self(
                "  …and \(grouped(n)) more (opps board --all lists every one; --owner NAME one rep's)", "  …还有 \(grouped(n)) 个（opps board --all 列出全部；--owner 某人 只看一人的）")
            : self("  …and \(grouped(n)) more (opps board --all lists every one)", "  …还有 \(grouped(n)) 个（opps board --all 列出全部）")
    }
    /// After a sync's lines of what others changed, five deals: the rest.
    func moreChanges(_ n: Int) -> String {
        self("  …and \(grouped(n)) more (opps history ID shows each)", "  …还有 \(grouped(n)) 项（opps history 编号 可看每个）")
    }
    /// After `opps new`, `opps lead add`: an account or contact it made (its name was none's
    /// here), `entity` in the reader's words.
    func made(_ entity: String, _ name: String, code: String) -> String { self("  new \(entity): \(name) (\(code))", "  新建\(entity)：\(name)（\(code)）") }
    /// After a lead's hand-off with no territory (`Replica.handedOffAnywhere`): what the hub will
    /// do, with the territories seen here (the first five), then the lines that give it one
    /// before the sync — the move taken back and made again with the territory written first
    /// (the hub picks the rep when the move reaches it, so a territory written after it is late),
    /// the most used as the example. `territory` and `stage` are the reader's words for the
    /// field and for the hand-off stage.
    func handedOffAnywhere(
        code: String, territory: String, stageField: String, stage: String, known: [String]
    ) -> (
        sentence: String, commands: [String]
    ) {
        let seen = known.prefix(5).joined(separator: self(", ", "、")) + (known.count > 5 ? "…" : "")
        return (
            self(
                "no territory: the hub gives it to the next rep in turn, whatever their territory"
                    + (known.isEmpty ? "" : " (territories here: \(seen))") + "; to give it one, before you sync:",
                "没有填区域：服务器会在所有区域的销售顾问中轮流分配" + (known.isEmpty ? "" : "（本机见过的区域：\(seen)）") + "；要交给某一区域，请在同步前："),
            ["opps undo", "opps set \(code) \(territory)=\(known.first ?? "…") \(stageField)=\(stage)"]
        )
    }
    /// After `opps new`: what the stage needs before `stage`, as the opps set to type; or the
    /// move itself when nothing is missing.
    func beforeStage(_ stage: String, code: String, pairs: [String]) -> String {
        guard !pairs.isEmpty else { return self("next: opps stage \(code) \(stage)", "下一步：opps stage \(code) \(stage)") }
        let set = "opps set \(code) " + pairs.joined(separator: " ")
        return self("to move on to \(stage), fill in: \(set)", "进入「\(stage)」前先补上：\(set)")
    }
    func filled(_ fields: [(label: String, value: String)]) -> String {
        self("  with " + fields.map { "\($0.label) \($0.value)" }.joined(separator: "; "), "  已填 " + fields.map { "\($0.label)：\($0.value)" }.joined(separator: "、"))
    }
    /// `opps task list`'s heading: the reader's open tasks, or a deal's (how many are done).
    func tasksTitle(deal: String?, count: Int, done: Int) -> String {
        guard let deal else { return self("your open tasks (\(grouped(count))):", "你的未完成任务（\(grouped(count)) 项）：") }
        let tail = done > 0 ? self(", \(grouped(done)) done", "，\(grouped(done)) 项已完成") : ""
        return self("tasks of \(deal) (\(grouped(count))\(tail)):", "商机「\(deal)」的任务（\(grouped(count)) 项\(tail)）：")
    }
    /// `opps task list` with nothing to list, and how to add one.
    func noTasks(deal: String?, id: String?) -> String {
        let add = "opps task add \(id ?? self("DEAL", "商机")) \(self("\"what to do\" --due DATE", "\"要做的事\" --due 日期"))"
        guard let deal else { return self("you have no open tasks; add one: \(add)", "你没有未完成的任务；新加一项：\(add)") }
        return self("\(deal) has no tasks; add one: \(add)", "商机「\(deal)」还没有任务；新加一项：\(add)")
    }
    /// After `opps task list`: how to finish one (when one listed is the reader's to finish) and
    /// add one, a line each.
    func taskCommands(deal id: String?, markable: Bool = true) -> String {
        let add = "opps task add \(id ?? self("DEAL", "商机")) \(self("\"what to do\" --due DATE", "\"要做的事\" --due 日期"))"
        guard markable else { return self("add one: \(add)", "新加一项：\(add)") }
        return self("mark one done: opps task done ID\nadd one: \(add)", "完成一项：opps task done 编号\n新加一项：\(add)")
    }
    var taskDone: String { self("done", "已完成") }
    var overdueWord: String { self("overdue", "已逾期") }
    var todayWord: String { self("today", "今天") }
    /// Whose a task is, when not the reader's; a name withheld from them (visibility.md §6) as another's.
    func doneBy(_ user: String) -> String { user.isEmpty ? self(" (someone else's)", "（他人的任务）") : self(" (for \(user))", "（由 \(user) 执行）") }
    /// A day's weekday, short: 周五, Fri.
    func weekday(_ day: CivilDate) -> String {
        (chinese ? ["周一", "周二", "周三", "周四", "周五", "周六", "周日"] : ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])[Int(day.weekday) - 1]
    }
    func requestedApproval(_ id: String, for fields: [String], detail: String) -> String {
        self(
            "requested approval \(id) for \(fields.joined(separator: " and ")): \(detail) — see: opps approvals",
            "已申请审批 \(id)（\(fields.joined(separator: "、"))）：\(detail) — 查看：opps approvals")
    }
    func proposed(_ field: String, detail: String) -> String {
        self("proposed \(field): \(detail) — the owner or a manager decides", "已提议修改 \(field)：\(detail) — 由负责人或经理决定")
    }
    func deleted(_ id: String) -> String { self("deleted \(id) (pending sync)", "已删除 \(id)（待同步）") }
    /// `approved` / `rejected` a request.
    func decided(_ decision: String, _ id: String, _ requested: String) -> String {
        chinese
            ? "\(decision == "approved" ? "已批准" : "已驳回") \(id)：\(requested)（同步后在服务器生效）"
            : "\(decision) \(id): \(requested) (takes effect at the hub when you sync)"
    }

    /// One's own request taken back.
    func withdrew(_ id: String, _ requested: String) -> String {
        self("withdrew \(id): \(requested) (takes effect at the hub when you sync)", "已撤回 \(id)：\(requested)（同步后在服务器生效）")
    }

    // MARK: - sync and init

    /// What a command waits for when the hub has not answered for a while: its host and port.
    func connecting(hub url: String) -> String {
        let parts = URLComponents(string: url)
        let host = parts?.host.map { $0 + (parts?.port.map { ":\($0)" } ?? "") } ?? url
        return self("waiting for the hub at \(host)…", "正在等待服务器 \(host) 应答…")
    }
    func indexing(_ records: Int, bar: Bool) -> String {
        let n = grouped(records)
        if chinese { return "已拉取 \(n) 条记录，正在建立索引…" }
        return bar ? "\(n) records pulled, building indexes…" : "pulled \(n) records, building indexes…"
    }
    func pullProgress(received: Int, of total: Int?, rate: Int, secondsLeft: Int?, bar: Bool) -> String {
        let what =
            total.map { self("\(grouped(received)) of \(grouped($0)) records", "\(grouped(received)) / \(grouped($0)) 条记录") }
            ?? self("\(grouped(received)) records and changes", "\(grouped(received)) 条记录和变更")
        var line = what + self(", \(grouped(rate))/s", "，每秒 \(grouped(rate)) 条")
        if let secondsLeft { line += self(", \(secondsLeft) s left", "，还需 \(secondsLeft) 秒") }
        return bar ? line : self("pulled ", "已拉取 ") + line
    }
    /// What a sync did: what it pushed, and what it brought from others (this laptop's own
    /// writes, which come back confirmed, are not news).
    /// A sync's first line: what was pushed counted in records (a rep's unit: a deal, a task, a
    /// request — one request is seven field writes, and "7 changes" for it read as seven things
    /// done), the writes only when some conflicted; what others changed; a repair.
    func synced(pushed: Int, records: Int, applied: Int, conflicts: Int, fromOthers: Int, repaired: Bool) -> String {
        chinese
            ? (pushed == 0
                ? "没有待推送的修改"
                : "已推送 \(grouped(records)) 条记录的修改" + (conflicts == 0 ? "，全部生效" : "（\(grouped(applied)) 项生效，\(grouped(conflicts)) 项冲突）"))
                + (fromOthers == 0 ? "；别人没有新的修改" : "；收到别人的 \(grouped(fromOthers)) 项修改")
                + (repaired ? "；已按服务器修复" : "")
            : (pushed == 0
                ? "nothing to push"
                : "pushed changes to \(counted(records, "record"))" + (conflicts == 0 ? ", all applied" : " (\(applied) applied, \(counted(conflicts, "conflict")))"))
                + (fromOthers == 0 ? "; nothing new from others" : "; \(grouped(fromOthers)) update\(fromOthers == 1 ? "" : "s") from others")
                + (repaired ? "; repaired from the hub" : "")
    }
    func clockOff(seconds: Int64, flagged: Int) -> String {
        self("this laptop's clock is \(seconds) s off the hub's: \(counted(flagged, "check-in")) flagged", "本机时钟与服务器相差 \(seconds) 秒：\(flagged) 次签到已标记")
    }
    var seeConflicts: String { self("see: opps conflicts", "查看：opps conflicts") }
    /// Writes of the reader's that the hub took and that lost later (a concurrent write with more
    /// say reached it after), or that another laptop of theirs pushed: news this sync brought.
    func overruled(_ n: Int) -> String {
        self(
            "\(n) write\(n == 1 ? "" : "s") of yours did not hold: see opps conflicts (what holds now, and why)",
            "你有 \(grouped(n)) 项修改未被采用：查看 opps conflicts（原因和现在的值）")
    }
    /// Others' writes that lost to the reader's (`SyncReport.heldOver`): who, and how many.
    func heldOver(_ authors: [String]) -> String {
        var who: [String] = []
        for a in authors where !who.contains(a) { who.append(a) }
        let n = authors.count
        return self(
            "\(n) write\(n == 1 ? "" : "s") \(who.joined(separator: ", ")) made at the same time as yours did not hold, yours stands: see opps conflicts",
            "\(who.joined(separator: "、")) 同时修改的 \(grouped(n)) 项未被采用，你的值保留：查看 opps conflicts")
    }
    /// After a sync: groups of records here that look made twice, and the command that lists them
    /// (`opps account`, `opps contact`, `opps` for deals).
    func likelyDuplicates(_ n: Int, _ label: String, command: String) -> String {
        self(
            "\(n) likely duplicate \(label)\(n == 1 ? "" : "s") here: \(command) duplicates",
            "本机有 \(n) 组疑似重复的\(label)：\(command) duplicates")
    }
    func replicaMade(user: String, role: String, home: String, records: Int) -> String {
        self("replica for \(user) (\(role)) in \(home): \(records) records", "已为 \(user)（\(role)）建好副本，位于 \(home)：\(grouped(records)) 条记录")
    }
    /// Under `opps init`'s line: what to type next, for a replica with deals and for an empty one.
    func afterInit(hasDeals: Bool) -> String {
        hasDeals
            ? self(
                "next: opps today (what is due), opps board (your pipeline), opps web (the same in a browser)",
                "接下来：opps today 看今天要做的，opps board 看商机看板，opps web 在浏览器里看")
            : self(
                "next: opps new NAME --account ACCOUNT makes your first opportunity; opps help lists every command",
                "接下来：opps new 名称 --account 客户 新建第一个商机；opps help 列出全部命令")
    }
    /// Under `opps init`'s line for a marketer: the leads, a new one, the browser.
    var afterInitLeads: String {
        self(
            "next: opps lead list (your leads and what each needs before its hand-off), opps lead add NAME --company COMPANY, opps web",
            "接下来：opps lead list 看你的线索和交接前还缺什么，opps lead add 名称 --company 公司 新建线索，opps web 在浏览器里看")
    }
    /// `pending`: edits not yet sent (none: nothing to say of them).
    func connected(user: String, hub: String, pending: Int) -> String {
        guard pending > 0 else { return self("connected \(user)'s replica to \(hub); nothing waits to be sent", "已将 \(user) 的副本连接到 \(hub)；没有待同步的修改") }
        return self(
            "connected \(user)'s replica to \(hub); " + (pending == 1 ? "1 edit" : "\(grouped(pending)) edits") + " not yet sent kept: run opps sync",
            "已将 \(user) 的副本连接到 \(hub)；保留了 \(grouped(pending)) 项待同步的修改：运行 opps sync")
    }

    // MARK: - status

    /// `opps status`'s lines, label and value, the labels padded to one column: the last sync as a time and how long ago (device time, as every time opps
    /// prints), and what to do about what waits or what lost.
    func status(user: String, hub: String, lastSync: Int64?, now: Int64, pending: Int, conflicts: Int, awaiting: Int = 0, records: Int) -> String {
        // Never: the first full sync (opps init's) did not finish here, and what carries it on.
        let last =
            lastSync.map { LocalTime.minute($0) + self(" (\(ago(now - $0)))", "（\(ago(now - $0))）") }
            ?? never + self(" (the first sync did not finish: opps sync carries it on)", "（第一次同步没有完成：opps sync 接着同步）")
        var rows: [(String, String)] = [
            (self("user", "用户"), user), (self("hub", "服务器"), hub), (self("last sync", "上次同步"), last),
            (
                self("pending", "待同步"),
                pending == 0
                    ? self("nothing to send", "没有")
                    : self(
                        (pending == 1 ? "1 edit (opps sync sends it" : "\(grouped(pending)) edits (opps sync sends them") + "; opps undo takes back the last)",
                        "\(grouped(pending)) 项修改（opps sync 推送；opps undo 撤销最后一项）")
            ),
            (self("conflicts", "冲突"), grouped(conflicts) + (conflicts > 0 ? self(" (opps conflicts lists them)", "（opps conflicts 查看）") : "")),
        ]
        // An approver's requests waiting for them, only when there are some.
        if awaiting > 0 { rows.append((self("to decide", "待审批"), self("\(counted(awaiting, "request")) (opps approvals)", "\(grouped(awaiting)) 项（opps approvals 查看）"))) }
        // Counts grouped as every count opps prints is (1,061).
        rows.append((self("records", "记录"), grouped(records)))
        let width = rows.map { $0.0.displayWidth }.max() ?? 0
        return rows.map { $0.0.padding(width) + " " + $0.1 }.joined(separator: "\n")
    }

    /// How long ago, in the largest whole unit: `just now`, `5 min ago`, `3 h ago`, `2 days ago`.
    func ago(_ milliseconds: Int64) -> String {
        let minutes = max(0, milliseconds) / 60_000
        if minutes < 1 { return self("just now", "刚刚") }
        if minutes < 60 { return self("\(minutes) min ago", "\(minutes) 分钟前") }
        if minutes < 48 * 60 { return self("\(minutes / 60) h ago", "\(minutes / 60) 小时前") }
        return self("\(minutes / 1440) days ago", "\(minutes / 1440) 天前")
    }

    // MARK: - rules

    /// An access level as the matrix names it: `own`, … in English; what it lets one do in Chinese.
    func access(_ a: Access) -> String { chinese ? Vocabulary.chineseAccess(a) : a.name }
    func relation(_ r: Relation) -> String {
        guard chinese else { return r.rawValue }
        switch r {
        case .owner: return "负责人"
        case .team: return "团队成员"
        case .creator: return "创建者"
        case .managed: return "上级"
        case .member: return "本人的成员记录"
        case .assignee: return "执行人"
        }
    }
    /// What the table shows, then (on its own line, so it reads at 80 columns) whose view and whence.
    func rulesHeading(entity: String, role: String, stage: String, relations: [Relation], version: UInt64?) -> String {
        let held = relations.map(relation)
        if chinese {
            let source = version.map { "本机工作区，第 \($0) 版" } ?? "内置默认工作区"
            return "\(role)在「\(stage)」阶段对\(entity)各字段的权限\n（你的身份：\(held.isEmpty ? "无" : held.joined(separator: "、"))；\(source)）"
        }
        let source = version.map { "this laptop's workspace, version \($0)" } ?? "the built-in default workspace"
        return "\(entity) fields for \(role) at \(stage)\n(relations: \(held.joined(separator: ",")); \(source))"
    }

    // MARK: - conflicts and history

    var noConflicts: String { self("no conflicts", "没有冲突") }
    var notShownToYou: String { self("(not shown to you)", "（你无权查看）") }
    /// One conflict as `opps conflicts` lists it, in `width` columns: the record and field on
    /// the first line, what became of whose value and why, then what held when the hub decided
    /// (by whom, when) and, when the field has changed since, what it holds now — each indented.
    /// ("holds" for the value of the decision read as the field's value today, which it may no
    /// longer be: a manager restoring or putting aside decides on what holds now.)
    func conflictLines(
        _ number: UInt64, _ id: String, record name: String?, field: String, author: String, value: String, outcome o: String, rule: String,
        held: String, by winner: String?, at time: String, now: String? = nil, width: Int
    ) -> [String] {
        let head = "#\(number) \(id)" + (name.map { " " + $0 } ?? "") + (chinese ? " · \(field)" : " - \(field)")
        let what = chinese ? "\(author) 的\(quoted(value))\(outcome(o))（\(rule)）" : "\(author)'s \(quoted(value)) \(o) (\(rule))"
        // The hub's own writes (an import, an assignment) are its, in the reader's words.
        let winner = winner.map { authorName($0, chinese: chinese) }
        let then =
            chinese
            ? "当时的值：\(held)\(winner.map { "（\($0)）" } ?? "")，\(time)" + (now.map { "；现在：\($0)" } ?? "")
            : "held: \(held)\(winner.map { " by " + $0 } ?? ""), \(time)" + (now.map { "; now: \($0)" } ?? "")
        let indent = "    "
        return head.wrapped(width: width) + [what, then].flatMap { $0.wrapped(width: max(20, width - indent.count)).map { indent + $0 } }
    }
    func dismissed(_ number: UInt64, field: String) -> String { self("dismissed #\(number): \(field) keeps what holds", "已忽略 #\(number)：\(field) 保持现值") }
    var deletedTheRecord: String { self("deleted the record", "删除了此记录") }

    // MARK: - locale

    func showing(_ locale: String?, have: [String]) -> String {
        let list = have.isEmpty ? self("no labels", "没有标签") : have.joined(separator: ", ")
        return self("showing: \(locale ?? "names")   (workspace has: \(list))", "显示语言：\(locale ?? "名称")（工作区提供：\(list)）")
    }
    func forExample(stage: String, reads label: String) -> String {
        self("for example the stage \(stage) reads \"\(label)\"", "例如阶段 \(stage) 显示为「\(label)」")
    }

    // MARK: - lists

    /// A laptop with no deal at all, said to its user's role: who may make one is told how; an
    /// expert, that deals come with a place on their team; a role that sees stages (customer
    /// success: won), which; anyone else, that a sync brings what they may see.
    func noDealsYet(_ r: Replica, words: Vocabulary) -> String {
        switch r.dealSource {
        case .made:
            self(
                "no deals yet: opps new NAME --account ACCOUNT makes one, opps sync brings yours",
                "本机还没有商机：opps new 名称 --account 客户 新建一个，opps sync 取回你的商机")
        case let .atStages(stages):
            self(
                "no deals yet: you see those at \(stages.map(words.stage).joined(separator: ", ")) (opps sync brings them)",
                "本机还没有商机：你能看到「\(stages.map(words.stage).joined(separator: "」「"))」阶段的商机，opps sync 会取回")
        case .withTeam:
            self(
                "no deals yet: you see those whose team you are on (opps sync brings them)",
                "本机还没有商机：你能看到你所在团队的商机；经理把你加入团队后，opps sync 会取回")
        case .synced: self("no deals yet: opps sync brings those you may see", "本机还没有商机：opps sync 会取回你能看到的商机")
        }
    }
    var noDealsMatch: String { self("no opportunities here match", "本机没有符合条件的商机") }
    /// Under a record's fields: the empty ones this user may fill, then (its own line) how.
    func emptyToFill(_ fields: [String]) -> String {
        self("empty, yours to fill: \(fields.joined(separator: ", "))", "未填，你可以填：\(fields.joined(separator: "、"))")
    }
    var otherEmpty: String { self("others empty, yours to fill: ", "其他未填，你可以填：") }
    func forExample(_ command: String) -> String { self("e.g. \(command)", "例如：\(command)") }
    /// `opps rules` at a stage where the role sees no field of the entity.
    func hiddenAtThisStage(role: String, entity: String, stages: [String], command: String) -> String {
        self(
            "\(role) sees no \(entity) field at this stage; it does at \(stages.joined(separator: ", ")): \(command)",
            "\(role)在这个阶段看不到\(entity)的任何字段；看得到的阶段：\(stages.joined(separator: "、"))：\(command)")
    }
    /// An edit whose every value was already there: nothing written, nothing to sync.
    func unchanged(_ fields: [String]) -> String {
        self(
            "nothing to change: \(fields.joined(separator: ", ")) already \(fields.count == 1 ? "holds" : "hold") that",
            "没有变化：\(fields.joined(separator: "、"))已经是这个值")
    }
    /// The board shows open stages; every deal it would show is closed (a success manager's are won).
    func onlyClosedDeals(_ count: Int, _ stages: String, command: String) -> String {
        self(
            "no open opportunities here; \(count) closed (\(stages)): \(command)",
            "这里没有进行中的商机；已结束的 \(count) 个（\(stages)）：\(command)")
    }
    var noAccountsYet: String { self("no accounts on this laptop yet: opps account new NAME makes one", "本机还没有客户：opps account new 名称 新建一个") }
    func noAccountMatches(_ s: String) -> String { self("no account here matches \"\(s)\"", "本机没有与「\(s)」匹配的客户") }
    var noContactsYet: String {
        self("no contacts here yet: opps contact new NAME --account ACCOUNT makes one", "本机还没有联系人：opps contact new 姓名 --account 客户 新建一个")
    }
    func noContactMatches(_ s: String) -> String { self("no contact here matches \"\(s)\"", "本机没有与「\(s)」匹配的联系人") }
    func deals(_ n: Int) -> String { self("deals (\(n))", "商机（\(n)）") }
    func contacts(_ n: Int) -> String { self("contacts (\(n))", "联系人（\(n)）") }
    func noDuplicates(_ label: String) -> String { self("no likely duplicate \(label)s here", "本机没有疑似重复的\(label)") }
    func duplicateGroup(_ i: Int, count: Int, _ label: String) -> String { self("\(i). \(count) \(label)s look like one:", "\(i). \(count) 个\(label)疑似同一个：") }
    func byWithDeals(_ creator: String, deals: Int) -> String {
        self("by \(fit(creator, 8))  \(deals) deal\(deals == 1 ? "" : "s")", "创建人 \(fit(creator, 8))  \(deals) 个商机")
    }
    /// A group of `opps duplicates`: how many deals, and the account they are all for.
    func duplicateDeals(_ i: Int, count: Int, _ label: String, account: String?) -> String {
        let at = account.map { self(" at \($0)", "（\($0)）") } ?? ""
        return self("\(i). \(count) deals\(at) look like one:", "\(i). \(count) 个\(label)\(at)疑似同一个：")
    }
    var merge: String { self("merge", "合并") }
    func merged(_ id: String, into keep: String, repointed: Int, filled: [String], leftToHub: Int) -> String {
        if chinese {
            var what = ["\(repointed) 条记录已改为指向这里"]
            if !filled.isEmpty { what.append("补上了 " + filled.joined(separator: "、")) }
            if leftToHub > 0 { what.append("\(leftToHub) 条留待服务器改指") }
            return "已将 \(id) 合并到 \(keep)：" + what.joined(separator: "；") + "（待同步）"
        }
        var what = ["\(repointed) record\(repointed == 1 ? "" : "s") re-pointed here"]
        if !filled.isEmpty { what.append("filled in " + filled.joined(separator: ", ")) }
        if leftToHub > 0 { what.append("\(leftToHub) left for the hub to re-point") }
        return "merged \(id) into \(keep): " + what.joined(separator: "; ") + " (pending sync)"
    }

    // MARK: - approvals and team

    var nothingWaits: String { self("nothing waits for your decision", "没有等待你决定的申请") }
    /// After "nothing waits": the requests decided or withdrawn, and where they are listed.
    func decidedElsewhere(_ n: Int) -> String {
        self("; \(grouped(n)) decided or withdrawn: opps approvals --all", "；已有结果（批准、驳回或撤回）的 \(grouped(n)) 项：opps approvals --all")
    }
    var noOpenRequests: String { self("no open requests of yours", "你没有未决的申请") }
    func requestedBy(_ user: String) -> String { self("by \(user)", "申请人 \(user)") }
    func decidedBy(_ user: String) -> String { self("decided by \(user)", "决定人 \(user)") }
    /// An approval request's state: a member of the workspace's state field, or `requested` before
    /// it reached the hub.
    var requested: String { self("requested", "已提交") }
    /// One's own request withdrawn on this laptop, not yet synced.
    var withdrawing: String { self("withdrawing", "撤回中") }
    /// How to take one's own request back, naming the first one that may be.
    func howToWithdraw(_ id: String) -> String {
        self("To take a request back before it is decided: opps withdraw \(id)", "有结果前可以撤回申请：opps withdraw \(id)")
    }
    /// `opps team list` of a deal without members, and how to add one (the command on a line
    /// of its own, so it is never broken).
    func noTeam(_ deal: String, id: String) -> String {
        self(
            "\(deal) has no team members\nadd one: opps team add \(id) USER --role expert",
            "商机「\(deal)」还没有团队成员\n加人：opps team add \(id) 用户 --role 产品专家")
    }
    func teamOf(_ deal: String) -> String { self("team of \(deal):", "商机「\(deal)」的团队：") }
    /// After `opps team list`: adding and removing, a line each, the deal's id in place.
    func teamCommands(id: String) -> String {
        self("add: opps team add \(id) USER --role expert\nremove: opps team remove \(id) USER", "加人：opps team add \(id) 用户 --role 产品专家\n移出：opps team remove \(id) 用户")
    }
    func teamRequested(_ user: String, as role: String, approval id: String) -> String {
        self("requested: \(user) as \(role) — approval \(id) waits for a manager", "已申请：\(user) 担任\(role) — 审批 \(id) 等待经理决定")
    }
    func teamAdded(_ user: String, as role: String) -> String { self("added \(user) as \(role) (pending sync)", "已添加 \(user) 担任\(role)（待同步）") }
    func teamRemoveRequested(_ user: String, approval id: String) -> String {
        self("requested: remove \(user) — approval \(id) waits for a manager", "已申请：移除 \(user) — 审批 \(id) 等待经理决定")
    }
    func teamRemoved(_ user: String) -> String { self("removed \(user) (pending sync)", "已移除 \(user)（待同步）") }

    // MARK: - reports

    var noForecast: String { self("no deals close in this period on this laptop", "本机没有在此期间成交的商机") }
    /// A forecast block's heading. `owner` "-": deals with no owner — among others' blocks
    /// (`ownersShown`), said so; when no block has an owner (a success manager sees none), the
    /// month alone.
    func forecastHeading(month: String, owner: String, deals: Int, ownersShown: Bool = true) -> String {
        let month = forecastMonth(month)
        let who = owner != "-" ? "  \(owner)" : ownersShown ? self("  no owner", "  无负责人") : ""
        return self("\(month)\(who)  (\(deals) deal\(deals == 1 ? "" : "s"))", "\(month)\(who)（\(deals) 个商机）")
    }
    /// A forecast's month; "-": the deals with no close date.
    func forecastMonth(_ month: String) -> String { month == "-" ? self("no close date", "未填成交日期") : month }
    /// The forecast's closing part: deals without any amount yet, not in the figures above.
    var noAmountsYet: String { self("no amount yet, not counted above:", "还没有填金额、未计入上面的：") }
    /// Deal counts by owner (nil: owners not shown; "-": no owner): `amy 12, sam 9 deals`.
    func dealsByOwner(_ counts: [(owner: String?, deals: Int)]) -> String {
        let parts = counts.map { c in c.owner.map { ($0 == "-" ? self("no owner", "无负责人") : $0) + " \(grouped(c.deals))" } ?? grouped(c.deals) }
        let total = counts.reduce(0) { $0 + $1.deals }
        return self(parts.joined(separator: ", ") + (total == 1 ? " deal" : " deals"), parts.joined(separator: "、") + " 个商机")
    }
    /// The forecast's figures: pipeline, weighted, best case, commit, won.
    var forecastLabels: [String] {
        chinese ? ["管道", "加权", "最佳情况", "承诺", "赢单"] : ["pipeline", "weighted", "best case", "commit", "won"]
    }
    /// A table's header from its columns: each padded (or right-aligned) to its width in columns.
    func header(_ columns: [(en: String, zh: String, width: Int, right: Bool)]) -> String {
        columns.map { c in
            let text = self(c.en, c.zh)
            return c.right ? text.leftPad(c.width) : text.padding(c.width)
        }.joined(separator: " ").trimmingTrailing()
    }
    func winRate(_ percent: String?, won: Int, lost: Int) -> String {
        guard let percent else { return self("win rate: no closed deals", "赢单率：尚无已结束的商机") }
        return self("win rate: \(percent)% (\(won) won, \(lost) lost)", "赢单率：\(percent)%（赢单 \(won)，输单 \(lost)）")
    }
    var noHandOffs: String { self("no hand-offs in the period", "此期间没有移交") }

    // MARK: - errors a rep meets in a day

    /// `e` in the reader's words, where this file has them; nil: its English description.
    func error(_ e: ReplicaError, _ words: Vocabulary) -> String? { chinese ? e.chinese(words) : nil }

    // MARK: - web

    func webApp(_ url: String) -> String { self("OppSync web app: \(url)", "OppSync 网页版：\(url)") }
    var webKey: String { self("(this address holds this launch's key; Ctrl-C stops the app)", "（此地址含本次启动的密钥；按 Ctrl-C 停止）") }
    /// `opps web --open`: the program that opens the browser (`xdg-open`) ended with `status`
    /// (127: there is no such program here).
    func browserNotOpened(_ program: String, status: Int32) -> String {
        status == 127
            ? self(
                "opps: nothing here opens a browser (no \(program)): open the address above",
                "opps：没有能打开浏览器的程序（没有 \(program)）：请在浏览器里打开上面的地址")
            : self(
                "opps: no browser opened (\(program) ended with \(status)): open the address above",
                "opps：浏览器没有打开（\(program) 退出码 \(status)）：请在浏览器里打开上面的地址")
    }
}

extension Vocabulary {
    /// The command line's own sentences in this vocabulary's language.
    var say: Phrases { Phrases(self) }
}
