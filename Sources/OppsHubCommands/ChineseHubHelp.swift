import Foundation
import OppsCommandLine
import OppsCore

/// `opps-hub`'s help for a Chinese reader: the overview, every command's page (laid out by
/// `ChinesePages` from the parser's own description, so it lists exactly what the parser takes)
/// and the usage errors. The reader is Chinese when LC_ALL, LC_MESSAGES or LANG says so (the hub
/// has no replica to ask). A test holds that every command and argument shown has its sentence,
/// that none is left over, and that every line fits 80 columns.
enum ChineseHubHelp {
    /// Whether the operator reads Chinese: LC_ALL, else LC_MESSAGES, else LANG.
    static var readerIsChinese: Bool { Demo.readsChinese(locale: nil) }

    /// Every command's line, in the order `opps-hub --help` lists them.
    static let commands: [(name: String, line: String)] = [
        ("demo", "启动一个演示服务器，里面是一个销售团队上一季度的数据，一直运行到中断"),
        ("init", "在数据目录中新建服务器，使用默认工作区或你自己的"),
        ("serve", "以 HTTP 或 HTTPS 提供服务，直到中断（SIGINT/SIGTERM 会平稳关闭）"),
        ("status", "各副本（用户、最后在线、待发送的修改、未处理冲突）、日志长度、数据库大小、工作区版本，以及压缩能释放多少"),
        ("user", "管理服务器的用户"),
        ("token", "管理用户的令牌"),
        ("workspace", "检查和查看工作区文档（实体、字段、阶段、角色、归属规则）"),
        ("audit", "一条记录上每次被接受的写入和每个冲突：作者、设备时间、服务器时间、规则"),
        ("conflicts", "未处理的冲突记录（全部或某个用户的），以及恢复落败的值"),
        ("compact", "清理保留期内见过的每个副本都已确认的日志和删除标记"),
        ("backup", "用 SQLite 在线备份把服务器数据库复制到一个文件；服务器照常服务"),
        ("restore", "用备份替换服务器数据库（先停止服务器）"),
        ("migrate", "把服务器从数据目录（SQLite）迁到 PostgreSQL，可由多个服务器进程共同服务"),
        ("import", "从 CSV 文件导入一种记录（全部或全不，附校验报告）"),
        ("duplicates", "列出整个服务器上可能重复的客户或联系人"),
    ]

    static let pages: [String: ChinesePages<OppsHub>.Page] = [
        "demo": (
            nil,
            """
            第一次运行时，在 --data（默认 ./opps-demo）中建立服务器，并让两个区域的一个季度经过它：\
            北区用英文，华东区用中文。11 个用户，--deals 个商机分布在每个阶段，连同跟进记录、任务、\
            审批和两个冲突，全部由副本按服务器的规则、以设备时间写入（同一个种子得到同一个季度）。\
            之后再运行会沿用这个服务器并打印相同的令牌（保存在 DATA/demo-tokens，只有你能读），\
            用它们建立的副本可以继续同步。会打印每个用户的令牌和接下来可以试的命令。不删除任何东西。

            例子：opps-hub demo --data /tmp/opps-demo --port 8080 --deals 300
            """
        ),
        "init": (nil, "不会改动已经有服务器的目录。\n\n例子：opps-hub init --data /srv/opps --locale zh-CN"),
        "serve": (
            nil,
            """
            标准输出的第一行是 listening on http(s)://主机:端口。日志写到标准错误，每个请求一行，带请求 id。\
            设置来自 --config 文件（JSON：store（postgres:// 地址）、host、port、log_level、tls {certificate, key}、\
            limits {max_body_bytes, max_decompressed_bytes, max_batch_writes, max_page_changes, max_connections, \
            idle_timeout_seconds, max_clock_ahead_minutes, cache_mib（每个用户的缓存，默认 256）、\
            store_answer_seconds（PostgreSQL：等数据库应答多久，超过则该请求以 503 失败，默认 30）}、\
            metrics_token_file（此后 GET /metrics 需要这个令牌）、compression_level（应答的压缩级别 1–9，默认 1）、\
            verify_snapshots（诊断用：每次拉取都把服务器的缓存与数据库核对，每次都要完整计算一遍用户能看到的内容））；\
            命令行选项优先。

            例子：opps-hub serve --data /srv/opps --host 0.0.0.0 --port 8443 --tls-cert hub.pem --tls-key hub.key
            """
        ),
        "status": (nil, "例子：opps-hub status --data /srv/opps"),
        "user": (nil, "例子：opps-hub user add fang --role 销售顾问 --territory 华东 --manager lin --data /srv/opps"),
        "user add": (
            "新增用户并打印其令牌（只显示这一次；服务器只保存它的哈希）",
            """
            把令牌交给用户：他在自己的电脑上运行 opps init --hub 地址 --token 令牌。

            例子：opps-hub user add fang --role 销售顾问 --territory 华东 --manager lin --data /srv/opps
            """
        ),
        "user import": (
            "从 CSV 文件添加用户，全部或全不，并打印他们的令牌（只显示这一次）",
            """
            文件是 CSV（RFC 4180，UTF-8）：第一行是表头，之后每行一个用户。列：name 和 role（必需）、team、territory、\
            manager、capacity，写这些名称（不分大小写），或写 opps-hub user list 的中文表头（用户名、角色、团队、区域、经理、\
            容量）。角色写名称或标签；经理是服务器上的用户或文件里的一行。每一行先校验；有任何一行无效时，谁都不添加。\
            令牌以 CSV（name,token）写到标准输出：请重定向到只有你能读的文件，再把令牌分别交给各自的用户（opps init --hub \
            服务器地址 --token 令牌）。

            例子：opps-hub user import team.csv --data /srv/opps（加上 > tokens.csv 把令牌存到文件）
            """
        ),
        "user list": ("列出服务器的用户", "例子：opps-hub user list --data /srv/opps"),
        "user disable": (
            "停用用户：从下一个请求起，他的令牌被拒绝（403）",
            """
            同时说明他负责的未结商机会怎样：仍有其他人能看到（经理可以给它们换负责人），或者——他没有经理时——没有任何人能看到，\
            直到给他指定经理（opps-hub user set wei --manager lin）。只有他通过角色或团队能看到的商机（没有负责人、只有团队能看到的商机）\
            也会逐个列出：在重新启用他之前，没有人能看到它们。他还在等待审批的申请会立即驳回（不会以已停用用户的名义写入），\
            被它们锁定的商机随之解锁。

            例子：opps-hub user disable wei --data /srv/opps
            """
        ),
        "user enable": ("重新启用已停用的用户（他的令牌又能用了）", "例子：opps-hub user enable wei --data /srv/opps"),
        "user set": (
            "修改用户的角色、团队、区域、经理或容量",
            """
            修改会记入审计。各副本在下一次同步时收到进入和离开该用户可见范围的记录，待同步的修改保留。\
            值留空即清除团队、区域、经理或容量。新的角色或清除经理若让该用户负责的未结商机没有人能看到，\
            会说明有几个，以及怎么办（给他指定经理）；只有该用户通过角色或团队能看到的商机（没有负责人，或属于别人）会逐个列出，\
            并给出撤销这次修改的命令。该用户的待审批申请若在修改后已无法执行（销售顾问改为产品专家后不能再申请折扣），会立即驳回。\
            修改照样生效。

            例子：opps-hub user set wei --territory north --capacity 40 --data /srv/opps
            """
        ),
        "token": (nil, "例子：opps-hub token rotate wei --data /srv/opps"),
        "token rotate": (
            "给用户发一个新令牌；旧令牌立即失效。新令牌只打印这一次",
            "用户在自己的电脑上运行 opps connect --token 新令牌；本机的东西都不会丢。\n\n例子：opps-hub token rotate wei --data /srv/opps"
        ),
        "workspace": (nil, "格式见 Protocol/spec/workspace-format.md。\n\n例子：opps-hub workspace show --data /srv/opps > workspace.json"),
        "workspace check": (
            "校验工作区文件，报告每个问题及其行号和列号",
            "文件有效时退出码为 0，无效时为 1（问题写到标准错误，加 --json 则以 JSON 输出）。\n\n例子：opps-hub workspace check workspace.json"
        ),
        "workspace show": (
            "打印服务器当前的工作区文档（--data），或内置的默认工作区，作为你自己工作区的起点",
            "例子：opps-hub workspace show --data /srv/opps > workspace.json"
        ),
        "workspace apply": (
            "把一个工作区文件设为服务器的新版本（例如加一个自定义字段）；副本在下一次同步时采用",
            """
            文件必须通过校验、版本更高，并保留每个实体和字段及其编号和类型（选项可以增加）；它的角色条件不能让现在有人能看到的商机\
            变得没有人能看到（拒绝时会说明是哪些）。不满足时什么都不改。

            例子：opps-hub workspace apply workspace.json --data /srv/opps（先提高版本号并加好字段）
            """
        ),
        "audit": (nil, "例子：opps-hub audit 7dka36sd --data /srv/opps（销售从 opps 里报给你的短 id）"),
        "conflicts": (nil, "例子：opps-hub conflicts --user sam --data /srv/opps"),
        "conflicts list": ("列出未处理的冲突", "例子：opps-hub conflicts list --user sam --data /srv/opps"),
        "conflicts restore": (
            "以经理覆盖的方式重新写入冲突中落败的值（记入审计；被替换的值作为冲突保留）",
            "例子：opps-hub conflicts restore 12 --as max --data /srv/opps"
        ),
        "compact": (
            nil,
            "保留期内没见过的副本，下一次同步时完整重新同步，本机待同步的修改保留。\n\n例子：opps-hub compact --retention-days 30 --data /srv/opps"
        ),
        "backup": (nil, "例子：opps-hub backup --to /backups/opps-2026-12-03.sqlite --data /srv/opps"),
        "restore": (
            nil,
            """
            见过备份里没有的修改的副本，会在下一次同步时发现并对齐，保留待同步的修改，只重新下载变了的部分。

            例子：opps-hub restore --from /backups/opps-2026-12-03.sqlite --data /srv/opps
            """
        ),
        "migrate": (
            nil,
            """
            先停止服务器：迁移期间会占用数据目录的锁。每一行都带着原来的编号迁移（序号、冲突 id、页令牌、批次记录），\
            在一个事务里完成，副本察觉不到：它们的游标、令牌和未同步的工作都仍然有效。目标数据库里不能已有服务器。\
            SQLite 文件保持原样。

            例子：OPPS_HUB_STORE=postgres://opps:密码@db.internal:5432/opps opps-hub migrate --from /srv/opps，\
            然后在每台机器上设置 OPPS_HUB_STORE 并运行 opps-hub serve
            """
        ),
        "import": (
            nil,
            """
            文件是 CSV（RFC 4180，UTF-8）：第一行是表头，列名为 id（可省略）和该类型的字段，写字段名（与 opps export --csv \
            写的一样）或中文名（行业）；之后每条记录一行。值用规范写法：小数 12000.00，日期 YYYY-MM-DD，时间 \
            2026-11-02T09:00:00Z，选项和阶段写名称或中文名（高、谈判），用户写用户名，true/false；引用写记录 id（已有记录的，\
            或同一文件中的行的），或 opps 打印的短 id，或已有记录的完整名称（只有一条记录叫这个名字时，如名为「华为」的客户）；\
            空单元格表示不填该字段。有阶段的类型需要阶段列；没有任何用户能看到的商机（没有负责人、由服务器创建）是无效的行：\
            请填写负责人，或用 --as 以其经理的身份导入。

            每一行先校验；报告写明行号（表头是第 1 行）、列和原因；加 --check 时到此为止，什么都不导入。有任何一行无效时什么都不导入，除非加 --skip-invalid：\
            导入有效的行并报告其余的。导入的记录由服务器写入（或以 --as 指定的用户为创建者），在下一次同步时到达每个能看到它的副本。\
            服务器运行时也可以导入。

            例子：opps-hub import 客户.csv --type 客户 --as max --data /srv/opps
            """
        ),
        "duplicates": (
            nil,
            """
            名称的比较方式与 opps account duplicates 相同（不分大小写和全半角，忽略标点和公司形式）；联系人还比较邮箱和电话。

            例子：opps-hub duplicates --type contact --data /srv/opps
            """
        ),
    ]

    /// Each argument's sentence: by command and argument, or by argument alone where it means
    /// the same everywhere.
    static let arguments: [String: String] = [
        "help": "显示此帮助",
        "version": "显示版本",
        "data": "服务器的数据目录（里面有 hub.sqlite）",
        "store": "代替 --data：服务器的 PostgreSQL 数据库，postgres://用户:密码@主机:端口/库名",
        "json": "以一个 JSON 对象输出",
        "name": "用户名",
        "demo data": "演示服务器的数据目录",
        "demo host": "监听的地址",
        "demo port": "监听的端口；0 表示任选一个空闲端口",
        "demo deals": "这个季度的商机数（仅新建时）：默认 300；写 100000 可以感受速度",
        "demo seed": "生成这个季度所用的种子（仅新建时）",
        "demo locale": "没有自己语言设置的用户看到的工作区语言（仅新建时）：zh-CN 或 en",
        "init workspace": "起始的工作区文件（默认工作区见 opps-hub workspace show）",
        "init locale": "用户自己的语言没有标签时，默认工作区显示的语言：zh-CN 或 en",
        "serve config": "JSON 配置文件",
        "serve host": "监听的地址（默认 127.0.0.1）",
        "serve port": "监听的端口（默认 8080）；0 表示任选一个空闲端口",
        "serve log-level": "trace、debug、info、notice、warning、error 或 critical（默认 info）",
        "serve tls-cert": "TLS 证书链（PEM）；与 --tls-key 一起时服务器以 HTTPS 提供服务",
        "serve tls-key": "TLS 私钥（PEM）",
        "status retention-days": "压缩的保留期，天数（保留期内见过的副本继续增量同步）",
        "status all": "列出每个副本，包括保留期内没见过的（默认只给出它们的个数）",
        "status user": "只列这个用户的副本，无论多久前在线（“sam 的电脑在同步吗？”）；其余是整个服务器的情况",
        "user add name": "用户名（唯一，不含空格）",
        "user add role": "角色：工作区的角色之一，名称或标签（默认工作区：marketing 市场推广、sales 销售顾问、expert 产品专家、success 客户成功经理、manager 销售管理者）",
        "user add team": "用户的团队",
        "user add territory": "用户的区域（某区域的线索分给该区域的销售）",
        "user add manager": "用户的经理（已有的用户名）",
        "user add capacity": "分配规则最多给这个销售多少个未结束的商机",
        "user add json": "以一个 JSON 对象输出名称、角色和令牌",
        "user import file": "CSV 文件",
        "user import json": "以 JSON 数组输出 {name, role, token}",
        "user list json": "以 JSON 数组输出",
        "user set role": "新的角色（名称或标签）",
        "user set team": "新的团队（留空即清除）",
        "user set territory": "新的区域（留空即清除）",
        "user set manager": "新的经理（留空即清除）",
        "user set capacity": "新的容量（留空即清除）",
        "user set json": "以 JSON 输出该用户",
        "token rotate json": "以 JSON 输出 {name, token}",
        "workspace check file": "工作区文件（JSON）",
        "workspace apply file": "工作区文件（JSON）",
        "workspace show data": "服务器的数据目录；不给它（也不给 --store）时显示内置的默认工作区",
        "workspace show store": "代替 --data：服务器的 PostgreSQL 数据库（postgres://…）",
        "audit id": "记录：它的 id（UUID），或 opps 打印的短 id（8 个字符；须是未删除的记录）",
        "audit json": "以 JSON 数组输出事件",
        "conflicts list user": "只看这个用户的写入引起的冲突，或他负责的记录上的冲突",
        "conflicts list json": "以 JSON 数组输出",
        "conflicts restore id": "冲突的 id",
        "conflicts restore as": "做出决定的经理（有覆盖权的用户）",
        "compact retention-days": "保留期，天数",
        "backup to": "要写入的备份文件（不能已存在）",
        "restore from": "备份文件",
        "migrate from": "服务器的数据目录（里面有 hub.sqlite）",
        "migrate to": "PostgreSQL 数据库，postgres://用户:密码@主机:端口/库名（默认：OPPS_HUB_STORE）",
        "migrate json": "以一个 JSON 对象输出每张表迁移的行数",
        "import file": "CSV 文件",
        "import type": "记录类型，写名称或中文名：opportunity、客户（account）、contact……",
        "import as": "记录归于哪个用户（作为创建者）；默认：服务器自己",
        "import skip-invalid": "即使有无效的行，也导入有效的行（无效的会列出）",
        "import check": "只检查每一行并报告，什么都不导入（有无效的行时退出码为 1）",
        "import json": "以一个 JSON 对象输出：imported、valid_rows、invalid_rows、problems [{row, column, message}]",
        "duplicates type": "account（客户）或 contact（联系人）",
        "duplicates json": "以 JSON 数组输出分组，每组是 {id, name, creator} 的数组",
    ]

    /// What each argument's value is, as the pages name it (`opps-hub user add <用户名> --role
    /// <角色>`); a test holds that every value shown has its name.
    static let values: [String: String] = [
        "data": "目录", "store": "数据库", "name": "用户名", "file": "文件", "host": "地址", "port": "端口", "locale": "语言", "days": "天数",
        "role": "角色", "team": "团队", "territory": "区域", "manager": "经理", "capacity": "数量", "id": "编号", "as": "用户", "type": "类型",
        "deals": "数量", "seed": "种子", "workspace": "文件", "config": "文件", "log-level": "级别", "tls-cert": "文件", "tls-key": "文件",
        "user": "用户", "backup to": "文件", "restore from": "文件", "migrate from": "目录", "migrate to": "数据库",
    ]

    static let help = ChinesePages<OppsHub>(
        tool: "opps-hub", pages: pages, arguments: arguments, values: values, lines: commands,
        english: { key, _ in "LANG=C opps-hub \(key) --help" })

    /// `opps-hub`, `opps-hub --help`, `opps-hub help`.
    static var overview: String {
        let width = commands.map(\.name.count).max() ?? 10
        let lines = commands.flatMap { c -> [String] in
            let head = "  " + c.name.padding(toLength: width + 2, withPad: " ", startingAt: 0)
            let wrapped = c.line.wrapped(width: 80 - head.count)
            return [head + (wrapped.first ?? "")] + wrapped.dropFirst().map { String(repeating: " ", count: head.count) + $0 }
        }
        return """
            概述：运行和管理 OppSync 服务器。

            服务器是每个副本同步的权威：它给写入排序，按工作区的归属规则决定冲突，
            并把每个落败的写入保存为冲突记录。

            退出码：0 成功；1 失败（标准错误上一行说明出了什么问题、该怎么做）；
            64 用法错误。

            第一次使用：opps-hub init --data /srv/opps --locale zh-CN，
            opps-hub user add fang --role sales --data /srv/opps（打印她的令牌），
            opps-hub serve --data /srv/opps --port 8080。
            想先看看：opps-hub demo。

            用法：opps-hub <命令>

            命令：
            \(lines.joined(separator: "\n"))

            每个命令的详细帮助：opps-hub help <命令>，或 opps-hub <命令> --help。
            英文帮助：LANG=C opps-hub --help
            """
    }
}
