import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import Testing

@testable import OppsCommands

/// A reader in Chinese reads `opps`'s own sentences in Chinese, not only the workspace's labels:
/// a day's commands say what they did without an English sentence around the Chinese words
/// (Phrases.swift). The English reader's sentences are the other suites' business.
@Suite struct ChineseSentencesTests {
    /// English sentences `opps` prints around a rep's day; none may show to a Chinese reader.
    static let english = [
        "pending sync", "timeline", "changed ", "created in", "stage ", "pushed", "pulled", "due today", "overdue", "stale", "no conflicts",
        "user ", "last sync", "records", "replica for", "deleted", "showing", " by ", "holds", "conflict #", "task ", "(empty)", "won", "lost", "[local", " synced",
    ]

    static func englishIn(_ text: String) -> [String] {
        // Commands to type stay as they are (`opps conflicts`), as do ids and user names.
        let prose = text.split(separator: "\n").map { line in
            line.replacing(/opps [a-z-]+( [a-z-]+)?/, with: "")
        }.joined(separator: "\n")
        return english.filter { prose.contains($0) }
    }

    @Test func aRepsDayReadsInChinese() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let sam = f.home("sam"), max = f.home("max")
            // The first thing a rep may get wrong, before any replica: in the words --locale names.
            let badToken = await opps("init", "--hub", url, "--token", "abc", "--home", sam, "--locale", "zh-CN")
            #expect(badToken.code == 64 && badToken.stderr == "opps: --token 必须是管理员给你的 opps_… 令牌（69 个字符）\n", "\(badToken.stderr)")
            #expect(await opps(["init", "--hub", url, "--token", "abc", "--home", sam], environment: ["LANG": "C"]).stderr.contains("--token must be the opps_… token"))
            // The hub's address typed without http://: the two it may mean.
            let bare = String(url.dropFirst("http://".count))
            let noScheme = await opps(["init", "--hub", bare, "--token", f.tokens["sam"]!, "--home", sam], environment: ["LANG": "zh_CN.UTF-8"])
            #expect(
                noScheme.code == 64 && noScheme.stderr == "opps: --hub 必须以 http:// 或 https:// 开头：请按管理员给的地址完整输入（https://\(bare) 还是 http://\(bare)？）\n",
                "\(noScheme.stderr)")
            #expect(
                await opps(["init", "--hub", bare, "--token", f.tokens["sam"]!, "--home", sam], environment: ["LANG": "C"]).stderr.contains(
                    "(https://\(bare) or http://\(bare)?)"))
            #expect(!FileManager.default.fileExists(atPath: sam + "/replica.sqlite"), "nothing made")
            let made = await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", sam, "--locale", "zh-CN")
            #expect(made.code == 0, "\(made.stderr)")
            #expect(made.stdout.contains("建好副本") && Self.englishIn(made.stdout).isEmpty, "\(made.stdout)")
            #expect(await f.initReplica("max", url).code == 0)
            // A refused creation names the entity by its label (eve, an expert, may not create deals;
            // it is said before the account she named is looked for).
            #expect(await f.initReplica("eve", url).code == 0)
            let notHers = await opps("new", "试点", "--account", "华为", "--home", f.home("eve"), "--locale", "zh-CN")
            #expect(notHers.code == 3 && notHers.stderr == "opps: 被拒绝：商机 — 你的角色不能新建「商机」，或不能在这个阶段新建（规则 create-not-permitted）\n", "\(notHers.stderr)")
            // The rule's own words stay for the English reader and in --json.
            #expect(await opps("new", "试点", "--account", "华为", "--home", f.home("eve"), "--locale", "en").stderr.contains("expert may not create opportunities"))

            let new = await opps("new", "华为云 试点", "--account", "华为", "--amount", "120000.00", "--currency", "CNY", "--home", sam)
            #expect(new.code == 0 && new.stdout.contains("（待同步）") && Self.englishIn(new.stdout).isEmpty, "\(new.stdout)")
            let id = String(new.stdout.prefix(ShortID.length))
            // A record typed wrong: what it could mean, in the reader's words (exit 1 as in English).
            let part = await opps("set", "试点", "金额=1", "--home", sam)
            #expect(part.code == 1 && part.stderr == "opps: 没有名为「试点」的记录；有 1 个名称包含它（\(id) 商机「华为云 试点」）：请用 id\n", "\(part.stderr)")
            // Only to read it, the one record whose name holds the words is the one meant.
            #expect(await opps("show", "试点", "--home", sam).stdout.hasPrefix("商机 \(id)"))
            // Its name typed with a full-width space, or pasted with a zero-width one, is its name.
            #expect(await opps("set", "华为云　试点", "金额=120000", "--home", sam).code == 0)
            #expect(await opps("set", "华为云\u{200B} 试点", "金额=120000", "--home", sam).code == 0)
            #expect(await opps("show", "zzzz9999", "--home", sam).stderr.hasPrefix("opps: 本机没有 id 或名称为「zzzz9999」的记录"))
            #expect(await opps("set", "试点", "金额=1", "--home", sam, "--locale", "en").stderr.contains("no record is named \"试点\""))
            // A stage gate names what is missing in the reader's words (exit 3, as in English).
            let gated = await opps("stage", id, "方案", "--home", sam)
            #expect(gated.code == 3, "\(gated.stderr)")
            #expect(
                gated.stderr
                    == "opps: 被拒绝：阶段 — 还缺少 客户需求、决策人、预计成交日期（规则 stage-gate）\n"
                    + "先补上这些字段，再移动一次：\n  opps set \(id) 客户需求=… 决策人=… 预计成交日期=YYYY-MM-DD\n  opps stage \(id) 方案\n", "\(gated.stderr)")
            #expect(await opps("stage", id, "方案", "--home", sam, "--locale", "en").stderr.contains("leaving discovery needs: needs, decision_makers, close_date"))
            #expect(await opps("stage", id, "方案", "--home", sam, "--json").stdout.contains("leaving discovery needs"))
            let set = await opps(
                "set", id, "next_step=拜访客户", "next_step_due=2026-12-01", "needs=预算审批", "decision_makers=王总", "close_date=2027-03-31",
                "--home", sam)
            // Each field with what it now holds: a date with its weekday.
            #expect(
                set.code == 0
                    && set.stdout == "已修改 下一步：拜访客户、下一步截止：2026-12-01（周二）、客户需求：预算审批、决策人：王总、预计成交日期：2027-03-31（周三）（待同步）\n",
                "\(set.stdout) \(set.stderr)")
            // What was typed as words or 万 is said back as the day and the amount it was read as.
            let read = await opps("set", id, "金额=15万", "预计成交日期=2027/4/1", "--home", sam)
            #expect(read.stdout == "已修改 金额：150,000.00、预计成交日期：2027-04-01（周四）（待同步）\n", "\(read.stdout) \(read.stderr)")
            let readInEnglish = await opps("set", id, "amount=160000", "close_date=2027/4/2", "--home", sam, "--locale", "en")
            // Fields apart by semicolons: an amount's grouping uses the commas.
            #expect(readInEnglish.stdout == "changed amount to 160,000.00; close_date to 2027-04-02 (Fri) (pending sync)\n", "\(readInEnglish.stdout)")
            #expect(Self.englishIn(set.stdout).isEmpty, "\(set.stdout)")
            // A value its field does not take, in the reader's words (the members by their labels).
            let member = await opps("set", id, "技术风险=很低", "--home", sam)
            #expect(member.code == 1 && member.stderr == "opps: 技术风险：「很低」不是可选值之一：低、中、高\n", "\(member.stderr)")
            #expect(await opps("set", id, "技术风险=很低", "--home", sam, "--locale", "en").stderr.contains("\"很低\" is not one of low, medium, high"))
            #expect(await opps("set", id, "预计成交日期=某天", "--home", sam).stderr == "opps: 预计成交日期：「某天」不是日期（写 2026-12-05、12-05、明天 或 3天后）\n")
            // A reference names a record of its field's entity: the deal itself is no account (the
            // hub would refuse it at sync; the laptop refuses it now), an account by its name is.
            let notAnAccount = await opps("set", id, "客户=华为云 试点", "--home", sam)
            #expect(notAnAccount.code == 1 && notAnAccount.stderr == "opps: 客户：「华为云 试点」不是本机上的客户\n", "\(notAnAccount.stderr)")
            #expect(await opps("set", id, "客户=\(id)", "--home", sam, "--locale", "en").stderr == "opps: account: \(id) is not an account on this laptop\n")
            #expect(await opps("set", id, "客户=华为", "--home", sam).code == 0)
            #expect(await opps("set", id, "不存在=1", "--home", sam).stderr.hasPrefix("opps: 商机没有字段「不存在」（字段：名称、客户、"))
            // A command's own checks of what was typed, too (exit 64).
            let spaced = await opps("set", id, "金额", "120000", "--home", sam)
            #expect(spaced.code == 64 && spaced.stderr == "opps: 「金额」不是 字段=值 的形式：请写成 金额=120000\n", "\(spaced.stderr)")
            // A field and its value written with a colon, as a Chinese reader writes them.
            let colon = await opps("set", id, "金额：12万", "--home", sam)
            #expect(colon.code == 64 && colon.stderr == "opps: 「金额：12万」不是 字段=值 的形式：请写成 金额=12万\n", "\(colon.stderr)")
            // A value typed without quotes: the words after a pair continue its value.
            let other = try #require(await opps("new", "苏州", "嘉禾", "扩容", "--account", "华为", "--home", sam, "--json").json?["id"]?.string)
            let unquoted = await opps("set", other, "下一步=约", "王总", "见面", "金额=5000", "--home", sam, "--json")
            #expect(unquoted.code == 0, "\(unquoted.stderr)")
            let now = await opps("show", other, "--home", sam, "--json").json?["fields"]
            #expect(now?["next_step"]?.string == "约 王总 见面" && now?["amount"]?.string == "5000.00", "\(String(describing: now))")
            // The same values again (the amount as opps prints it): nothing written, and it says so.
            let pending = await opps("status", "--home", sam, "--json").json?["pending"]?.int
            let again = await opps("set", other, "金额=5,000.00", "下一步=约 王总 见面", "--home", sam)
            #expect(again.code == 0 && again.stdout == "没有变化：金额、下一步已经是这个值\n", "\(again.stdout) \(again.stderr)")
            #expect(await opps("status", "--home", sam, "--json").json?["pending"]?.int == pending, "no write queued")
            #expect(await opps("today", "--date", "某天", "--home", sam).stderr == "opps: --date 要写日期：2026-12-05、12-05 或 明天\n")
            #expect(await opps("today", "--date", "明天", "--home", sam).code == 0)
            // On another entity the members are that entity's (an activity's kinds, a task's due date).
            #expect(await opps("log", id, "--kind", "打球", "--home", sam).stderr == "opps: 类型：「打球」不是可选值之一：电话、拜访、邮件、会议、签到、备注\n")
            #expect(await opps("task", id, "回访", "--due", "某天", "--home", sam).stderr == "opps: 截止日期：「某天」不是日期（写 2026-12-05、12-05、明天 或 3天后）\n")
            // A day of the week, as a rep names a due date.
            let nextFriday = try #require(CivilDate.typed("下周五", today: Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)).date))
            let friday = await opps("task", id, "回访", "--due", "下周五", "--home", sam, "--json")
            #expect(friday.code == 0 && friday.json?["fields"]?["due"]?.string == nextFriday.description, "\(friday.stdout)\(friday.stderr)")
            // An activity as a rep types it: the kind by its label, then what happened as words.
            let logged = await opps("log", id, "拜访", "见了王总，", "谈了预算", "--home", sam, "--json")
            let fields = logged.json?["fields"]
            #expect(logged.code == 0 && fields?["kind"]?.string == "visit" && fields?["note"]?.string == "见了王总， 谈了预算", "\(logged.stdout) \(logged.stderr)")
            #expect(await opps("log", id, "--kind", "电话", "约了周五演示", "--home", sam, "--json").json?["fields"]?["note"]?.string == "约了周五演示")
            // Said back: the kind, what happened and the deal; the time when one was given.
            let said = await opps("log", id, "电话", "确认了预算", "--home", sam)
            #expect(said.code == 0 && said.stdout.hasSuffix("  已记录电话：确认了预算（华为云 试点）（待同步）\n"), "\(said.stdout)")
            let earlierSaid = await opps("log", id, "visit", "met the CFO", "--at", "2026-11-21 10:00", "--home", sam, "--locale", "en")
            #expect(earlierSaid.stdout.hasSuffix("  logged visit: met the CFO (华为云 试点), 2026-11-21 10:00 (pending sync)\n"), "\(earlierSaid.stdout)")
            // What happened without a kind first: the line says the kind comes first, with the command to type.
            #expect(
                await opps("log", id, "见了王总", "--home", sam).stderr
                    == "opps: 「见了王总」不是跟进类型（电话、拜访、邮件、会议、签到、备注）：先写类型，例如 opps log \(id) 拜访 \"见了王总\"\n")
            #expect(await opps("log", id, "--home", sam).stderr.hasPrefix("opps: 请写明跟进类型：opps log \(id) 拜访 "))
            #expect(await opps("log", id, "拜访", "x", "--note", "y", "--home", sam).code == 1)
            // A time as opps shows it (to the minute, on the device's clock), typed back; one it cannot read, in words.
            let earlier = try #require(await opps("log", id, "电话", "补记", "--at", "2026-11-20 09:30", "--home", sam, "--json").json?["id"]?.string)
            let shownTime = await opps("show", earlier, "--home", sam).stdout.split(separator: "\n").first { $0.hasPrefix("  时间 ") }
            #expect(shownTime?.hasPrefix("  时间             2026-11-20 09:30") == true && shownTime?.contains("UTC") == false, "\(shownTime ?? "")")
            // A day and a time as people say them (昨天 15:30), a day alone (its noon), on the
            // device's clock; what is none of those, in words.
            let yesterday = CivilDate(daysSinceEpoch: LocalTime.date(Int64(Date().timeIntervalSince1970 * 1000)).daysSinceEpoch - 1)
            for (typed, shown) in [
                ("昨天 15:30", "\(yesterday) 15:30"), ("昨天", "\(yesterday) 12:00"), ("\(yesterday.description.dropFirst(5)) 9:05", "\(yesterday) 09:05"),
            ] {
                let made = try #require(await opps("log", id, "电话", "回电", "--at", typed, "--home", sam, "--json").json?["id"]?.string)
                let time = await opps("show", made, "--home", sam).stdout.split(separator: "\n").first { $0.hasPrefix("  时间 ") }
                #expect(time?.hasPrefix("  时间             \(shown)") == true, "\(typed): \(time ?? "")")
            }
            #expect(await opps("log", id, "电话", "--at", "某天", "--home", sam).stderr == "opps: 时间：「某天」不是时间（YYYY-MM-DD HH:MM，或日子加时间：昨天 15:00）\n")
            // opps rules without --role: the replica's own role.
            let rules = await opps("rules", "--home", sam)
            #expect(rules.stdout.hasPrefix("销售顾问在「需求挖掘」阶段对商机各字段的权限\n"))
            #expect(rules.stdout.contains("\n取值范围：金额 ≥\u{00A0}0；赢率 0–100%；折扣 0–100%"), "the bounds opps set holds to: \(rules.stdout)")
            // An amount typed back as opps prints it; separators only in their places.
            #expect(await opps("set", id, "金额=1,200,000.50", "--home", sam).code == 0)
            #expect(await opps("show", id, "--home", sam).stdout.contains("1,200,000.50"))
            #expect(await opps("set", id, "金额=1,2000", "--home", sam).stderr.contains("不是数字"))
            // A percentage (workspace-format.md `unit`) takes its sign, and reads with it; the number is
            // what is stored. Elsewhere the sign is not taken (15% must not become an amount of 15),
            // and the refusal says what to write.
            #expect(await opps("set", id, "赢率=60%", "--home", sam).stdout == "已修改 赢率：60%（待同步）\n")
            #expect(await opps("show", id, "--home", sam).stdout.contains("\n  赢率             60% （待同步）\n"))
            #expect(await opps("show", id, "--json", "--home", sam).stdout.contains("\"probability\":60"))
            #expect(await opps("set", id, "赢率=55.5%", "--home", sam).stderr == "opps: 赢率：「55.5」不是整数\n")
            #expect(await opps("set", id, "金额=15%", "--home", sam).stderr == "opps: 金额：「15%」不是数字：写 15，不带 %\n")
            #expect(await opps("set", id, "amount=15%", "--home", sam, "--locale", "en").stderr == "opps: amount: not a decimal number: 15% (write 15, without %)\n")
            // A whole number is typed as an amount is (full-width digits too); a fraction is still refused.
            #expect(await opps("set", id, "赢率=６０", "--home", sam).code == 0)
            #expect(await opps("show", id, "--home", sam, "--json").json?["fields"]?["probability"]?.int == 60)
            #expect(await opps("set", id, "赢率=60.5", "--home", sam).stderr == "opps: 赢率：「60.5」不是整数\n")
            // Every 64-bit whole number is read, 19 digits too, and then held to the field's
            // bounds (a probability is 0–100); one past them is refused for what it is.
            #expect(await opps("set", id, "赢率=-9223372036854775808", "--home", sam).stderr == "opps: 赢率：低于下限 0%\n")
            #expect(await opps("set", id, "赢率=9223372036854775807", "--home", sam).stderr == "opps: 赢率：超过上限 100%\n")
            #expect(await opps("show", id, "--home", sam, "--json").json?["fields"]?["probability"]?.int == 60)
            #expect(
                await opps("set", id, "赢率=9223372036854775808", "--home", sam).stderr
                    == "opps: 赢率：「9223372036854775808」超出了整数的范围（-9223372036854775808 到 9223372036854775807）\n")
            #expect(
                await opps("set", id, "probability=-9223372036854775809", "--home", sam, "--locale", "en").stderr
                    == "opps: probability: -9223372036854775809 is out of range (whole numbers go from -9223372036854775808 to 9223372036854775807)\n")
            #expect(await opps("set", id, "赢率=60", "--home", sam).code == 0)
            // A field named as a spreadsheet heads it is the name it spells.
            #expect(await opps("set", id, "Close Date=2027-01-31", "--home", sam, "--locale", "en").code == 0)
            #expect(await opps("show", id, "--home", sam, "--json").json?["fields"]?["close_date"]?.string == "2027-01-31")
            // As Chinese sales people say an amount: 12万 is 120,000.00.
            #expect(await opps("set", id, "金额=12万", "--home", sam).code == 0)
            #expect(await opps("show", id, "--home", sam, "--json").json?["fields"]?["amount"]?.string == "120000.00")
            #expect(await opps("list", "--amount-min", "10万", "--home", sam).stdout.contains(id))
            #expect(!(await opps("list", "--amount-min", "13万", "--home", sam).stdout.contains(id)))
            let moved = await opps("stage", id, "方案", "--home", sam)
            #expect(moved.stdout.hasPrefix("已修改 阶段"), "\(moved.stdout) \(moved.stderr)")

            let status = await opps("status", "--home", sam)
            let rows = status.stdout.split(separator: "\n")
            #expect(rows.first?.hasPrefix("用户     sam（") == true, "\(status.stdout)")
            #expect(rows.contains { $0.hasPrefix("待同步   ") && $0.hasSuffix(" 项修改（opps sync 推送；opps undo 撤销最后一项）") }, "\(status.stdout)")
            // The last sync as a time and how long ago (the clock is the device's).
            #expect(rows.contains { $0.hasPrefix("上次同步 2") && !$0.contains("UTC") && ($0.hasSuffix("刚刚）") || $0.hasSuffix("分钟前）")) }, "\(status.stdout)")
            #expect(Self.englishIn(status.stdout).isEmpty, "\(status.stdout)")

            let synced = await opps("sync", "--home", sam)
            #expect(synced.stdout.hasPrefix("已推送 ") && Self.englishIn(synced.stdout).isEmpty, "\(synced.stdout)")

            // A day later the next step is overdue: today says so in Chinese, naming the deal.
            let today = await opps("today", "--date", "2026-12-02", "--home", sam)
            #expect(today.stdout.hasPrefix("今天 2026-12-02：") && today.stdout.contains("已逾期：") && today.stdout.contains("下一步"), "\(today.stdout)")
            #expect(today.stdout.contains("华为云 试点：拜访客户"), "\(today.stdout)")
            // Then what to type for the next step listed, with its fields by their Chinese labels.
            #expect(today.stdout.contains("\n写下一步：  opps set 编号 下一步=\"…\" 下一步截止=日期\n"), "\(today.stdout)")
            #expect(Self.englishIn(today.stdout).isEmpty, "\(today.stdout)")

            // A task, typed without `add` (the rep's first try), then done: a yes/no in words.
            let task = await opps("task", id, "回访客户", "--due", "2026-12-05", "--home", sam)
            // It says the day it is due, with the day of the week, as the typed date was read.
            #expect(task.code == 0 && task.stdout.hasSuffix("  任务「回访客户」，2026-12-05（周六）到期（待同步）\n"), "\(task.stdout) \(task.stderr)")
            let taskID = String(task.stdout.prefix(ShortID.length))
            #expect(await opps("task", "done", taskID, "--home", sam).stdout == "任务「回访客户」已完成（待同步）\n")
            // Twice: nothing more is written, and it says so.
            let outbox = await opps("status", "--home", sam, "--json").json?["pending"]?.int
            #expect(await opps("task", "done", taskID, "--home", sam).stdout == "任务「回访客户」已经完成了\n")
            #expect(await opps("status", "--home", sam, "--json").json?["pending"]?.int == outbox)
            // A deal's next step (opps today lists it by the deal's id) is done by writing the next one.
            #expect(
                await opps("task", "done", id, "--home", sam).stderr
                    == "opps: \(id) 是商机，不是任务：写下新的下一步（opps set \(id) 下一步=… 下一步截止=YYYY-MM-DD），或清除截止日期（opps set \(id) 下一步截止=）\n")
            // A task by its text, as a rep remembers it (spaces aside); part of one, or one that
            // two have, names them and marks nothing done.
            for text in ["发报价", "发合同"] {
                #expect(await opps("task", "add", id, "给张总\(text)", "--due", "2026-12-07", "--home", sam).code == 0)
            }
            for _ in 1...2 { #expect(await opps("task", "add", id, "准备演示", "--due", "2026-12-08", "--home", sam).code == 0) }
            let partOfOne = await opps("task", "done", "给张总", "--home", sam)
            #expect(
                partOfOne.code == 1 && partOfOne.stderr.hasPrefix("opps: 你没有叫「给张总」的未完成任务；包含它的有 ") && partOfOne.stderr.contains("「给张总发合同」（华为云 试点）"), "\(partOfOne.stderr)")
            let sameText = await opps("task", "done", "准备演示", "--home", sam)
            #expect(sameText.code == 1 && sameText.stderr.hasPrefix("opps: 你有 2 个未完成任务叫「准备演示」："), "\(sameText.stderr)")
            #expect(await opps("task", "done", "给张总 发报价", "--home", sam).stdout == "任务「给张总发报价」已完成（待同步）\n")
            let gone = await opps("task", "done", "给张总发报价", "--home", sam, "--locale", "en")
            #expect(
                gone.code == 1 && gone.stderr == "opps: no open task of yours is \"给张总发报价\", and nothing here has that id: opps task list prints your tasks' ids\n",
                "\(gone.stderr)")
            let done = await opps("show", taskID, "--home", sam)
            #expect(done.stdout.split(separator: "\n").contains { $0.hasPrefix("  已完成") && $0.contains(" 是 ") }, "\(done.stdout)")
            #expect(!done.stdout.contains("true"), "\(done.stdout)")

            // show: the timeline in Chinese.
            let shown = await opps("show", id, "--home", sam)
            #expect(shown.stdout.contains("时间线（设备时间）") && shown.stdout.contains("创建于") && shown.stdout.contains("阶段 需求挖掘 → 方案"), "\(shown.stdout)")
            #expect(unspaced(shown.stdout).contains(unspaced("任务 \(taskID)「回访客户」，2026-12-05 到期，执行人 sam，已完成")), "\(shown.stdout)")
            #expect(Self.englishIn(shown.stdout).isEmpty, "\(shown.stdout)")

            // history: the stage's own moves, not the stage log's storage form; an empty value in words.
            let history = await opps("history", id, "--home", sam)
            #expect(history.stdout.contains("阶段：需求挖掘 → 方案【本机，已同步】"), "\(history.stdout)")
            #expect(history.stdout.contains("下一步：（空） → 拜访客户"), "\(history.stdout)")
            // A reference reads as its name and short id; where each line came from, in Chinese.
            #expect(history.stdout.contains("客户：（空） → 华为（"), "\(history.stdout)")
            #expect(Self.englishIn(history.stdout).isEmpty, "\(history.stdout)")
            #expect(!history.stdout.contains("阶段记录") && !history.stdout.contains("null"), "\(history.stdout)")

            // A conflict: max (a manager) overrides sam's next step while sam changes it too.
            #expect(await opps("conflicts", "--home", sam).stdout == "没有冲突\n")
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("set", id, "amount=300.00", "--home", max).code == 0)
            #expect(await opps("set", id, "amount=200.00", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let second = await opps("sync", "--home", sam)
            #expect(second.stdout.contains("1 项冲突") && second.stdout.contains("查看：opps conflicts"), "\(second.stdout)")
            let conflicts = await opps("conflicts", "--home", sam)
            // A block a conflict, at 80 columns: the deal and field, whose value and why, what held.
            #expect(conflicts.stdout.contains(" · 金额\n    sam 的「200.00」未被采用（同时修改：对此字段权限更高的一方胜出）\n    当时的值：「300.00」（max），"), "\(conflicts.stdout)")
            #expect(!conflicts.stdout.contains("现在："), "the amount still holds what won: \(conflicts.stdout)")
            for line in conflicts.stdout.split(separator: "\n") { #expect(String(line).displayWidth <= 80, "\(line)") }
            let settle = conflicts.stdout.split(separator: "\n").last.map(String.init) ?? ""
            #expect(settle.hasPrefix("重新写入你的值：opps conflicts restore ") && settle.contains("；不再显示：opps conflicts dismiss "), "\(conflicts.stdout)")
            #expect(!conflicts.stdout.contains("authority"), "\(conflicts.stdout)")
            let inEnglish = await opps("conflicts", "--home", sam, "--locale", "en").stdout
            #expect(unspaced(inEnglish).contains(unspaced("lost (changed at the same time: whoever has more say over amount won)")), "\(inEnglish)")
            #expect(inEnglish.split(separator: "\n").allSatisfy { $0.count <= 80 }, "\(inEnglish)")
            // The deal's timeline says the same.
            // (Its long lines continue under themselves at 80 columns.)
            let timeline = await opps("show", id, "--home", sam).stdout.split(separator: "\n")
            #expect(timeline.allSatisfy { String($0).displayWidth <= 80 }, "\(timeline)")
            let joined = timeline.map { $0.trimmingCharacters(in: .whitespaces) }.joined()
            #expect(joined.contains("冲突 #1 金额：「200.00」未被采用（同时修改：对此字段权限更高的一方胜出）；当时的值「300.00」"), "\(joined)")
            // Written again since: the conflict says what held then and what holds now (a
            // manager deciding whether to restore decides on today's value, not the old one).
            #expect(await opps("set", id, "amount=350.00", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            let since = await opps("conflicts", "--home", sam).stdout.replacingOccurrences(of: "\n    ", with: "")
            #expect(since.contains("当时的值：「300.00」（max），") && since.contains("；现在：「350.00」"), "\(since)")
            let sinceInEnglish = await opps("conflicts", "--home", sam, "--locale", "en").stdout
            #expect(
                unspaced(sinceInEnglish).contains(unspaced("held: \"300.00\" by max,")) && unspaced(sinceInEnglish).contains(unspaced("; now: \"350.00\"")),
                "\(sinceInEnglish)")
            #expect(Self.englishIn(conflicts.stdout).isEmpty, "\(conflicts.stdout)")

            // The same replica in English keeps its English sentences.
            let english = await opps("today", "--date", "2026-12-02", "--home", sam, "--locale", "en")
            #expect(english.stdout.hasPrefix("today 2026-12-02: ") && english.stdout.contains("overdue:"), "\(english.stdout)")
            // Its kind in words, as the Chinese 下一步: the column is read, not typed back.
            let items = english.stdout.split(separator: "\n").filter { $0.hasPrefix("  ") }
            #expect(english.stdout.contains("  next step  华为云 试点: ") && !items.contains { $0.contains("next_step") }, "\(english.stdout)")
            // Then what to type for each kind listed: there the field's name is what is typed.
            #expect(english.stdout.contains("\na next step:  opps set ID next_step=\"…\" next_step_due=DATE\n"), "\(english.stdout)")
            #expect(await opps("show", id, "--home", sam, "--locale", "en").stdout.contains("timeline (device time)"))

            // Two deals of one name, for two customers: each is named with its stage and customer,
            // so the rep can pick one by id.
            let sameName = await opps("new", "华为云 试点", "--account", "华为终端", "--home", sam)
            let otherID = String(sameName.stdout.prefix(ShortID.length))
            #expect(sameName.code == 0, "\(sameName.stderr)")
            let stage = await opps("show", id, "--home", sam, "--json").json?["fields"]?["stage"]?.string ?? "?"
            let twice = await opps("show", "华为云 试点", "--home", sam)
            let label = Vocabulary(.default, locale: "zh-CN").stage(stage)
            #expect(
                twice.code == 1 && twice.stderr.hasPrefix("opps: 有 2 条记录名为「华为云 试点」（") && twice.stderr.hasSuffix("）：请用 id\n")
                    && twice.stderr.contains("\(id) 商机「华为云 试点」（\(label)，华为）")
                    && twice.stderr.contains("\(otherID) 商机「华为云 试点」（需求挖掘，华为终端）"),
                "\(twice.stderr)")
            let twiceInEnglish = await opps("show", "华为云 试点", "--home", sam, "--locale", "en").stderr
            #expect(twiceInEnglish.contains("\(otherID) opportunity \"华为云 试点\" (discovery, 华为终端)"), "\(twiceInEnglish)")
            // A name of its own among them needs nothing more.
            let part2 = await opps("show", "试点", "--home", sam).stderr
            #expect(part2.contains("\(otherID) 商机「华为云 试点」（需求挖掘，华为终端）"), "\(part2)")
        }
    }

    /// Every rule says why in Chinese, with the field and the entity by their labels: no rule
    /// name and no English word reaches a Chinese reader (a conflict, a refusal, a proposal).
    @Test func everyRuleSaysWhyInChinese() {
        let words = Vocabulary(.default, locale: "zh-CN")
        for rule in RuleID.allCases {
            for (entity, field) in [("opportunity", "amount"), ("opportunity", "stage"), ("activity", "at"), ("account", "account")] {
                let reason = words.chineseReason(rule, entity: entity, field: field)
                #expect(reason.firstMatch(of: /[A-Za-z]{2,}/) == nil, "\(rule) on \(entity).\(field): \(reason)")
                #expect(!reason.isEmpty && reason.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }, "\(rule): \(reason)")
            }
        }
        // A field and an entity by their labels; a creation's by its entity.
        #expect(words.chineseReason(.readOnly, entity: "opportunity", field: "amount") == "你的角色在当前阶段只能查看「金额」")
        #expect(words.chineseReason(.createNotPermitted, entity: "account", field: "account").contains("新建「客户」"))
        // The threshold an approval needs, as amounts read (the workspace's own rule for the field).
        #expect(words.chineseReason(.approvalRequired, entity: "opportunity", field: "discount") == "「折扣」超过 10% 需要审批")
        // A rule a newer hub names and this replica does not know: its name, not a guess.
        #expect(words.reason(rule: "some-new-rule", entity: "opportunity", field: "amount", chinese: true) == "some-new-rule")
        #expect(Vocabulary.chineseOutcome("lost") == "未被采用" && Vocabulary.chineseOutcome("rejected") == "被拒绝")
    }

    /// An English reader is told why in a sentence too, not by the rule's name (`later-clock`),
    /// with the field by its name or English label; no Chinese reaches them.
    @Test func everyRuleSaysWhyInEnglish() {
        for locale in [nil, "en"] {
            let words = Vocabulary(.default, locale: locale)
            for rule in RuleID.allCases {
                for (entity, field) in [("opportunity", "amount"), ("opportunity", "stage"), ("activity", "at"), ("account", "account")] {
                    let reason = words.reason(rule: rule.rawValue, entity: entity, field: field, chinese: false)
                    // Not the name, nor a hyphenated name inside the sentence (a plain word may be one: "restored").
                    #expect(reason != rule.rawValue && !(rule.rawValue.contains("-") && reason.contains(rule.rawValue)), "\(rule): \(reason)")
                    #expect(reason.firstMatch(of: /[a-z]{3,} [a-z]{2,}/) != nil || reason == "applied", "\(rule) on \(entity).\(field): \(reason)")
                    #expect(!reason.unicodeScalars.contains { (0x3000...0x9FFF).contains($0.value) || (0xFF00...0xFFEF).contains($0.value) }, "\(rule): \(reason)")
                }
            }
            #expect(
                words.reason(rule: "authority", entity: "opportunity", field: "amount", chinese: false)
                    == "changed at the same time: whoever has more say over amount won")
            #expect(words.reason(rule: "approval-required", entity: "opportunity", field: "discount", chinese: false) == "discount above 10% needs approval")
            #expect(
                words.reason(rule: "create-not-permitted", entity: "account", field: "account", chinese: false)
                    == "your role may not create account records, or not at this stage")
            #expect(words.reason(rule: "some-new-rule", entity: "opportunity", field: "amount", chinese: false) == "some-new-rule")
        }
    }

    /// The history of a stage move says it once, in the stage's own line (English too).
    /// The refusals of a manager's and a rep's less daily commands read in Chinese too: a port
    /// out of range, a language the workspace has no labels in, a merge of the wrong kind or
    /// with nothing to merge, an unknown relation.
    @Test func lessDailyRefusalsReadInChinese() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("max", url).code == 0)
            let max = f.home("max")
            let deal = try #require(await opps("new", "北辰", "一期", "--account", "北辰", "--home", max, "--json").json?["id"]?.string)
            let account = try #require(await opps("account", "list", "--home", max, "--json").json?.array?.first?["id"]?.string)
            func said(_ args: String...) async -> String { await opps(args + ["--home", max, "--locale", "zh-CN"]).stderr }
            #expect(await said("web", "--port", "99999") == "opps: --port 要写 0…65535 之间的数\n")
            #expect(await said("web", "--sync-minutes", "-1") == "opps: --sync-minutes 要写 0 或更大的数\n", "a minus begins a number, not an option")
            #expect(await said("web", "--port", "-1") == "opps: --port 要写 0…65535 之间的数\n")
            #expect(await said("locale", "fr") == "opps: 工作区没有 fr 的标签（它有：en, zh-CN）\n")
            #expect(await said("merge", deal, account) == "opps: \(account) 不是商机\n")
            #expect(await said("account", "merge", account, deal) == "opps: \(deal) 不是客户\n")
            #expect(await said("rules", "--relations", "朋友").hasPrefix("opps: 没有关系「朋友」（owner 负责人、"))
            #expect(await opps("merge", deal, account, "--home", max, "--locale", "en").stderr == "opps: \(account) is not a deal\n")
        }
    }

    @Test func historyShowsAStageMoveOnce() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let home = f.home("sam")
            let id = String(await opps("new", "ACME rollout", "--account", "ACME", "--home", home).stdout.prefix(ShortID.length))
            #expect(await opps("set", id, "needs=budget", "decision_makers=CFO", "amount=10.00", "close_date=2027-03-31", "--home", home).code == 0)
            let moved = await opps("stage", id, "solution", "--home", home)
            #expect(moved.code == 0, "\(moved.stderr)")
            let lines = await opps("history", id, "--home", home).stdout.split(separator: "\n")
            #expect(lines.filter { $0.contains("stage") }.count == 1, "\(lines)")
            #expect(lines.contains { $0.contains("stage: discovery → solution") }, "\(lines)")
        }
    }

    /// `opps set ID amount 120000`: the error shows how set takes it.
    @Test func aFieldAndValueWithoutEqualsGetTheirRightForm() async throws {
        let run = await opps("set", "abcd", "amount", "120000", "--home", "/nonexistent")
        #expect(run.code != 0)
        #expect(run.stderr.contains("write amount=120000"), "\(run.stderr)")
        let spaced = await opps("set", "abcd", "next_step", "call the CFO", "--home", "/nonexistent")
        #expect(spaced.stderr.contains("write next_step=\"call the CFO\""), "\(spaced.stderr)")
    }
}

/// `opps`, `opps --help`, `opps help` for a Chinese reader: the overview in Chinese, every
/// command in one line that fits 80 columns; a command's own help in Chinese too.
@Suite struct ChineseHelpTests {
    @Test func everyCommandHasItsChineseLineInOrder() {
        #expect(ChineseHelp.commands.map(\.name) == Opps.configuration.subcommands.map { $0._commandName })
        for line in ChineseHelp.text.split(separator: "\n", omittingEmptySubsequences: false) {
            #expect(String(line).displayWidth <= 80, "\(line)")
        }
    }

    @Test func aChineseReaderReadsTheOverviewInChinese() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let made = await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", f.home("sam"), "--locale", "zh-CN")
            #expect(made.code == 0, "\(made.stderr)")
            // The default home (OPPS_HOME) is the replica whose reader is asked.
            for args in [[String](), ["--help"], ["-h"], ["help"]] {
                let help = await opps(args, environment: ["OPPS_HOME": f.home("sam")])
                #expect(help.code == 0 && help.stdout.hasPrefix("概述：离线处理你的商机") && help.stdout.contains("  today       今天到期的"), "\(args): \(help.stdout)")
            }
            // An English reader: English.
            #expect(await opps(["--help"], environment: ["OPPS_HOME": f.home("nobody"), "LANG": "C"]).stdout.hasPrefix("OVERVIEW: Work on your opportunities"))
            // Only where and how to read, no command: the overview in each language, as bare opps.
            let bareEnglish = await opps(["--home", f.home("nobody")], environment: ["LANG": "C"])
            #expect(bareEnglish.code == 0 && bareEnglish.stdout.hasPrefix("OVERVIEW: Work on your opportunities"), "\(bareEnglish.stderr)")
            let bareChinese = await opps(["--home", f.home("sam")], environment: ["LANG": "C"])
            #expect(bareChinese.code == 0 && bareChinese.stdout.hasPrefix("概述：离线处理你的商机"), "\(bareChinese.stderr)")
            // Its value left out: the line a command's own --home gives, not "unknown option".
            let noValue = await opps(["--home"], environment: ["LANG": "C", "OPPS_HOME": f.home("nobody")])
            #expect(noValue.code == 64 && noValue.stderr == "opps: Missing value for '--home <home>'\n", "\(noValue.stderr)")
            #expect(await opps(["--home", f.home("sam"), "--locale"], environment: ["LANG": "C"]).stderr == "opps: 选项 --locale <语言> 缺少值\n")
            // A command's own help, in Chinese, however it is asked for; --locale en on the same
            // line gives the parser's English page.
            for args in [["set", "--help"], ["set", "-h"], ["help", "set"], ["set", "abcd", "--help"]] {
                let page = await opps(args, environment: ["OPPS_HOME": f.home("sam")])
                #expect(page.code == 0, "\(args)")
                #expect(page.stdout.hasPrefix("用法：opps set <编号> <字段=值> ... [--home <目录>]"), "\(args): \(page.stdout)")
                #expect(page.stdout.contains("\n在一次本地修改中改一条记录的若干字段\n"), "\(page.stdout)")
                #expect(page.stdout.contains("\n  <字段=值> ...           字段=值，可以写多个；没加引号的词接在前一个值后面\n"), "\(page.stdout)")
                #expect(page.stdout.contains("\n  --json                  以 JSON 输出结果\n"), "\(page.stdout)")
            }
            let group = await opps(["team", "--help"], environment: ["OPPS_HOME": f.home("sam")])
            #expect(group.stdout.contains("子命令：\n  list                    显示商机的团队（默认子命令）\n"), "\(group.stdout)")
            #expect(group.stdout.contains("英文帮助：opps team <子命令> --help --locale en"), "\(group.stdout)")
            #expect(await opps(["help", "team", "add"], environment: ["OPPS_HOME": f.home("sam")]).stdout.hasPrefix("用法：opps team add <编号> <用户> [--role <角色>]"))
            // A group with no default command, named alone: its page in the reader's language,
            // with or without --home (it said "no option --home", or printed the parser's English).
            for args in [["report"], ["report", "--home", f.home("sam")], ["lead", "--home", f.home("sam")]] {
                let page = await opps(args, environment: ["OPPS_HOME": f.home("sam"), "LANG": "C"])
                #expect(page.code == 0 && page.stdout.hasPrefix("用法：opps \(args[0]) <子命令>"), "\(args): \(page.stdout)\(page.stderr)")
                #expect(page.stdout.contains("子命令："), "\(args): \(page.stdout)")
            }
            let reportInEnglish = await opps(["report", "--home", f.home("nobody")], environment: ["LANG": "C"])
            #expect(reportInEnglish.code == 0 && reportInEnglish.stdout.hasPrefix("OVERVIEW: Pipeline reports"), "\(reportInEnglish.stdout)\(reportInEnglish.stderr)")
            #expect(await opps(["set", "--help", "--locale", "en"], environment: ["OPPS_HOME": f.home("sam")]).stdout.hasPrefix("OVERVIEW: Change fields"))
            #expect(await opps(["set", "--help"], environment: ["OPPS_HOME": f.home("nobody"), "LANG": "C"]).stdout.hasPrefix("OVERVIEW: Change fields"))
            #expect(await opps(["set", "--help", "--home", f.home("nobody"), "--locale=zh-CN"], environment: ["LANG": "C"]).stdout.hasPrefix("用法："))
            #expect(await opps(["--locale", "zh-CN", "set", "--help"], environment: ["OPPS_HOME": f.home("nobody"), "LANG": "C"]).stdout.hasPrefix("用法：opps set"))
            // The overview with a reader written on the line is still the overview.
            let overview = await opps(["--help", "--locale", "zh-CN"], environment: ["OPPS_HOME": f.home("nobody"), "LANG": "C"])
            #expect(overview.code == 0 && overview.stdout.hasPrefix("概述："), "\(overview.stdout)")
            #expect(
                ChineseHelp.split(["--home", "h", "show", "--locale=en", "x", "--", "--home", "y"]) == (
                    ["--home", "h", "--locale", "en"], ["show", "x", "--", "--home", "y"]
                ))
            // Bad usage, in the same reader's words (exit 64 either way; --json keeps English).
            let zh = ["OPPS_HOME": f.home("sam")]
            let missing = await opps(["show"], environment: zh)
            // A missing argument: the command, what the argument is, and the command's example.
            #expect(
                missing.code == 64
                    && missing.stderr == "opps: opps show 缺少参数 <编号>：记录：opps list 打印的短 id（至少 4 个字符）、完整 id、名称，或只有一个名称含有的一部分；例子：opps show 7dka36sd（或 opps show \"华东 试点\"）\n",
                "\(missing.stderr)")
            // A group's default command is the one meant (opps team is opps team list).
            #expect(
                await opps(["team"], environment: zh).stderr == "opps: opps team list 缺少参数 <编号>：商机：opps list 打印的短 id 或准确名称；例子：opps team 7dka36sd\n")
            #expect(
                await opps(["task", "add", "7dka36sd"], environment: zh).stderr
                    == "opps: opps task add 缺少参数 <内容>：要做什么（不加引号的几个词用空格连起来）；例子：opps task add 7dka36sd \"发报价\" --due 2026-12-04\n")
            #expect(await opps(["show", "a", "b"], environment: zh).stderr.hasPrefix("opps: 多余的参数「b」"))
            #expect(await opps(["list", "--foo"], environment: zh).stderr.hasPrefix("opps: 没有选项 --foo"))
            // An option by its Chinese word, as a field is written: the option it is.
            let worded = await opps(["new", "美的 数字化", "--account", "美的", "--金额", "50万", "--home", f.home("sam")], environment: zh)
            #expect(worded.code == 64 && worded.stderr.hasPrefix("opps: 没有选项 --金额：是指 --amount 吗？（选项写英文名，值可以写中文）"), "\(worded.stderr)")
            #expect(await opps(["task", "x", "回访", "--due"], environment: zh).stderr == "opps: 选项 --due <日期> 缺少值\n")
            #expect(await opps(["show", "--json"], environment: zh).stdout.contains("opps show needs <id>: the record"))
            let english = await opps(["show"], environment: ["OPPS_HOME": f.home("nobody"), "LANG": "C"])
            let needsID =
                "opps: opps show needs <id>: the record: its short id as opps list prints it (4+ characters do), a full id, its name, or a part of it only one name holds; example: opps show 7dka36sd (or opps show \"ACME rollout\")\n"
            #expect(english.code == 64 && english.stderr == needsID, "\(english.stderr)")
            // A help sentence that starts with a word in capitals keeps it (it read `fIELD=VALUE`).
            let pairs = await opps(["set", "7dka36sd"], environment: ["OPPS_HOME": f.home("nobody"), "LANG": "C"])
            #expect(pairs.code == 64 && pairs.stderr.hasPrefix("opps: opps set needs <field=value>: FIELD=VALUE pairs; "), "\(pairs.stderr)")
            // The failed command line's own --locale and --home name its reader.
            #expect(await opps(["show", "--locale", "en"], environment: zh).stderr == needsID)
            #expect(await opps(["show", "--home", f.home("sam")], environment: ["OPPS_HOME": f.home("nobody"), "LANG": "C"]).stderr.hasPrefix("opps: opps show 缺少参数"))
            // No replica, LANG in Chinese: Chinese.
            #expect(await opps(["--help"], environment: ["OPPS_HOME": f.home("nobody"), "LANG": "zh_CN.UTF-8"]).stdout.hasPrefix("概述："))
            // The first thing a rep without a replica meets, in their words: --locale, else LANG.
            let first = await opps(["list"], environment: ["OPPS_HOME": f.home("nobody"), "LANG": "zh_CN.UTF-8"])
            #expect(first.code == 1 && first.stderr == "opps: \(f.home("nobody")) 里还没有副本：先运行 opps init --hub 服务器地址 --token 令牌（令牌向管理员要）\n", "\(first.stderr)")
            #expect(
                await opps(["list", "--locale", "en"], environment: ["OPPS_HOME": f.home("nobody"), "LANG": "zh_CN.UTF-8"]).stderr.hasPrefix("opps: no replica in "))
            #expect(await opps(["list"], environment: ["OPPS_HOME": f.home("nobody"), "LANG": "C"]).stderr.hasPrefix("opps: no replica in "))
            let away = await opps(["init", "--hub", "http://127.0.0.1:1", "--token", f.tokens["max"]!, "--home", f.home("nobody"), "--locale", "zh-CN"])
            #expect(away.code == 2 && away.stderr.contains("无法连接服务器（连接失败）；没有建立副本：请检查 --hub 地址"), "\(away.stderr)")
            // The replica's own refusals of bad input carry their Chinese sentence.
            #expect(await opps(["conflicts", "dismiss", "99", "--home", f.home("sam")], environment: zh).stderr == "opps: 本机没有未处理的冲突 #99：opps conflicts 列出所有冲突\n")
            #expect(
                await opps(["conflicts", "dismiss", "99", "--home", f.home("sam"), "--locale", "en"], environment: zh).stderr.hasPrefix("opps: no open conflict #99"))
            #expect(await opps(["export", "--csv", "--type", "deal", "--home", f.home("sam")], environment: zh).stderr.hasPrefix("opps: 没有类型「deal」（类型：商机、客户、"))
            // The type as a rep types it, without --type: the same rows; two different ones refused.
            let byLabel = await opps(["export", "客户", "--home", f.home("sam")], environment: zh)
            let byName = await opps("export", "--type", "account", "--home", f.home("sam"))
            #expect(byLabel.code == 0 && byLabel.stdout == byName.stdout, "\(byLabel.stderr)")
            #expect(byLabel.stdout.hasPrefix("id,name,industry,"), "\(byLabel.stdout.prefix(100))")
            #expect(await opps(["export", "客户", "--type", "task", "--home", f.home("sam")], environment: zh).stderr == "opps: 给了两个类型：客户 和 --type task：只写一个\n")
            #expect(
                await opps(["export", "客户", "--type", "opportunity", "--home", f.home("sam")], environment: zh).stderr == "opps: 给了两个类型：客户 和 --type opportunity：只写一个\n")
            #expect(
                await opps(["list", "--sort", "大小", "--home", f.home("sam")], environment: zh).stderr == "opps: --sort 只能是 最新、成交、金额 或 名称（或 newest、close、amount、name）\n")
            // The orders in Chinese, as the columns are headed.
            #expect(
                await opps(["list", "--sort", "金额", "--home", f.home("sam")], environment: zh).stdout
                    == (await opps(["list", "--sort", "amount", "--home", f.home("sam")], environment: zh)).stdout)
            // A report's filters are checked in the reader of the --home on the same line (sam's
            // replica reads Chinese), not the default home's.
            let elsewhere = ["OPPS_HOME": f.home("nobody"), "LANG": "C"]
            #expect(await opps(["funnel", "--from", "x", "--home", f.home("sam")], environment: elsewhere).stderr == "opps: --from 要写日期：2026-12-05、12-05 或 明天\n")
            #expect(
                await opps(["report", "follow-up", "--from", "2026-12-02", "--to", "2026-12-01", "--home", f.home("sam")], environment: elsewhere).stderr
                    == "opps: --to 早于 --from\n")
            #expect(
                await opps(["forecast", "--json", "--csv", "--home", f.home("sam"), "--locale", "en"], environment: zh).json?["error"]?.string
                    == "give --json or --csv, not both")
            // A stage typed wrong names the stages in the reader's words.
            let wrong = await opps(["stage", "abcd", "结案", "--home", f.home("sam")], environment: zh)
            #expect(wrong.code == 1 && wrong.stderr.hasPrefix("opps: 没有阶段「结案」（阶段：线索、"), "\(wrong.stderr)")
        }
    }
}

/// A command's own help in Chinese (`ChineseCommandHelp`): its shape is the parser's, its
/// sentences ours — so a command or option added, renamed or removed without its Chinese fails here.
@Suite struct ChineseCommandHelpTests {
    @Test func everyCommandAndArgumentHasItsChineseAndEveryPageFits80Columns() throws {
        let all = try ChinesePagesChecks.expectComplete(ChineseCommandHelp.help, atLeast: 40)
        for (path, command) in all where command.discussion?.isEmpty == false {
            #expect(try #require(ChineseCommandHelp.page(path)).contains("例子："), "opps \(path.joined(separator: " ")): no discussion or example")
        }
    }

    @Test func everyEnglishPageFits80Columns() async throws {
        await ChinesePagesChecks.expectEnglishFits(ChineseCommandHelp.help) { await opps($0) }
    }

    @Test func chineseBreaksBetweenCharactersButNeverBeforeClosingPunctuation() {
        let text = "记录：opps list 打印的短 id（至少 4 个字符）、完整 id 或准确名称，以及「负责人」。"
        for width in 8...40 {
            let lines = text.wrapped(width: width)
            for line in lines {
                #expect(line.displayWidth <= width, "\(width): \(line)")
                #expect(!(line.first.map { "，。、；：）」".contains($0) } ?? false), "\(width): \(line)")
                #expect(!(line.last.map { "（「".contains($0) } ?? false), "\(width): \(line)")
            }
            // Nothing is lost or added but the breaks (a space at a break is dropped).
            #expect(lines.joined().filter { $0 != " " } == text.filter { $0 != " " }, "\(width)")
        }
        // Spaces between a word and Chinese stay.
        #expect(text.wrapped(width: 120) == [text])
        // A break that would fall inside a word goes back to the clause's end when it is near
        // (`到期，` / `执行人`), not far (a line is never left half empty).
        let task = "任务 ygq972jq「开通试用账号」，2026-12-03 到期，执行人 wei，未完成"
        #expect(task.wrapped(width: 49) == ["任务 ygq972jq「开通试用账号」，2026-12-03 到期，", "执行人 wei，未完成"], "\(task.wrapped(width: 49))")
        #expect("一二三四五六七八九十，一二三四五六七八九十".wrapped(width: 12) == ["一二三四五六", "七八九十，", "一二三四五六", "七八九十"])
        #expect("一，二三四五六七八九十".wrapped(width: 12) == ["一，二三四五", "六七八九十"])
        // An assignment in a sentence stays whole (`负责人=bob`), whatever the width.
        let assigned = "用户写名称（负责人=bob），百分比带不带% 都行（赢率=40%），留空即清除"
        for width in 10...40 {
            let lines = assigned.wrapped(width: width)
            #expect(lines.contains { $0.contains("负责人=bob") } && lines.contains { $0.contains("赢率=40%") }, "\(width): \(lines)")
            #expect(lines.joined().filter { $0 != " " } == assigned.filter { $0 != " " }, "\(width)")
        }
        // Spaced, it is three words, its spaces kept.
        #expect("amount = \"30,000.00\" (override)".wrapped(width: 80) == ["amount = \"30,000.00\" (override)"])
        // English is broken at the last space that fits, as before.
        #expect("whoever has more say over amount won".wrapped(width: 25) == ["whoever has more say over", "amount won"])
        #expect(
            Usage.wrap("用法：opps account merge <keep> <duplicates> ... [--home <home>] [--locale <locale>]", width: 40)
                == ["用法：opps account merge <keep>", "  <duplicates> ... [--home <home>]", "  [--locale <locale>]"])
    }
}

@Suite struct AgoTests {
    @Test func howLongAgoInTheLargestWholeUnit() {
        let zh = Phrases(chinese: true), en = Phrases(chinese: false)
        let minute: Int64 = 60_000
        #expect([-5, 0, 59_999].map { zh.ago($0) } == ["刚刚", "刚刚", "刚刚"])
        #expect(zh.ago(5 * minute) == "5 分钟前" && en.ago(5 * minute) == "5 min ago")
        #expect(zh.ago(60 * minute) == "1 小时前" && en.ago(47 * 60 * minute) == "47 h ago")
        #expect(zh.ago(48 * 60 * minute) == "2 天前" && en.ago(30 * 24 * 60 * minute) == "30 days ago")
    }

    /// opps status groups its counts as every count opps prints is.
    @Test func statusGroupsItsCounts() {
        let zh = Phrases(chinese: true).status(user: "lin", hub: "h", lastSync: nil, now: 0, pending: 0, conflicts: 1200, awaiting: 3000, records: 1061)
        #expect(zh.contains("\n冲突     1,200（") && zh.contains("\n待审批   3,000 项") && zh.hasSuffix("\n记录     1,061"), "\(zh)")
        #expect(Phrases(chinese: false).status(user: "sam", hub: "h", lastSync: nil, now: 0, pending: 0, conflicts: 0, records: 344_000).hasSuffix("\nrecords   344,000"))
    }
}

/// Report amounts as a reader reads them: a deal with no currency is said to have none (not a
/// currency called "?"), and several currencies continue on the next line at 80 columns.
@Suite struct ReportAmountTests {
    @Test func amountsWithoutACurrencyAndManyCurrenciesRead() throws {
        var totals = CurrencyTotals()
        totals.add(.decimal(ExactDecimal(units: 15_000_000, scale: 2)), currency: .null)
        for code in ["CNY", "HKD", "JPY"] { totals.add(.decimal(ExactDecimal(units: 8_650_000_000, scale: 2)), currency: .member(code)) }
        let zh = totalsItems(totals, Phrases(chinese: true))
        // The amounts without a currency last: the exception to fix, not a currency ("?" sorts first).
        #expect(zh == ["86,500,000.00 CNY", "86,500,000.00 HKD", "86,500,000.00 JPY", "150,000.00（未填币种）"])
        #expect(totals.codes == ["CNY", "HKD", "JPY", CurrencyTotals.noCurrency])
        // Amounts apart by a dot, not a comma read as one more thousands separator.
        #expect(totalsText(totals, Phrases(chinese: false)).hasSuffix("86,500,000.00 JPY · 150,000.00 (no currency)"))
        let lines = itemLines(zh, width: 46, separator: amountsSeparator)
        #expect(lines == ["86,500,000.00 CNY · 86,500,000.00 HKD ·", "86,500,000.00 JPY · 150,000.00（未填币种）"])
        #expect(lines.allSatisfy { $0.displayWidth <= 46 })
        for width in 20...60 { #expect(itemLines(zh, width: width).allSatisfy { $0.displayWidth <= max(width, 23) }, "\(width)") }
        // Fields to fill, joined by 、: a line ends with it when another follows, no field is cut.
        #expect(itemLines(["下一步", "解决方案", "折扣"], width: 12, separator: "、") == ["下一步、", "解决方案、", "折扣"])
        #expect(itemLines(["下一步", "解决方案", "折扣"], width: 18, separator: "、") == ["下一步、解决方案、", "折扣"])
        #expect(Phrases(chinese: true).forecastHeading(month: "-", owner: "wei", deals: 8) == "未填成交日期  wei（8 个商机）")
        // An owner this reader does not see (a success manager's deals): the month alone, no "-".
        #expect(Phrases(chinese: true).forecastHeading(month: "2026-11", owner: "-", deals: 39, ownersShown: false) == "2026-11（39 个商机）")
        #expect(Phrases(chinese: false).forecastHeading(month: "2026-11", owner: "-", deals: 1, ownersShown: false) == "2026-11  (1 deal)")
        // Among owners' blocks (a manager's), unassigned leads are said to have none.
        #expect(Phrases(chinese: true).forecastHeading(month: "-", owner: "-", deals: 3) == "未填成交日期  无负责人（3 个商机）")
        #expect(Phrases(chinese: false).forecastHeading(month: "-", owner: "-", deals: 3) == "no close date  no owner  (3 deals)")
    }
}
