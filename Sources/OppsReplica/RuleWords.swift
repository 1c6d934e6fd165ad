import OppsCore

/// Why a rule decided as it did, and what became of a write, in the reader's words: the rules write
/// their detail in English (the hub stores it with a conflict, and it names fields and stages by
/// name), so a reader is told by the rule itself, with the field and the entity in their labels —
/// not by the rule's name (`later-clock`). One sentence per rule and language, so a new rule does
/// not compile until it has both. The command line
/// (`Phrases`) and the web app say the same words.
extension Vocabulary {
    /// What became of a write (`Outcome`'s names), in Chinese; an unknown name as it is.
    public static func chineseOutcome(_ outcome: String) -> String {
        switch outcome {
        case Outcome.lost.rawValue: "未被采用"
        case Outcome.rejected.rawValue: "被拒绝"
        case Outcome.won.rawValue: "已采用"
        case Outcome.applied.rawValue: "已生效"
        case Outcome.proposal.rawValue: "待决定的提议"
        case Outcome.duplicate.rawValue: "重复提交"
        default: outcome
        }
    }

    /// An access level (the matrix's `own`, `write`, …) in Chinese: what it lets one do.
    public static func chineseAccess(_ access: Access) -> String {
        switch access {
        case .hidden: "不可见"
        case .read: "只读"
        case .propose: "可提议"
        case .write: "可修改"
        case .own: "主导"
        case .override: "可覆盖"
        }
    }

    /// What became of a write for a reader: its name in English, its words in Chinese.
    public static func outcome(_ outcome: String, chinese: Bool) -> String { chinese ? chineseOutcome(outcome) : outcome }

    /// Why a rule decided, for a reader: its sentence in the reader's language (a rule name this
    /// replica does not know, a newer hub's: the name itself). The command line and the web app
    /// both say it so; `--json` keeps the rule's name.
    public func reason(rule name: String, entity: String, field: String, chinese: Bool) -> String {
        guard let rule = RuleID(rawValue: name) else { return name }
        return chinese ? chineseReason(rule, entity: entity, field: field) : englishReason(rule, entity: entity, field: field)
    }

    /// The rules' detail of a proposal or a refusal, for a reader: theirs in English, the rule's
    /// sentence in Chinese.
    public func detail(_ rule: RuleID, _ detail: String, entity: String, field: String, chinese: Bool) -> String {
        if chinese { return chineseReason(rule, entity: entity, field: field) }
        // The threshold as the field shows it (`discount above 10%`), not as the rule stores it (`10.00`).
        return rule == .approvalRequired ? englishReason(rule, entity: entity, field: field) : detail
    }

    /// Why `rule` decided a write to `field` of an `entity` record, in Chinese (a creation or a
    /// deletion names the entity as its field).
    public func chineseReason(_ rule: RuleID, entity: String, field: String) -> String {
        let e = "「" + self.entity(entity) + "」"
        let f = field.isEmpty || field == entity ? e : "「" + self.field(entity, field) + "」"
        switch rule {
        case .baseCurrent, .noCompetingValue, .create, .delete: return "已生效"
        case .restored: return "经理恢复了被替换的值"
        case .authority: return "同时修改：对此字段权限更高的一方胜出"
        case .laterClock: return "同时修改：较晚的修改胜出"
        case .olderCopy: return "从本机副本的旧拷贝重新发送，而这一项此后已被改过：请看当前的值，需要时再改一次"
        case .replicaTieBreak: return "同一时刻的修改：按设备顺序决定"
        case .duplicate: return "重复提交，已忽略"
        case .unknownEntity: return "服务器不认识这类记录：请先同步，更新工作区"
        case .unknownField: return "服务器不认识\(f)：请先同步，更新工作区"
        case .unknownRole: return "你的角色不在工作区中：请联系管理员"
        case .unknownUser: return "\(f)填写的不是服务器上的用户"
        case .forgedAuthor: return "修改的作者必须是登录的用户"
        case .typeMismatch: return "\(f)的值不符合它的类型"
        case .notVisible: return "你无权查看\(f)或这条记录"
        case .readOnly: return "你的角色在当前阶段只能查看\(f)"
        case .appendOnly: return "\(e)记录写下后不能修改"
        case .writeOnce: return "\(f)只能设置一次：请新建一条\(e)"
        case .clockAhead: return "本机时钟比服务器快太多：请校正时间后再同步"
        case .futureTime: return "\(f)不能是将来的时间：\(e)记录的是已经发生的事"
        case .recordMissing: return "记录不存在"
        case .recordExists: return "记录已存在"
        case .recordDeleted: return "记录已被删除"
        case .createNotPermitted: return "你的角色不能新建\(e)，或不能在这个阶段新建"
        case .deleteNotPermitted: return "你的角色不能删除\(e)"
        case .stageGate: return "阶段要求的字段还没有填写"
        case .handoffChecklist: return "交接清单还没有完成"
        case .stickyClosed: return "已结束的商机只有经理可以重新打开"
        case .backwardMove: return "后退超过一个阶段需要经理操作"
        case .reasonRequired: return "需要先填写原因"
        case .approvalPending: return "审批进行中，\(f)已锁定"
        case .alreadyDecided: return "这个申请已有结果：已由审批人决定或已被申请人撤回"
        case .approvalRejected: return "审批人拒绝了这个申请"
        case .requestInvalid: return "这个申请已无法按原样执行：记录或权限已经变化"
        case .orphaned:
            let owner = workspace.entity(entity)?.field("owner") != nil ? "「" + self.field(entity, "owner") + "」" : "负责人"
            return "这样修改后没有用户能看到这条\(e)：请给它指定一个能看到它的\(owner)"
        case .proposeOnly: return "你的角色只能提议修改\(f)"
        case .approvalRequired: return approvalThreshold(entity: entity, field: field).map { "\(f)超过 \($0) 需要审批" } ?? "\(f)需要审批"
        case .needsConfirmation: return "进入这个阶段需要经理确认"
        }
    }

    /// Why `rule` decided a write to `field` of an `entity` record, in English: the sentence a
    /// sales rep reads in place of the rule's name (`later-clock`), as `chineseReason` says it.
    public func englishReason(_ rule: RuleID, entity: String, field: String) -> String {
        let e = self.entity(entity)
        let f = field.isEmpty || field == entity ? e : self.field(entity, field)
        switch rule {
        case .baseCurrent, .noCompetingValue, .create, .delete: return "applied"
        case .restored: return "a manager restored the value that had been replaced"
        case .authority: return "changed at the same time: whoever has more say over \(f) won"
        case .laterClock: return "changed at the same time: the later change won"
        case .olderCopy: return "sent again from an older copy of this replica, and it had changed since: check what holds, and edit it again if need be"
        case .replicaTieBreak: return "changed at the same instant: decided by device order"
        case .duplicate: return "sent twice: the repeat was ignored"
        case .unknownEntity: return "the hub does not know this kind of record: sync to update the workspace"
        case .unknownField: return "the hub does not know \(f): sync to update the workspace"
        case .unknownRole: return "your role is not in the workspace: ask your administrator"
        case .unknownUser: return "\(f) names no user of the hub"
        case .forgedAuthor: return "a change's author must be the signed-in user"
        case .typeMismatch: return "\(f) does not hold a value of its type"
        case .notVisible: return "you may not see \(f) or this record"
        case .readOnly: return "at this stage your role may only read \(f)"
        case .appendOnly: return "\(e) records cannot be changed once written"
        case .writeOnce: return "\(f) can be set only once: make a new \(e) record"
        case .clockAhead: return "this computer's clock is too far ahead of the hub's: correct it, then sync"
        case .futureTime: return "\(f) may not be in the future: \(e) records say what happened"
        case .recordMissing: return "the record does not exist"
        case .recordExists: return "the record already exists"
        case .recordDeleted: return "the record was deleted"
        case .createNotPermitted: return "your role may not create \(e) records, or not at this stage"
        case .deleteNotPermitted: return "your role may not delete \(e) records"
        case .stageGate: return "fields the stage requires are not filled in yet"
        case .handoffChecklist: return "the hand-off checklist is not complete"
        case .stickyClosed: return "only a manager can reopen a closed deal"
        case .backwardMove: return "moving back more than one stage takes a manager"
        case .reasonRequired: return "a reason must be given first"
        case .approvalPending: return "an approval is pending: \(f) is locked"
        case .alreadyDecided: return "this request was already decided by an approver or withdrawn by who asked"
        case .approvalRejected: return "the approver rejected this request"
        case .requestInvalid: return "the request can no longer be carried out as asked: the record or the permissions changed"
        case .orphaned:
            let owner = workspace.entity(entity)?.field("owner") != nil ? self.field(entity, "owner") : "owner"
            return "no user would see this \(e) after the change: set its \(owner) to someone who sees it"
        case .proposeOnly: return "your role may only propose changes to \(f)"
        case .approvalRequired: return approvalThreshold(entity: entity, field: field).map { "\(f) above \($0) needs approval" } ?? "\(f) needs approval"
        case .needsConfirmation: return "entering this stage needs a manager's confirmation"
        }
    }

    /// The amount above which a change of `field` needs approval, as a reader reads it (the
    /// workspace's rule for the field itself, else the one that applies when leaving a stage).
    func approvalThreshold(entity: String, field: String) -> String? {
        guard let rules = workspace.approvals?.rules else { return nil }
        let stageField = workspace.entity(entity)?.stageField
        let rule = rules.first { $0.leaving == nil && $0.field == field } ?? (field == stageField ? rules.first { $0.leaving != nil } : nil)
        return rule.map { number(entity, $0.field, $0.above) }
    }
}
