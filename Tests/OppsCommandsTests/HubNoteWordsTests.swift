import OppsCore
import OppsReplica
import Testing

/// The note the hub writes on a request it could not take or apply reads in Chinese, fields and
/// stages by label; an approver's own note is left as written.
@Suite struct HubNoteWordsTests {
    let zh = Vocabulary(.default, locale: "zh-CN")

    @Test func theHubsNotesReadInChinese() {
        let cases: [(String, String)] = [
            ("invalid request: no such target record", "申请无效：目标记录已不存在"),
            ("invalid request: the target does not belong to the opportunity", "申请无效：目标不属于这个商机"),
            ("invalid request: owner names no user of this hub", "申请无效：「负责人」填写的用户在服务器上不存在"),
            ("not applied: sam is no longer a user of this hub", "未执行：sam 已不是服务器上的用户"),
            ("not applied: sam is disabled on this hub", "未执行：sam 的账号已停用"),
            ("not applied: sam may no longer change discount of that record", "未执行：sam 已无权修改该记录的「折扣」"),
            ("not applied: moving back more than one stage is a manager's act", "未执行：后退超过一个阶段需要经理操作"),
            ("not applied: rejecting a hand-off needs handoff_reason", "未执行：退回移交需要填写「退回原因」"),
            (
                "not applied: " + BatchDecider.orphanedDetail("opportunity"),
                "未执行：这样修改后没有用户能看到这条「商机」：请给它指定一个能看到它的「负责人」"
            ),
            // Not one the words know: the head in Chinese, the rest as the hub wrote it.
            ("invalid request: amount: more than 2 digits after the point", "申请无效：amount: more than 2 digits after the point"),
        ]
        for (note, said) in cases { #expect(zh.chineseHubNote(note) == said, "\(note)") }
        #expect(zh.chineseHubNote("keep trying") == nil)
        #expect(zh.chineseHubNote("再谈谈价格") == nil)
    }

    /// The stage refusals as the rules themselves word them (`stageMoveRefusal`), not copies.
    @Test func aStageRefusalReadsAsTheRulesWordIt() throws {
        let ws = Workspace.default
        let stamp = Stamp(hlc: HLC(milliseconds: 1, counter: 0), replica: ReplicaID(UUID128(high: 0, low: 1)))
        func deal(_ stage: String) -> Record {
            var r = Record(id: UUID128(high: 1, low: 2), entity: "opportunity", created: FieldState(value: .member(stage), stamp: stamp, author: "sam", authority: .own))
            r.fields["stage"] = FieldState(value: .member(stage), stamp: stamp, author: "sam", authority: .own)
            return r
        }
        let leaving = try #require(ws.stageMoveRefusal(of: deal("discovery"), to: "solution", role: "manager"))
        #expect(zh.chineseHubNote("not applied: " + leaving) == "未执行：离开「需求挖掘」需要：「客户需求」、「决策人」、「金额」、「预计成交日期」", "\(leaving)")
        let entering = try #require(ws.stageMoveRefusal(of: deal("discovery"), to: "lost", role: "manager"))
        #expect(zh.chineseHubNote("not applied: " + entering) == "未执行：进入「输单」需要：「输单原因」", "\(entering)")
        let closed = try #require(ws.stageMoveRefusal(of: deal("won"), to: "negotiation", role: "sales"))
        #expect(zh.chineseHubNote("not applied: " + closed) == "未执行：「赢单」已结束：只有经理能重开", "\(closed)")
    }
}
