import ArgumentParser
import Foundation
import OppsCommandLine
import OppsConsole

/// A command's own help (`opps set --help`, `opps help team add`) for a Chinese reader: the
/// sentences, laid out by `ChinesePages` (OppsCommandLine). A test holds that every command and
/// every argument it shows has its Chinese sentence, that no sentence is left over for one that
/// is gone, and that every line fits 80 columns.
enum ChineseCommandHelp {
    /// What each command is for, and what else its reader needs (examples at the end). The
    /// top-level commands' first line is `ChineseHelp.commands`'s.
    static let pages: [String: (abstract: String?, discussion: String?)] = [
        "init": (nil, "第一次同步中途被打断（Ctrl-C、断网）后，用同样的服务器地址和令牌再运行一次，会从停下的地方接着同步。\n\n例子：opps init --hub http://127.0.0.1:8080 --token opps_…"),
        "connect": (
            nil,
            """
            管理员轮换了你的令牌（opps sync 说令牌不被接受）、服务器换了地址，或服务器用私有 CA 时使用。\
            本机的一切都保留，待同步的修改在下一次 opps sync 时推送。先问服务器：只有服务器确认令牌是你的，才会改动。

            例子：opps connect --token opps_NEW
            """
        ),
        "sync": (
            nil,
            "先说推送了什么（按记录计：商机、任务、审批申请），再逐个商机列出别人的修改，以及没有经你决定就离开你审批列表的申请。离线是常态：没有网络或服务器没有运行时立即告知，本机的工作都保留；网络慢时最多等服务器 10 秒，2 秒后提示正在等待。\n\n从备份恢复或从另一台电脑复制来的文件夹会作为新副本继续同步：其中的修改照常发给服务器；某项修改之后服务器上已被改过的，不会覆盖更新的值（opps conflicts 列出它）。离线时间超过服务器保留变更的期限的电脑，会从服务器完整重新同步，并说明这期间的变化。\n\n例子：opps sync"
        ),
        "status": (nil, "审批人还会看到有几项申请等他审批。\n\n例子：opps status"),
        "new": (
            nil,
            "名称后面可以跟其他字段（字段=值，同 opps set）；新商机和这些字段是一次修改，被拒绝时什么也不建。\n\n这个客户在本机已有名称看起来相同的进行中商机时不新建，而是告诉你它的 id（确实要再建一个：--allow-duplicate）。同时在另一台电脑上建的同一个商机，同步时会提示：opps duplicates 列出这样的商机，由经理合并（opps merge）。\n\n例子：opps new \"华东 试点\" --account 上海云帆 --amount 120000.00 --currency CNY --close 2027-03-31 赢率=30"
        ),
        "lead": (nil, "例子：opps lead add \"Beta 试点\" --company Beta --contact 李伟 --source event"),
        "lead list": ("列出本机的线索：每条还缺什么才能交接，以及已交接的", "被销售退回的线索（从交接的第二个阶段移回）会标出，列表下方写明谁、何时、为什么退回。\n\n例子：opps lead list"),
        "lead add": ("为一家公司新增线索（处于线索阶段的商机）", "例子：opps lead add \"Beta 试点\" --company Beta --contact 李伟 --source event"),
        "list": (nil, "筛选条件可以组合。\n\n例子：opps list 物流 --stage 需求挖掘 --mine --closing-to 2026-12-31 --amount-min 100000 --sort close"),
        "forecast": (
            nil,
            """
            范围是在此期间成交的商机（按预计成交日期；--from/--to）。加权：每个未结束商机的金额乘以其成交概率\
            （商机自己的概率字段，否则取工作区中该阶段的概率）。最佳情况和承诺：处于工作区预测阶段（默认方案和谈判）\
            及以后的未结束商机。赢单：当月成交的赢单商机。输单的商机不计入预测。

            例子：opps forecast --from 2026-10-01 --to 2026-12-31
            """
        ),
        "show": (nil, "例子：opps show 7dka36sd（或 opps show \"华东 试点\"）"),
        "set": (
            nil,
            """
            值的写法：金额 12000.00（或 opps 打印的 12,000.00，或 12万；带上币种如 35万元、5万美元、5,000 USD 时，同时设好商机的币种），百分比 40%（或 四成），日期 YYYY-MM-DD（也可以写 12-05、2026/12/5、明天、后天、周五、下周一、3天后、月底、季度末、年底：只写月日时取离今天最近的那一天），用户写名称（负责人=bob），\
            记录写短 id 或名称，选项写名称或标签（只有一个选项以它开头时，写开头几个字也行：展会 即 展会活动），是/否（或 true/false），百分比带不带 % 都行（赢率=40%），留空即清除。字段也可以写标签。

            例子：opps set 7dka36sd 下一步="周五演示" 下一步截止=2026-12-04
            """
        ),
        "stage": (nil, "例子：opps stage 7dka36sd 方案；opps stage 7dka36sd 下一阶段；opps stage 7dka36sd 输单 --reason 价格"),
        "team": (
            nil,
            """
            经理的改动立即生效（待同步）。负责人的改动是一个申请，由经理批准（opps approvals）；批准后，\
            成员按归属矩阵拥有字段，并在下一次同步时在自己的副本里看到这个商机。

            例子：opps team add 7dka36sd eve --role expert
            """
        ),
        "team list": ("显示商机的团队（默认子命令）", "例子：opps team 7dka36sd"),
        "team add": ("把一个用户加入商机团队（负责人申请，经理批准）", "例子：opps team add 7dka36sd eve --role expert"),
        "team remove": ("把一个用户移出商机团队（负责人申请，经理批准）", "例子：opps team remove 7dka36sd eve"),
        "approvals": (
            nil,
            """
            折扣超过工作区的阈值、金额超过阈值的商机离开某个阶段、需要确认的输单、团队变动，或你只能提议的\
            负责人变更：每一项都成为一个申请（到达服务器前为「已申请」，之后为「待审批」）。审批人用 \
            opps approve ID 或 opps reject ID --note 原因 决定，离线也可以；申请人在有结果前可以用 opps withdraw ID 撤回。

            例子：opps approvals --all
            """
        ),
        "approve": (nil, "两位审批人决定同一个申请时，先到达服务器的决定有效；另一位会在 opps conflicts 里看到。\n\n例子：opps approve kx3m0q2a --note \"四季度可以\""),
        "reject": (nil, "例子：opps reject kx3m0q2a --note \"请重新报价\""),
        "withdraw": (nil, "服务器收到后，申请的商机重新解锁；之后才决定它的审批人会在 opps conflicts 里看到。已有结果的申请不能撤回：请新建一个。\n\n例子：opps withdraw kx3m0q2a"),
        "log": (nil, "先写类型，再写发生了什么；也可以用 --kind 和 --note。类型写名称或标签。\n\n例子：opps log 7dka36sd 拜访 \"见了财务总监\" --place \"Beta 总部\""),
        "task": (nil, "例子：opps task add 7dka36sd \"发报价\" --due 2026-12-04"),
        "task add": ("给商机加一个任务（默认子命令）", "例子：opps task add 7dka36sd \"发报价\" --due 2026-12-04"),
        "task list": ("你未完成的任务（你要做的，和你交给别人的），按截止日期；或一个商机的全部任务", "例子：opps task list；opps task list 7dka36sd"),
        "task done": ("把任务标为完成", "例子：opps task done k3m9x2qa（或 opps task done 给张总发报价）"),
        "today": (
            nil,
            "久未跟进的期限是工作区的 stale_days（默认 14 天）。日期按本机所在时区。经理还会看到团队里下一步已逾期或久未跟进的商机、交接后 2 天仍未接受的线索（按负责人），以及交接后没有销售顾问能接手的线索（该区域的销售顾问都已满额；排在最前），审批人会看到有几项申请等他审批；销售顾问会看到交接给他、还没接受或退回的线索；市场会看到有几条线索等待交接（其中几条被退回）；客户成功经理会看到没人接手的赢单、逾期及 30 天内的续约，和健康度为「风险」的客户；产品专家会看到他所在团队、等他填写才能进入下一阶段的商机（例如方案阶段的解决方案和技术风险）。\n\n例子：opps today"
        ),
        "board": (
            nil,
            """
            范围是在此期间创建的商机（按设备时间）。「!」标出未结束商机上早于今天到期的下一步；每个商机前的短 id \
            可以直接用于 opps show、set、stage。看板上有不止一位负责人的商机时才显示负责人。一列超过 25 个商机时，先列下一步已逾期或最近到期的，\
            并说还有多少（--all 列出全部；--json 和 --csv 总是全部）。金额按币种分别合计，\
            不跨币种相加。宽度随终端；只在终端上用颜色（设置 NO_COLOR 则不用）。

            例子：opps board --owner sam
            """
        ),
        "funnel": (
            nil,
            """
            范围是在此期间创建的商机（按设备时间）。「当前」：今天处于该阶段的商机及其各币种金额。\
            「到达」：经过该阶段的商机——在它或它之前进入管道，并至少走到这一步（赢单的商机经过了进入之后的每个\
            未结束阶段；输单的商机记为它到过的最远阶段）。转化率：经过上一个未结束阶段的商机中，到达这一阶段的\
            比例（赢单：从最后一个未结束阶段算起）。赢单率：赢单 ÷（赢单 + 输单）。

            例子：opps funnel --from 2026-10-01 --to 2026-12-31
            """
        ),
        "report": (nil, "例子：opps report time-in-stage --owner wei --from 2026-10-01"),
        "report time-in-stage": (
            "每个阶段停留的平均天数和中位天数",
            "只计在此期间结束的停留（商机进入了下一阶段）；仍在某阶段的商机不计入该阶段。天数保留两位小数。\n\n例子：opps report time-in-stage --csv > stays.csv"
        ),
        "report follow-up": (
            "跟进速度：从移交到第一次活动的时间，以及每个负责人每个商机的跟进次数",
            "只计在此期间移交（第一次进入移交阶段）的商机；移交之后的活动算作跟进。小时数保留两位小数。\n\n例子：opps report follow-up --from 2026-11-01"
        ),
        "export": (
            nil,
            "类型写名称或标签。以 =、+、-、@ 开头的文字（不是数字）前面加一个撇号，电子表格把它当文字而不当公式运行；opps-hub import 会把撇号去掉。\n\n例子：opps export 客户 > accounts.csv（或 --type 客户）\n\n--sheet 写出给电子表格（Excel、WPS、Numbers）看的同一批记录：表头是标签，关联记录写名称，选项写它的显示文字，金额是不带千分位的数字，时间是本地时间，每行以 opps 能认回的短 id 开头，文件开头带字节顺序标记，Excel 打开中文不会乱码。opps-hub import 不读这种形式，它读不带 --sheet 的导出。\n\n例子：opps export --sheet > 商机.csv"
        ),
        "conflicts": (nil, "例子：opps conflicts，然后 opps conflicts restore 12 或 opps conflicts dismiss 12"),
        "conflicts list": ("列出未处理的冲突（默认子命令）", "例子：opps conflicts --json"),
        "conflicts dismiss": ("把冲突放到一边：你已看过，保留现在的值", "只改本机的列表；服务器保留这条冲突的记录。\n\n例子：opps conflicts dismiss 12"),
        "conflicts restore": (
            "在规则允许时，把冲突中你的值重新写入",
            "这个值作为一次新的修改写在现在的值之上，规则与 opps set 相同：直接生效、成为申请，或当场被拒绝（退出码 3），冲突保持未处理。\n\n例子：opps conflicts restore 12"
        ),
        "undo": (
            nil,
            """
            一项修改就是一条命令（或 opps web 里的一次提交）做的事：opps set 改的几个字段、一次阶段移动、\
            新商机连同新客户、一条跟进记录、一个审批决定。撤销时整项撤销，不留痕迹：服务器从没见过它。\
            再运行一次撤销再前一项。opps sync 发出之后，要改回就再修改一次（opps history 编号 显示原来的值）。

            例子：opps undo
            """
        ),
        "history": (nil, "本机做的修改，以及记录来到本机之后拉取到的修改；在那之前发生的，见它的时间线（opps show）。\n\n例子：opps history 7dka36sd"),
        "delete": (
            nil,
            """
            用于误建或重复的记录。持有这条记录的每个人在下一次同步时得知它已被谁删除；之后不能再改它，\
            仍在某台电脑上等待同步的修改会作为冲突回到它的作者。不再跟进的商机应以输单结束，而不是删除。

            例子：opps delete 7dka36sd
            """
        ),
        "duplicates": (
            "列出本机上看起来建了两次的进行中商机（常见于两台电脑离线各建了一次）",
            "同一个客户下名称看起来相同的两个进行中商机：不分大小写和全半角，忽略空格和标点（「云帆ＣＲＭ上线!」即「云帆 CRM 上线」）。"
                + "已结束的商机不算（续约可能沿用去年的名称）。每组先列进展最远的商机，也就是合并时保留的那个；经理用 opps merge 保留的 重复的 合并。"
                + "\n\n例子：opps duplicates"
        ),
        "merge": (
            "把重复的商机合并为一个（能删除记录的人：默认是经理）",
            """
            保留的商机不变；每个重复的商机先用它的值填补保留商机的空字段，本机上指向它的一切（跟进记录、任务、审批申请、团队成员）\
            改为指向保留的商机，然后它被删除。同步时服务器也改指本机没有的记录，所以什么都不会丢失；每一步都是带着你名字的\
            普通修改（opps history 可以看到）。阶段不会合并：保留进展最远的那个（opps duplicates 把它列在第一个）。\
            重复的商机有等待审批的申请时，先批准、驳回或撤回它，再合并。

            例子：opps merge 7dka36sd 3tqq0nqd
            """
        ),
        "account": (nil, "客户的字段用 opps set ID 字段=值 修改。\n\n例子：opps account show 上海云帆"),
        "account list": ("列出本机的客户，以及每个客户有多少商机（默认子命令）", "例子：opps account list 物流（或 opps account 物流）"),
        "account show": ("显示一个客户及其商机和联系人", "例子：opps account show 上海云帆"),
        "account new": ("新增客户（离线也可以，和其他修改一样同步）", "例子：opps account new 上海云帆 行业=物流 区域=east"),
        "account duplicates": (
            "列出本机上可能重复的客户（常见于两台电脑离线各建了一次）",
            "名称比较时不分大小写和全半角，忽略空格、标点和公司类型（「Omega Ltd.」即「Omega」，上海云帆物流有限公司即上海云帆物流）。"
                + "用 opps account merge 保留的 重复的 合并。\n\n例子：opps account duplicates"
        ),
        "account merge": ("把重复的客户合并为一个（能删除记录的人：默认是经理）", mergeDiscussion + "\n\n例子：opps account merge 7dka36sd 3tqq0nqd"),
        "contact": (nil, "联系人的字段用 opps set ID 字段=值 修改。\n\n例子：opps contact new 李伟 --account 上海云帆 职务=CIO"),
        "contact list": ("列出本机的联系人及其客户（默认子命令）", "例子：opps contact list 李（或 opps contact 李）"),
        "contact show": ("显示一个联系人，以及以其为联系人的商机", "例子：opps contact show 李伟"),
        "contact new": ("在某个客户下新增联系人（离线也可以）", "例子：opps contact new 李伟 --account 上海云帆 职务=CIO 电话=13800000000"),
        "contact duplicates": (
            "列出本机上可能重复的联系人（常见于两台电脑离线各建了一次）",
            "名称比较时不分大小写和全半角，忽略空格和标点；联系人还比较邮箱和电话。用 opps contact merge 保留的 重复的 合并。\n\n例子：opps contact duplicates"
        ),
        "contact merge": ("把重复的联系人合并为一个（能删除记录的人：默认是经理）", mergeDiscussion + "\n\n例子：opps contact merge 7dka36sd 3tqq0nqd"),
        "locale": (
            nil,
            """
            不给语言：显示正在使用的语言、原因，以及工作区有标签的语言。给出语言：设为本机的设置（优先于 LANG；\
            任何命令上的 --locale 又优先于它）。无论显示哪种语言，输入时名称总是可以用。

            例子：opps locale zh-CN
            """
        ),
        "rules": (
            nil,
            """
            权限：主导（字段冲突时胜出）、可修改（可以写，但输给主导者）、可提议（存为提议，由负责人或经理决定）、\
            只读、不可见。标有「负责人」的规则在你负责这条记录时适用（「团队」：你在它的团队里时）。读取本机的\
            工作区（服务器最近一次发来的），否则是内置的默认工作区。角色、阶段和实体可以写名称或标签。

            例子：opps rules（你自己的角色），opps rules --role 产品专家 --stage 方案
            """
        ),
        "web": (
            nil,
            """
            从本机副本提供一个只在 127.0.0.1 上的网页应用，并打印它的地址。地址里带有这次启动生成的密钥：\
            只有打开过这个地址的浏览器能进入（请勿外传；每次启动生成新的）。每次修改都经过与命令行相同的规则和\
            待同步队列；服务器可达时每隔几分钟同步一次，「同步」按钮立即同步。用 Ctrl-C 停止。

            例子：opps web --open
            """
        ),
    ]

    /// Merging's explanation, the same for accounts and contacts.
    static let mergeDiscussion = """
        保留的记录不变；每条重复的记录先用它的值填补保留记录的空字段，本机上指向它的一切（商机、联系人）\
        改为指向保留的记录，然后它被删除。同步时服务器也改指本机没有的记录，所以不会丢失任何商机、联系人或\
        活动；每一步都是带着你名字的普通修改（opps history 可以看到）。
        """

    /// An argument's sentence: by "command argument" first, then by the argument alone (the
    /// options many commands share).
    static let arguments: [String: String] = [
        // Shared.
        "home": "副本目录（默认 $OPPS_HOME，否则 ~/.opps）",
        "locale": "标签显示的语言（zh-CN、en…）；默认按 opps locale 的设置，否则按 LANG",
        "json": "以 JSON 输出",
        "csv": "以 CSV（RFC 4180）输出：先是表头，每行报表一行",
        "version": "显示版本",
        "help": "显示此帮助",
        "owner": "只看此用户负责的商机",
        "team": "只看此用户是有效团队成员的商机",
        "from": "期间开始，YYYY-MM-DD（按本机时区，含当天）",
        "to": "期间结束，YYYY-MM-DD（按本机时区，含当天）",
        "id": "记录：opps list 打印的短 id（至少 4 个字符）、完整 id 或准确名称",
        "search": "只看名称包含此文字的（不分大小写）",
        "name": "名称",
        "allow-duplicate": "即使本机已有看起来相同的记录也新建",
        // By command.
        "init hub": "服务器地址，例如 http://127.0.0.1:8080",
        "init token": "你的令牌（管理员用 opps-hub user add 生成）",
        "init ca": "一个 PEM 证书文件：https:// 服务器使用私有 CA 或自签名证书时信任它",
        "init json": "以一个 JSON 对象输出结果",
        "connect hub": "服务器的新地址",
        "connect token": "你的新令牌（向管理员要）",
        "connect ca": "一个 PEM 证书文件，信任它来连接服务器（留空：只信任系统的证书）",
        "connect json": "以一个 JSON 对象输出结果",
        "sync json":
            "以一个 JSON 对象输出：推送、应用、冲突、拉取、别人的修改、后来未被采用的自己的修改（overruled）、与你同时修改而未被采用的别人的修改（held_over）、修复、离线超过服务器保留期而完整重新同步（cursor_expired）、本文件夹是旧拷贝并已作为新副本同步（new_replica）",
        "status json": "以一个 JSON 对象输出",
        "new name": "商机名称（不加引号的几个词用空格连起来），后面可以跟 字段=值",
        "new account": "客户：短 id 或准确名称，或新客户的名称",
        "new amount": "金额，精确小数，例如 12000.00（或 12,000.00、12万）；带上币种（35万元、5万美元、5,000 USD）时同时设好币种",
        "new currency": "币种代码（CNY、USD、EUR、JPY、HKD、GBP）",
        "new close": "预计成交日期，YYYY-MM-DD（或 3-31、明天）",
        "new json": "以 JSON 输出新记录（同 show --json）",
        "today all": "列出每一项（每个列表默认只列前 25 项，并说还有多少）",
        "new allow-duplicate": "即使这个客户在本机已有名称看起来相同的进行中商机也新建",
        "lead add name": "线索名称（不加引号的几个词用空格连起来）",
        "lead add company": "公司（已有客户的 id 或名称，或新公司）",
        "lead add contact": "联系人姓名",
        "lead add source": "线索来源：web、event、referral、campaign、cold_call、partner、other",
        "lead add territory": "区域：服务器把线索轮流分给这个区域的销售顾问（不填则用客户的区域；都没有时分给所有区域的销售顾问）",
        "lead add json": "以 JSON 输出新记录（同 show --json）",
        "lead add allow-duplicate": "即使这家公司在本机已有名称看起来相同的进行中线索或商机也新增",
        "lead list json": "输出一个 JSON 数组：id、阶段、名称、来源、交接还缺的字段（missing）、负责人",
        "list stage": "只看此阶段",
        "list mine": "只看你负责的",
        "list owner": "只看此用户负责的",
        "list text": "要搜索的文字，同 --search",
        "list search": "只看名称或客户名称包含此文字的（不分大小写）",
        "list account": "只看此客户的：短 id 或准确名称",
        "list closing-from": "只看在此日期或之后成交的，YYYY-MM-DD",
        "list closing-to": "只看在此日期或之前成交的，YYYY-MM-DD",
        "list amount-min": "只看金额至少为此的（任何币种），例如 100000.00 或 10万",
        "list amount-max": "只看金额至多为此的（任何币种）",
        "list stale": "只看在工作区的 stale_days 内没有跟进（活动）的未结束商机",
        "list sort": "排序：最新（newest，默认）、成交（close，最早成交在前）、金额（amount，同一币种内最大在前）、名称（name）",
        "list json": "以 JSON 数组输出记录",
        "set field=value": "字段=值，可以写多个；没加引号的词接在前一个值后面",
        "set json": "以 JSON 输出结果",
        "show id": "记录：opps list 打印的短 id（至少 4 个字符）、完整 id、名称，或只有一个名称含有的一部分",
        "show json": "以 JSON 输出 {id, type, fields}（小数写成字符串）",
        "account show json": "同 show --json，另加它的商机（deals）和联系人（contacts）",
        "contact show json": "同 show --json，另加他的商机（deals）",
        "stage id": "商机：opps list 打印的短 id 或准确名称",
        "stage stage": "目标阶段（名称或标签），或 下一阶段（商机当前阶段的下一个）",
        "stage reason": "原因：把线索退回时的退回原因，或进入输单时的输单原因",
        "team list id": "商机：opps list 打印的短 id 或准确名称",
        "team add id": "商机：opps list 打印的短 id 或准确名称",
        "team add user": "要加入的用户",
        "team add role": "他在商机上的角色：产品专家（expert）或客户成功经理（success）；默认：他在本机其他商机团队里的角色",
        "team remove id": "商机：opps list 打印的短 id 或准确名称",
        "team remove user": "要移出的用户",
        "approvals all": "也列出已有结果（批准、驳回或撤回）的申请",
        "approve id": "申请：opps approvals 打印的短 id",
        "approve note": "给申请人的备注",
        "reject id": "申请：opps approvals 打印的短 id",
        "reject note": "原因（必填）：申请人会看到",
        "log id": "商机：opps list 打印的短 id 或准确名称",
        "log what": "类型（电话、拜访、邮件、会议、签到或备注），然后是发生了什么",
        "log kind": "类型：call（电话）、visit（拜访）、email（邮件）、meeting（会议）、checkin（签到）或 note（备注）（代替第一个词）",
        "log note": "发生了什么（代替类型后面的词）",
        "log at": "时间（YYYY-MM-DD HH:MM，按本机时区；后加 UTC 则为 UTC；或完整的 YYYY-MM-DDTHH:MM:SSZ；或日子加时间：昨天 15:00、12-03 9:30；只写日子时为当天中午）；默认：现在",
        "log place": "地点（拜访和签到用）",
        "task add id": "商机：opps list 打印的短 id 或准确名称",
        "task add text": "要做什么（不加引号的几个词用空格连起来）",
        "task add due": "截止日期，YYYY-MM-DD（或 12-05、明天、周五、下周一、3天后、月底）",
        "task add assignee": "谁来做：服务器上的用户名（按上次同步拿到的名单核对）；默认：你",
        "task list deal": "商机：它的短 id 或准确名称，列出它的全部任务（包括已完成的）",
        "task list json": "打印一个 JSON 数组：id、deal、text、due、assignee、done",
        "task done id": "任务：opps task list、opps today 或 opps show 打印的短 id，或你的一个未完成任务的内容",
        "today date": "按这一天（YYYY-MM-DD）而不是今天来报告",
        "today json": "以一个 JSON 对象输出：到期、逾期、久未跟进、团队（team）、待审批数（awaiting_decision）",
        "board closed": "也显示已结束的阶段（赢单、输单）",
        "board date": "计算逾期标记所用的今天日期，YYYY-MM-DD（默认：本机时钟的今天）",
        "board all": "列出每列的全部商机（一列超过 25 个时，先列已逾期的和下一步最近的，并说还有多少）",
        "export kind": "记录类型，同 --type",
        "export csv": "以 CSV 输出（目前唯一的格式，也是默认）",
        "export sheet": "给电子表格看：标签、名称、本地时间、字节顺序标记（不能给 opps-hub import）",
        "export type": "记录类型：opportunity（商机，默认）、account（客户）、contact（联系人）、activity（跟进记录）、task（任务）、approval（审批）、membership（团队成员）",
        "conflicts list json": "以 JSON 数组输出（record、field、mine、winner、winner_author、rule、outcome、at）",
        "conflicts dismiss number": "冲突的编号（opps conflicts 中 # 后面的数字）",
        "conflicts restore number": "冲突的编号（opps conflicts 中 # 后面的数字）",
        "history id": "记录：opps list 打印的短 id（至少 4 个字符）、完整 id、名称，或只有一个名称含有的一部分",
        "history json": "以 JSON 数组输出，每次修改一个对象",
        "account list text": "要搜索的文字，同 --search",
        "account list search": "只看名称包含此文字的客户（不分大小写）",
        "account show id": "客户：短 id、名称，或只有一个客户的名称含有的一部分",
        "account new name": "客户名称（不加引号的几个词用空格连起来），然后是更多字段，写成 字段=值（行业、网站、区域，或 industry、website、territory）",
        "account new allow-duplicate": "即使本机已有名称看起来相同的客户（「Omega Ltd.」与「Omega」）也新建",
        "duplicates json": "以 JSON 数组输出分组，每组是一个商机数组",
        "merge keep": "要保留的商机：短 id 或准确名称",
        "merge duplicates": "要并入它的重复商机",
        "account duplicates json": "以 JSON 数组输出分组，每组是一个记录数组",
        "account merge keep": "要保留的客户：短 id 或准确名称",
        "account merge duplicates": "要并入它的重复客户",
        "contact list text": "要搜索的文字，同 --search",
        "contact list search": "只看名称包含此文字的联系人（不分大小写）",
        "contact show id": "联系人：短 id、姓名，或只有一个联系人的姓名含有的一部分",
        "contact new name": "联系人姓名（不加引号的几个词用空格连起来），然后是更多字段，写成 字段=值（邮箱、电话、职务，或 email、phone、title）",
        "contact new account": "客户：短 id 或准确名称（没有这个名称的客户时新建）",
        "contact new allow-duplicate": "即使本机已有看起来是同一个人的联系人（同一客户下同名、同邮箱或同电话）也新建",
        "contact duplicates json": "以 JSON 数组输出分组，每组是一个记录数组",
        "contact merge keep": "要保留的联系人：短 id 或准确名称",
        "contact merge duplicates": "要并入它的重复联系人",
        "locale tag": "工作区有标签的语言，例如 zh-CN 或 en",
        "locale clear": "忘掉本机的设置：重新由 LANG 决定",
        "rules role": "角色（marketing、sales、expert、success、manager，或其标签）；默认：你自己的角色（本机副本记录的）",
        "rules stage": "管道阶段（lead、qualified、discovery、solution、proposal、negotiation、won、lost，或其标签）",
        "rules relations": "你与记录的关系：owner（负责人）、team（团队）、creator（创建者）、managed（下属的）、member（本人的成员记录）、assignee（指派给你的记录），逗号分隔；默认全部",
        "rules entity": "实体（名称或标签）",
        "rules json": "以一个 JSON 对象输出每个字段的权限",
        "web port": "127.0.0.1 上的端口（默认：任一空闲端口）",
        "web open": "在默认浏览器中打开地址",
        "web sync-minutes": "服务器可达时后台同步的间隔分钟数（0：只用「同步」按钮）",
    ]

    // MARK: The page

    /// The pages, laid out by the shared renderer from the parser's own description of `opps`.
    /// What each argument's value is, as the pages name it (`opps set <编号> <字段=值> ...`); a
    /// test holds that every value shown has its name.
    static let values: [String: String] = [
        "home": "目录", "locale": "语言", "id": "编号", "hub": "地址", "token": "令牌", "ca": "文件", "name": "名称", "account": "客户",
        "amount": "金额", "currency": "币种", "company": "公司", "contact": "联系人", "source": "来源", "stage": "阶段",
        "owner": "用户", "team": "用户", "search": "文字", "list text": "文字", "date": "日期", "time": "时间", "sort": "顺序", "field=value": "字段=值",
        "reason": "原因", "user": "用户", "role": "角色", "note": "说明", "what": "类型和内容", "kind": "类型", "place": "地点",
        "text": "内容", "assignee": "用户", "deal": "商机", "type": "类型", "number": "序号", "keep": "保留的", "duplicates": "重复的",
        "tag": "语言", "relations": "关系", "entity": "类型", "port": "端口", "minutes": "分钟", "territory": "区域",
    ]

    static let help = ChinesePages<Opps>(
        tool: "opps", pages: pages, arguments: arguments, values: values, lines: ChineseHelp.commands,
        // In English: the parser's own page (a group's --help shows its default subcommand's
        // when --locale follows, so a group points at its subcommands').
        english: { key, group in group ? "opps \(key) <子命令> --help --locale en" : "opps \(key) --help --locale en" })

    typealias Command = ChinesePages<Opps>.Command
    static var root: Command? { help.root }

    /// The command `arguments` ask help for: `opps set … --help`, `opps help team add`, with
    /// `--home` and `--locale` anywhere, even before the command. Nil when they ask for no
    /// command's help (the overview's, or none).
    static func path(asked arguments: [String]) -> [String]? { help.path(asked: ChineseHelp.split(arguments).rest) }

    /// The Chinese page of the command at `path`; nil when there is no such command.
    static func page(_ path: [String]) -> String? { help.page(path) }

    static func abstract(_ key: String) -> String? { help.abstract(key) }

    static func sentence(_ command: String, _ argument: String) -> String? { help.sentence(command, argument) }
}
