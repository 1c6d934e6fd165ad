import Foundation
import OppsCommandLine
import OppsConsole
import OppsTestSupport
import Testing

@testable import OppsCommands
@testable import OppsHubCommands

/// `opps-hub`'s help for a Chinese reader (LANG): every command's page from the parser's own
/// description with our sentences, so a command or option added, renamed or removed without its
/// Chinese fails here; the overview; usage errors.
@Suite struct ChineseHubHelpTests {
    /// `--金额` is said as `--amount` (`ChineseUsage.optionsByWord`): each option that table
    /// names is one a command of opps or opps-hub has, so a renamed option fails here.
    @Test func everyOptionAChineseWordNamesIsOneACommandHas() {
        let commands = ChinesePagesChecks.commands(ChineseCommandHelp.help).map(\.command) + ChinesePagesChecks.commands(ChineseHubHelp.help).map(\.command)
        var options = Set<String>()
        for command in commands {
            for argument in command.arguments ?? [] {
                for name in argument.names ?? [] where name.kind == "long" { options.insert("--" + name.name) }
            }
        }
        #expect(options.contains("--amount") && options.contains("--data"), "\(options.count) options read")
        for (word, option) in ChineseUsage.optionsByWord { #expect(options.contains(option), "--\(word) names \(option), which no command has") }
    }

    @Test func everyCommandAndArgumentHasItsChineseAndEveryPageFits80Columns() throws {
        let help = ChineseHubHelp.help
        let all = try ChinesePagesChecks.expectComplete(help, atLeast: 20)
        // Each example names the same command as the English one, so the example test's runs hold for both.
        for (path, command) in all {
            guard let english = command.discussion.flatMap(HubHelpExampleTests.example(in:)) else { continue }
            let chinese = try #require(help.pages[path.joined(separator: " ")]?.discussion)
            #expect(chinese.contains("例子：") && chinese.contains("opps-hub " + english.prefix(path.count).joined(separator: " ")), "opps-hub \(path): \(chinese)")
        }
        #expect(ChineseHubHelp.commands.map(\.name) == all.filter { $0.path.count == 1 }.map { $0.path[0] }, "the overview lists the commands in the parser's order")
        for line in ChineseHubHelp.overview.split(separator: "\n") { #expect(String(line).displayWidth <= 80, "\(line)") }
    }

    @Test func everyEnglishPageFits80Columns() async throws {
        await ChinesePagesChecks.expectEnglishFits(ChineseHubHelp.help) { await oppsHub($0) }
    }

    @Test func aChineseOperatorReadsTheHubsHelpAndUsageInChinese() async throws {
        let chinese = ["LANG": "zh_CN.UTF-8"], english = ["LANG": "C"]
        func hub(_ args: String..., environment: [String: String]) async -> Run {
            await ProcessEnvironment.$pinned.withValue(environment) { await oppsHub(args) }
        }
        for asked in [[], ["--help"], ["-h"], ["help"]] {
            let overview = await ProcessEnvironment.$pinned.withValue(chinese) { await oppsHub(asked) }
            #expect(overview.code == 0 && overview.stdout.hasPrefix("概述：运行和管理 OppSync 服务器。"), "\(asked): \(overview.stdout.prefix(200))")
        }
        #expect(await hub("--help", environment: english).stdout.hasPrefix("OVERVIEW: Run and operate the OppSync hub."))
        let add = await hub("user", "add", "--help", environment: chinese)
        #expect(add.code == 0 && add.stdout.hasPrefix("用法：opps-hub user add <用户名> --role <角色>"), "\(add.stdout.prefix(300))")
        #expect(add.stdout.contains("  --role <角色>           角色：工作区的角色之一"), "\(add.stdout)")
        #expect(add.stdout.hasSuffix("英文帮助：LANG=C opps-hub user add --help\n"), "\(add.stdout.suffix(200))")
        #expect(await hub("help", "token", "rotate", environment: chinese).stdout.hasPrefix("用法：opps-hub token rotate <用户名>"))
        // A group named alone, with where the hub is: its page, with its commands.
        let group = await hub("user", "--data", "/nowhere", environment: chinese)
        #expect(group.code == 0 && group.stdout.contains("子命令：\n  add                     新增用户并打印其令牌"), "\(group.stdout)")
        // Usage errors, one line each.
        let missing = await hub("user", "add", environment: chinese)
        #expect(
            missing.code == 64
                && missing.stderr
                    == "opps-hub：opps-hub user add 缺少参数 <用户名>：用户名（唯一，不含空格）；例子：opps-hub user add fang --role 销售顾问 --territory 华东 --manager lin --data /srv/opps\n",
            "\(missing.stderr)")
        let typo = await hub("usr", "list", environment: chinese)
        #expect(typo.code == 64 && typo.stderr == "opps-hub：没有命令「usr」（opps-hub --help 列出所有命令）。是指：opps-hub user list\n", "\(typo.stderr)")
        let extra = await hub("user", "ad", "fang", environment: chinese)
        // A typo of a group's command: its commands, and the line meant (it said 多余的参数「ad」、「fang」).
        #expect(
            extra.code == 64
                && extra.stderr == "opps-hub：没有命令「ad」：opps-hub user 的命令有 add、import、list、disable、enable、set。是指：opps-hub user add fang\n",
            "\(extra.stderr)")
        #expect(
            await hub("user", "add", environment: english).stderr
                == "opps-hub: opps-hub user add needs <name>: the user name (unique, no spaces); example: opps-hub user add fang --role sales --territory east --manager lin --data /srv/opps\n"
        )
    }

    /// An operator who reads Chinese sets up a hub and its users: every line in Chinese, roles
    /// typed and shown by their labels, and each refusal one line saying what to do.
    @Test func aChineseOperatorsFirstDay() async throws {
        let zh = ["LANG": "zh_CN.UTF-8"]
        func hub(_ args: String...) async -> Run { await ProcessEnvironment.$pinned.withValue(zh) { await oppsHub(args) } }
        let dir = Scratch.directory("opps-hub-zh") + "/hub"
        let made = await hub("init", "--data", dir, "--locale", "zh-CN")
        #expect(made.code == 0 && made.stdout.hasPrefix("已在 \(dir) 建立服务器 "), "\(made.stdout)")
        #expect(made.stdout.contains("接下来：opps-hub user add 用户名 --role 角色 --data \(dir)（角色：市场推广（marketing）、销售顾问（sales）"), "\(made.stdout)")
        #expect(await hub("init", "--data", dir).stderr == "opps-hub：\(dir) 里已经有服务器：请换一个目录\n")

        let lead = await hub("user", "add", "李娜", "--role", "销售管理者", "--data", dir)
        #expect(lead.code == 0 && lead.stdout.hasPrefix("已添加 李娜（销售管理者）；令牌（只显示这一次）：opps_"), "\(lead.stdout)")
        // Then the line to run on her laptop, with the token in it.
        let leadToken = try #require(lead.stdout.split(separator: "\n").first?.split(separator: "：").last)
        #expect(lead.stdout.hasSuffix("\n在 李娜 的电脑上运行：opps init --hub 服务器地址 --token \(leadToken)\n"), "\(lead.stdout)")
        let vague = await hub("user", "add", "王伟", "--role", "销售", "--data", dir)
        #expect(vague.code == 1)
        #expect(vague.stderr.hasPrefix("opps-hub：没有角色「销售」（角色有：市场推广（marketing）、销售顾问（sales）"), "\(vague.stderr)")
        #expect(await hub("user", "add", "王伟", "--role", "sales", "--manager", "张三", "--data", dir).stderr == "opps-hub：经理「张三」不是已有的用户\n")
        #expect(await hub("user", "add", "王伟", "--role", "销售顾问", "--manager", "李娜", "--data", dir).code == 0)
        #expect(await hub("user", "add", "王伟", "--role", "sales", "--data", dir).stderr == "opps-hub：用户「王伟」已经存在\n")
        let list = await hub("user", "list", "--data", dir)
        #expect(list.stdout == "用户名  角色        团队  区域  经理  容量\n李娜    销售管理者  -     -     -     -\n王伟    销售顾问    -     -     李娜  -\n", "\(list.stdout)")
        // Stored by the role's name, whatever label it was typed with.
        #expect(await oppsHub("user", "list", "--data", dir, "--json").json?.array?.compactMap { $0["role"]?.string } == ["manager", "sales"])
        // And said so when added: the JSON and the English name the role, not the label typed.
        #expect(await oppsHub("user", "add", "赵六", "--role", "销售顾问", "--data", dir, "--json").json?["role"]?.string == "sales")
        #expect(
            await ProcessEnvironment.$pinned.withValue(["LANG": "C"]) { await oppsHub("user", "add", "钱七", "--role", "销售顾问", "--data", dir) }.stdout.hasPrefix(
                "added 钱七 (sales); "))
        #expect(await hub("user", "set", "王为", "--team", "华东", "--data", dir).stderr == "opps-hub：没有用户「王为」（opps-hub user list 列出所有用户）\n")
        #expect(await hub("user", "set", "王伟", "--team", "华东", "--data", dir).stdout == "已修改 王伟：角色 销售顾问，团队 华东，区域 -，经理 李娜\n")
        #expect(await hub("user", "disable", "王伟", "--data", dir).stdout == "已停用 王伟：他的令牌从下一个请求起被拒绝\n")
        let rotated = await hub("token", "rotate", "王伟", "--data", dir)
        let newToken = try #require(rotated.stdout.split(separator: "\n").first?.split(separator: "：").last)
        #expect(
            rotated.stdout == "王伟 的新令牌（只显示这一次）：\(newToken)\n旧令牌已失效；在 王伟 的电脑上运行（本机的东西都不会丢）：opps connect --token \(newToken)\n",
            "\(rotated.stdout)")
        #expect(newToken.hasPrefix("opps_") && newToken != leadToken)
        #expect(await hub("status", "--data", dir + "-none").stderr == "opps-hub：\(dir)-none 里没有服务器：先运行 opps-hub init --data \(dir)-none\n")
        #expect(await hub("user", "list").stderr == "opps-hub：请用 --data 目录 指明服务器（PostgreSQL 上的服务器用 --store postgres://…）\n")
        // The rest of the day's commands.
        #expect(await hub("status", "--data", dir).stdout.hasSuffix("未处理冲突 0 个；压缩可以释放 0 条日志（到序号 0）\n还没有副本同步过\n"))
        #expect(await hub("conflicts", "--data", dir).stdout == "没有未处理的冲突\n")
        #expect(await hub("duplicates", "--type", "contact", "--data", dir).stdout == "服务器上没有可能重复的联系人\n")
        #expect(await hub("compact", "--data", dir).stdout == "已压缩到序号 0：日志 0 条，删除标记 0 个\n")
        let backup = dir + "-backup.sqlite"
        #expect(await hub("backup", "--to", backup, "--data", dir).stdout == "已把 \(dir) 备份到 \(backup)\n")
        #expect(await hub("backup", "--to", backup, "--data", dir).stderr == "opps-hub：\(backup) 已经存在：请换一个新文件\n")
        #expect(await hub("restore", "--from", backup, "--data", dir).stdout == "已用 \(backup) 恢复 \(dir)；副本在下一次同步时对齐\n")
        #expect(await hub("audit", "zzzz", "--data", dir).stderr.hasPrefix("opps-hub：没有短 id 为 zzzz 的记录"))
        let csv = dir + "-accounts.csv"
        try "name,industry\n华为,电信\n中兴,通信,多余\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let refused = await hub("import", csv, "--type", "account", "--data", dir)
        #expect(refused.code == 1 && refused.stderr.hasSuffix("opps-hub：什么都没有导入：1 行无效（加 --skip-invalid 导入其余的行）\n"), "\(refused.stderr)")
        #expect(await hub("import", csv, "--type", "account", "--skip-invalid", "--data", dir).stdout.hasPrefix("已导入 1 条「客户」记录；跳过 1 行无效的"))
        #expect(await hub("import", csv, "--type", "deal", "--data", dir).stderr.hasPrefix("opps-hub：没有记录类型「deal」（类型有：商机（opportunity）、"))
        // What the parser checks before a command runs (its validations), one line each.
        let nothingToSet = await hub("user", "set", "王伟", "--data", dir)
        #expect(nothingToSet.code == 64 && nothingToSet.stderr == "opps-hub：至少给出 --role、--team、--territory、--manager、--capacity 中的一个\n")
        #expect(await hub("serve", "--port", "70000", "--data", dir).stderr == "opps-hub：--port 必须是 0–65535\n")
        let shown = dir + "-workspace.json"
        try await hub("workspace", "show").stdout.write(toFile: shown, atomically: true, encoding: .utf8)
        #expect(await hub("workspace", "check", shown).stdout.hasPrefix("\(shown)：有效的工作区「default」第 "))
        let broken = dir + "-broken.json"
        try String(contentsOfFile: shown, encoding: .utf8).replacingOccurrences(of: "\"approvers\": [\"manager\"]", with: "\"approvers\": [\"boss\"]")
            .write(toFile: broken, atomically: true, encoding: .utf8)
        let refusedWorkspace = await hub("workspace", "check", broken)
        #expect(refusedWorkspace.code == 1 && refusedWorkspace.stderr.contains(": approvals.approvers[0]: 没有角色「boss」\n"), "\(refusedWorkspace.stderr)")
        #expect(await hub("conflicts", "restore", "9", "--as", "李娜", "--data", dir).stderr == "opps-hub：没有编号为 9 的冲突（opps-hub conflicts 列出未处理的冲突）\n")
        // The same in English for an English reader.
        let english = await ProcessEnvironment.$pinned.withValue(["LANG": "C"]) { await oppsHub(["user", "list"]) }
        #expect(english.stderr == "opps-hub: give the hub's --data DIR (or --store postgres://… for a hub on PostgreSQL)\n")
    }
}
