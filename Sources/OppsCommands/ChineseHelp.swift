import Foundation
import OppsCore
import OppsReplica

/// `opps`, `opps --help`, `opps help` for a Chinese reader: what the tool is for and every
/// command in one line, in Chinese — the first thing a rep reads (a command's own help:
/// `ChineseCommandHelp`). The reader is Chinese when
/// this laptop's replica (the default home) shows Chinese, else when LANG names Chinese — the
/// same rule as every other sentence (`Phrases`).
enum ChineseHelp {
    /// Every command's line, in the order `opps --help` lists them (a test holds that each
    /// command has one).
    static let commands: [(name: String, line: String)] = [
        ("init", "建立本机副本，连接服务器，并完成第一次完整同步"),
        ("connect", "换用新的令牌、服务器地址或 CA 证书，本机的工作都保留"),
        ("sync", "推送待同步的修改，再拉取服务器上的新内容"),
        ("status", "你是谁、连接哪个服务器、上次同步时间、有多少修改待同步"),
        ("new", "新建一个由你负责的商机（离线可用）"),
        ("lead", "市场：处理线索"),
        ("list", "列出本机的商机（搜索、筛选、排序）"),
        ("forecast", "预测：按负责人和成交月份的管道、加权、最佳情况、承诺和赢单金额"),
        ("show", "显示一条记录的全部字段和时间线"),
        ("set", "在一次本地修改中改一条记录的若干字段"),
        ("stage", "把商机移到另一个阶段（阶段条件和归属规则照样适用，离线也是）"),
        ("undo", "撤销你的上一项修改，只要它还没有同步（离线可用）"),
        ("team", "商机团队：查看、加入或移除产品专家和客户成功经理"),
        ("approvals", "审批申请：等你决定的（审批人），或你提出的（其他人）"),
        ("approve", "批准一个申请（审批人；离线可用，同步后在服务器生效）"),
        ("reject", "驳回一个申请并写明原因（审批人；离线可用，同步后生效）"),
        ("withdraw", "撤回你自己还没有结果的申请（离线可用，同步后在服务器生效）"),
        ("log", "记录电话、拜访、邮件、会议或签到（离线可用，不会被覆盖）"),
        ("task", "商机上的任务：有截止日期和执行人的下一步"),
        ("today", "今天到期的、已逾期的（任务和下一步），以及久未跟进的商机"),
        ("board", "商机看板：每个阶段一列，每个商机带短 id、金额、下一步和逾期标记"),
        ("funnel", "漏斗：各阶段的商机数和金额、阶段转化率和赢单率"),
        ("report", "根据阶段记录和活动生成的管道报表（按设备时间）"),
        ("export", "把本机某类记录导出为 CSV（先是表头，每条记录一行）"),
        ("conflicts", "你的修改中未被采用、被拒绝或成为提议的，以及覆盖了你的修改的"),
        ("history", "一条记录在本机的修改记录：谁在何时改了什么（设备时间）"),
        ("delete", "删除一条记录（默认工作区中由经理操作）"),
        ("duplicates", "列出看起来建了两次的进行中商机"),
        ("merge", "把重复的商机合并为一个（经理）"),
        ("account", "客户：列出、查看其商机和联系人、新增"),
        ("contact", "联系人：列出、查看其商机、新增"),
        ("locale", "查看或选择阶段、字段和选项显示的语言"),
        ("rules", "查看归属矩阵：某个角色在某个阶段对每个字段能做什么"),
        ("web", "在浏览器中打开：看板、商机、今天、审批、报表（离线可用）"),
    ]

    static var text: String {
        let width = commands.map(\.name.count).max() ?? 10
        let lines = commands.map { "  " + $0.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.line }
        return """
            概述：离线处理你的商机，并与 OppSync 服务器同步。

            副本保存在 --home 目录，否则 $OPPS_HOME，否则 ~/.opps。
            记录用 opps 打印的短 id（至少 4 个字符）或完整名称指定；
            打印数据的命令都可加 --json。
            阶段、字段和选项可以用名称或中文标签输入：opps set 7dka36sd 技术风险=低。

            退出码：0 成功；1 输入有误（副本不能接受的记录、字段或值）；
            2 连不上服务器（本机的工作都保留）；3 被归属规则拒绝；4 认证失败；
            5 不信任服务器的证书；64 用法错误。

            第一次使用：opps init --hub http://127.0.0.1:8080 --token opps_…
            （令牌向管理员要），然后 opps new "华为云 试点" --account 华为，
            opps today，opps sync。

            用法：opps <命令>

            命令：
            \(lines.joined(separator: "\n"))

            每个命令的详细帮助：opps help <命令>，或 opps <命令> --help。
            显示语言：opps locale zh-CN 或 opps locale en。
            """
    }

    /// A command line that never parsed (help, bad usage) split into its `--home` and
    /// `--locale` with their values (before any `--`), as `HomeOption` parses them, and the rest:
    /// what it asks for (`opps --help --locale zh-CN` asks for the overview).
    static func split(_ arguments: [String]) -> (reader: [String], rest: [String]) {
        var reader: [String] = [], rest: [String] = []
        var i = 0, ended = false
        while i < arguments.count {
            let word = arguments[i]
            ended = ended || word == "--"
            if !ended, word == "--home" || word == "--locale", i + 1 < arguments.count {
                reader += [word, arguments[i + 1]]
                i += 2
                continue
            }
            if !ended, let name = ["--home", "--locale"].first(where: { word.hasPrefix($0 + "=") }) {
                reader += [name, String(word.dropFirst(name.count + 1))]
            } else {
                rest.append(word)
            }
            i += 1
        }
        return (reader, rest)
    }

    /// Whether the reader of a command line that never parsed reads Chinese: the `--home` and
    /// `--locale` written on it, else the default home's replica as it shows, else LANG — the
    /// same rule as every other sentence.
    static func readerIsChinese(_ arguments: [String]) -> Bool {
        let home = (try? HomeOption.parse(split(arguments).reader)) ?? (try? HomeOption.parse([]))
        return home?.say.chinese ?? false
    }
}
