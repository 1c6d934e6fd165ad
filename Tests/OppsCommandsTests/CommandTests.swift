import ArgumentParser
import Foundation
import OppsCore
import OppsTestSupport
import Testing

@testable import OppsCommands
@testable import OppsHubCommands

@Suite struct HubCommandTests {
    @Test func checkAcceptsTheDefaultWorkspace() {
        let report = WorkspaceReport(text: Workspace.defaultDocument, file: "w.json")
        #expect(report.issues.isEmpty)
        #expect(report.summary.contains("valid workspace \"default\" version \(Workspace.default.version)"))
        #expect(report.json["valid"]?.bool == true)
    }

    @Test func checkReportsEveryProblemWithItsLine() {
        let text = Workspace.defaultDocument.replacingOccurrences(of: "\"group\": \"postsale\"}", with: "\"group\": \"post-sale\"}")
        let report = WorkspaceReport(text: text, file: "w.json")
        #expect(report.issues.count == 3)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().filter { $0.element.contains("\"group\": \"post-sale\"") }.map {
            $0.offset + 1
        }
        #expect(lines.count == 3)
        #expect(report.issues.map(\.position.line) == lines)
        #expect(report.json["issues"]?.array?.first?["line"]?.int == lines.first)
        #expect(report.json["valid"]?.bool == false)
    }

    @Test func parsesTheCommandLine() throws {
        let parsed = try OppsHub.parseAsRoot(["workspace", "check", "w.json", "--json"])
        let check = try #require(parsed as? WorkspaceCommand.Check)
        #expect(check.file == "w.json")
        #expect(check.json)
        #expect(throws: (any Error).self) { try OppsHub.parseAsRoot(["workspace", "check"]) }
        #expect(throws: (any Error).self) { try OppsHub.parseAsRoot(["workspace", "frobnicate"]) }
    }

    /// How long a serving hub waits for PostgreSQL: 30 s unless the config file's
    /// `limits.store_answer_seconds` says otherwise (1 … 3600); the value is said in --help.
    @Test func theStoresAnswerLimitIsThirtySecondsUnlessConfigured() throws {
        let directory = Scratch.directory("opps-serve-config")
        func serve(_ limits: String?) throws -> Serve {
            var args = ["serve", "--data", directory]
            if let limits {
                try #"{"limits": {\#(limits)}}"#.write(toFile: directory + "/serve.json", atomically: true, encoding: .utf8)
                args += ["--config", directory + "/serve.json"]
            }
            return try #require(try OppsHub.parseAsRoot(args) as? Serve)
        }
        #expect(try serve(nil).settings().0.storeAnswerLimit == .seconds(30))
        #expect(try serve(#""store_answer_seconds": 5"#).settings().0.storeAnswerLimit == .seconds(5))
        #expect(throws: CommandFailure.self) { try serve(#""store_answer_seconds": 3601"#).settings() }
        #expect(throws: CommandFailure.self) { try serve(#""store_answer_seconds": 0"#).settings() }
        #expect(OppsHub.helpMessage(for: Serve.self, columns: 1000).contains("store_answer_seconds (PostgreSQL: how long to wait for the database"))
    }

    @Test func helpExplainsEveryCommand() {
        for command in [["workspace"], ["workspace", "check"], ["workspace", "show"]] {
            let help = OppsHub.helpMessage(
                for: command.count == 1 ? WorkspaceCommand.self : (command[1] == "check" ? WorkspaceCommand.Check.self : WorkspaceCommand.Show.self))
            #expect(help.contains("OVERVIEW:"), "\(command)")
        }
    }
}

@Suite struct RepCommandTests {
    @Test func rulesShowTheMatrixForARoleAtAStage() throws {
        let rules = try #require(try Opps.parseAsRoot(["rules", "--role", "expert", "--stage", "solution", "--relations", "team"]) as? RulesCommand)
        let table = Dictionary(uniqueKeysWithValues: rules.table().map { ($0.field, $0.access) })
        #expect(table["solution"] == .own)
        #expect(table["amount"] == .read)
        #expect(table["stage"] == .propose)
        #expect(table["discount"] == .read)
    }

    /// A field set once (a request's target, a task's deal) is said to be so below the table:
    /// its access tells who may set it, not that it may be changed (merge-semantics.md I14).
    @Test func rulesSayWhichFieldsAreSetOnce() async {
        let nowhere = "/nonexistent-\(UInt64.random(in: 0...UInt64.max))"
        let task = await opps(["rules", "--role", "sales", "--entity", "task", "--home", nowhere, "--locale", "en"], environment: ["COLUMNS": "80"])
        #expect(task.code == 0 && task.stdout.hasSuffix("\nSet once, then never changed (a change is a new task): opportunity\n"), "\(task.stdout)")
        let zh = await opps(["rules", "--role", "sales", "--entity", "approval", "--home", nowhere, "--locale", "zh-CN"], environment: ["COLUMNS": "80"])
        // Wrapped at 80 columns like every line.
        #expect(zh.stdout.contains("\n只能设置一次，之后不能修改（要改就新建一条审批）：商机、类型、申请内容、对象、\n字段、申请值、一并申请、撤回\n"), "\(zh.stdout)")
        // None on a deal: no line.
        let deal = await opps("rules", "--role", "sales", "--home", nowhere, "--locale", "en")
        #expect(!deal.stdout.contains("Set once"), "\(deal.stdout)")
    }

    /// Role and stage are checked against the workspace the table is read from (the laptop's, else
    /// the default): one clear line, exit 1.
    @Test func rulesRefuseUnknownNames() async {
        let nowhere = "/nonexistent-\(UInt64.random(in: 0...UInt64.max))"
        // Without a replica there is no role of one's own to default to: one line that says so.
        let noRole = await opps("rules", "--home", nowhere)
        #expect(noRole.code == 64 && noRole.stderr.hasPrefix("opps: say whose rules: --role (marketing, sales, "), "\(noRole.code) \(noRole.stderr)")
        let role = await opps("rules", "--role", "boss", "--home", nowhere)
        #expect(role.code == 1 && role.stderr.contains("unknown role \"boss\""), "\(role.stderr)")
        let stage = await opps("rules", "--role", "sales", "--stage", "closing", "--home", nowhere)
        #expect(stage.code == 1 && stage.stderr.contains("unknown stage \"closing\""), "\(stage.stderr)")
        // In Chinese, the ones it knows by label: what a Chinese reader types.
        let zhRole = await opps("rules", "--role", "经理", "--home", nowhere, "--locale", "zh-CN")
        #expect(zhRole.code == 1 && zhRole.stderr == "opps: 没有角色「经理」（角色：市场推广、销售顾问、产品专家、客户成功经理、销售管理者）\n", "\(zhRole.stderr)")
        #expect(await opps("rules", "--role", "sales", "--stage", "结束", "--home", nowhere, "--locale", "zh-CN").stderr.hasPrefix("opps: 没有阶段「结束」（阶段：线索、"))
        #expect(throws: (any Error).self) { try Opps.parseAsRoot(["rules", "--role", "sales", "--relations", "friend"]) }
        let labelled = await opps("rules", "--role", "销售顾问", "--stage", "方案", "--home", nowhere, "--json")
        #expect(labelled.json?["tech_risk"]?.string == "write", "labels as input: \(labelled.stdout)")
        // In Chinese: the heading, the relations and each access in words, the JSON by name.
        let zh = await opps("rules", "--role", "销售顾问", "--stage", "方案", "--relations", "team,owner", "--home", nowhere, "--locale", "zh-CN")
        let lines = zh.stdout.split(separator: "\n")
        #expect(lines.prefix(2) == ["销售顾问在「方案」阶段对商机各字段的权限", "（你的身份：负责人、团队成员；内置默认工作区）"], "\(zh.stdout)")
        #expect(lines.contains { $0.hasPrefix("技术风险") && $0.contains(" 可修改 ") }, "\(zh.stdout)")
        // Columns named; a field's group by its label (the workspace's group_labels).
        #expect(lines.dropFirst(2).first?.split(separator: " ") == ["字段", "权限", "字段组"], "\(zh.stdout)")
        #expect(lines.contains { $0.hasPrefix("名称") && $0.hasSuffix("  基本信息") }, "\(zh.stdout)")
        #expect(lines.contains { $0.hasPrefix("下一步截止") && $0.hasSuffix("  下一步") }, "\(zh.stdout)")
        #expect(!zh.stdout.contains(" own ") && !zh.stdout.contains(" write "), "\(zh.stdout)")
        #expect(
            await opps("rules", "--role", "sales", "--home", nowhere).stdout.hasPrefix(
                "opportunity fields for sales at discovery\n(relations: owner,team,creator,managed;"))
        let en = await opps("rules", "--role", "sales", "--home", nowhere, "--locale", "en").stdout.split(separator: "\n")
        #expect(en.dropFirst(2).first?.split(separator: " ") == ["field", "access", "group"], "\(en)")
        #expect(en.contains { $0.hasPrefix("next_step_due") && $0.hasSuffix("  next step") }, "\(en)")
    }

    @Test func withoutARelationARepCannotSeeTheDeal() throws {
        let rules = try #require(try Opps.parseAsRoot(["rules", "--role", "sales", "--relations", ""]) as? RulesCommand)
        #expect(rules.table().allSatisfy { $0.access == .hidden })
    }
}
