import OppsCore

extension ReplicaError {
    /// This error in Chinese for a reader whose labels are `words`' (fields, stages and members by
    /// their labels), where it has a Chinese form: the errors a rep meets in a day — a stage gate,
    /// a value or field typed wrong, a record typed wrong, the hub out of reach, a token refused,
    /// a user disabled. Nil: its English description. The command line and the web app both say
    /// it (`Phrases.error`, `WebApp`).
    public func chinese(_ words: Vocabulary) -> String? {
        switch self {
        case let .refused(entity, field, rule, _, missing):
            // A stage gate names what is missing: each in the reader's words; other refusals say
            // the rule's sentence (the rules' own detail is English). A refused creation names the
            // entity as its field.
            let f = field == entity ? words.entity(entity) : words.field(entity, field)
            if !missing.isEmpty {
                return "被拒绝：\(f) — 还缺少 \(missing.map { words.field(entity, $0) }.joined(separator: "、"))（规则 \(rule.rawValue)）"
            }
            return "被拒绝：\(f) — \(words.chineseReason(rule, entity: entity, field: field))（规则 \(rule.rawValue)）"
        case let .invalid(_, chinese?): return chinese
        case let .notAssigned(entity, field):
            return "被拒绝：\(words.field(entity, field)) — 这个\(words.entity(entity))没有指派给你，你只能查看，不能修改（规则 read-only）"
        case let .hubRefused(_, e) where e.code == .unavailable:
            return "服务器现在无法保存修改（\(e.code.rawValue)）；本机的修改都保留着，稍后再运行 opps sync；一直如此请联系管理员"
        case let .hubRefused(_, e) where e.code == .internal:
            return "服务器内部出错（\(e.code.rawValue)）；本机的修改都保留着，稍后再运行 opps sync；一直如此请联系管理员"
        case let .unreachable(why): return "无法连接服务器（\(Self.chineseReason(why))）；本机的修改都保留着，联网后会同步"
        case let .notInitialised(home): return "\(home) 里还没有副本：先运行 opps init --hub 服务器地址 --token 令牌（令牌向管理员要）"
        case let .unreachableAtInit(why): return "无法连接服务器（\(Self.chineseReason(why))）；没有建立副本：请检查 --hub 地址和服务器是否在运行，然后重试"
        case let .certificate(why): return "不信任服务器的证书（\(why)）：请向管理员要服务器的 CA 证书，再运行 opps connect --ca 文件"
        case let .authentication(why):
            return "服务器不接受此令牌（\(Self.chineseTokenReason(why))）：请向管理员要一个新令牌，再运行 opps connect --token 新令牌（待同步的修改会保留）"
        case let .authenticationAtInit(why):
            return "服务器不接受此令牌（\(Self.chineseTokenReason(why))）；没有建立副本：请检查令牌是否完整抄对，或向管理员要一个新令牌，然后重新运行 opps init"
        case let .wrongAddress(.notAHub(status), atInit):
            return "这个地址上没有 OppSync 服务器（它回答了 HTTP \(status)）"
                + (atInit
                    ? "；没有建立副本：--hub 请按管理员给的地址填写，写到端口为止（例如 http://127.0.0.1:8080）"
                    : "：用 opps status 查看地址，再用 opps connect --hub 地址 改正（本机的修改都保留着）")
        case let .wrongAddress(.speaksHTTP(url), atInit) where WrongAddress.isThisMachine(url):
            return "这个地址上的服务器用的是 http://，不是 https://"
                + (atInit ? "；没有建立副本：请用 --hub \(url) 重新运行 opps init" : "：请运行 opps connect --hub \(url)（本机的修改都保留着）")
        case let .wrongAddress(.speaksHTTP, atInit):
            return "这个地址上的服务器用的是 http://，不是 https://：请向管理员确认服务器地址（用 http:// 时令牌以明文传输）"
                + (atInit ? "；没有建立副本" : "；本机的修改都保留着")
        case let .certificateAtInit(why):
            return "不信任服务器的证书（\(why)）；没有建立副本：请向管理员要服务器的 CA 证书，然后加上 --ca 文件 重新运行 opps init"
        case .disabled: return "管理员已在服务器上停用你的用户：请联系管理员启用（opps-hub user enable）；本机的修改会保留"
        case let .unknownField(entity, typed, fields):
            let labels = fields.map { words.field(entity, $0) }.joined(separator: "、")
            return "\(words.entity(entity))没有字段「\(typed)」（字段：\(labels)）"
        case let .badValue(entity, field, kind, text):
            let label = words.field(entity, field)
            switch kind {
            case .wholeNumber:
                if BadValue.beyondRange(text) { return "\(label)：「\(text)」超出了整数的范围（-9223372036854775808 到 9223372036854775807）" }
                return "\(label)：「\(text)」不是整数" + (BadValue.withoutPercent(text).map { "：写 \($0)，不带 %" } ?? "")
            case .decimal:
                return "\(label)：「\(text)」不是数字" + (BadValue.withoutPercent(text).map { "：写 \($0)，不带 %" } ?? "（例如 120000.00 或 12万）")
            case .date: return "\(label)：「\(text)」不是日期（写 2026-12-05、12-05、明天 或 3天后）"
            case .time: return "\(label)：「\(text)」不是时间（YYYY-MM-DD HH:MM，或日子加时间：昨天 15:00）"
            case let .record(target): return "\(label)：「\(text)」不是本机上的\(words.entity(target))"
            case .boolean: return "\(label)：「\(text)」不是「是」或「否」"
            case .placeholder: return "\(label)：「\(text)」是例子里的占位：请写上实际内容"
            case let .member(members): return "\(label)：「\(text)」不是可选值之一：\(members.map { words.member(entity, field, $0) }.joined(separator: "、"))"
            case let .user(close, all):
                return "\(label)：「\(text)」不是服务器上的用户"
                    + (!close.isEmpty ? "（是不是：\(close.joined(separator: "、"))？）" : !all.isEmpty ? "（用户有：\(all.joined(separator: "、"))）" : "")
                    + "；刚加的用户要先运行 opps sync 才能用"
            }
        case let .lookup(kind, typed, candidates, count):
            let list =
                candidates.map { c in
                    let context = [c.stage.map { words.stage($0) }, c.account].compactMap { $0 }
                    return "\(c.code) " + words.entity(c.entity) + (c.name.map { "「\($0)」" } ?? "") + (context.isEmpty ? "" : "（\(context.joined(separator: "，"))）")
                }.joined(separator: "，")
                + (count > candidates.count ? "，…" : "")
            switch kind {
            case .unknown: return "本机没有 id 或名称为「\(typed)」的记录：id 是 opps list 列出的 8 个字符"
            case .partOfName: return "没有名为「\(typed)」的记录；有 \(count) 个名称包含它（\(list)）：请用 id"
            case .sameName: return "有 \(count) 条记录名为「\(typed)」（\(list)）：请用 id"
            case .sameCode: return "\(typed) 对应 \(count) 条记录（\(list)）：请多输入几个字符"
            case .sameIDPrefix: return "\(typed) 对应 \(count) 条记录（\(list)）：请用 id"
            case .likelyDuplicate where candidates.first?.entity == "opportunity":
                let c = candidates.first
                let context = [c?.stage.map { words.stage($0) }, c?.account].compactMap { $0 }.joined(separator: "，")
                return "「\(typed)」看起来就是本机已有的进行中商机 \(c?.code ?? "")「\(c?.name ?? "")」（\(context)）：要继续它，请用 \(c?.code ?? "它的 id")"
            case .likelyDuplicate:
                let c = candidates.first
                return "「\(typed)」看起来就是本机已有的\(words.entity(c?.entity ?? ""))「\(c?.name ?? "")」（\(c?.code ?? "")）：要用它，请写 \(c?.code ?? "它的 id")"
            }
        default: return nil
        }
    }

    /// The transport's reasons (`HTTPTransport.reason`) in Chinese; any other as it is.
    /// The hub's reason for refusing a token (errors.md `unauthenticated`), in Chinese.
    static func chineseTokenReason(_ why: String) -> String {
        switch why {
        case "unknown or revoked token": "令牌不存在或已被撤销"
        case "send Authorization: Bearer <token>": "请求没有带令牌"
        default: why
        }
    }

    static func chineseReason(_ why: String) -> String {
        switch why {
        case HTTPTransport.Reason.connectionFailed: return "连接失败"
        case HTTPTransport.Reason.timedOut: return "超时"
        case HTTPTransport.Reason.closed: return "连接被关闭"
        default:
            if why.hasPrefix(HTTPTransport.Reason.proxyAnswered) { return "服务器前的代理返回 " + why.dropFirst(HTTPTransport.Reason.proxyAnswered.count) }
            return why
        }
    }
}
