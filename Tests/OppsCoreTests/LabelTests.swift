import Testing

@testable import OppsCore

/// Display labels per language (issue 15; workspace-format.md "Labels").
@Suite struct LabelTests {
    let ws = Workspace.default

    @Test func theDefaultWorkspaceReadsInChineseAndEnglish() throws {
        #expect(ws.locales.contains("zh-CN"))
        #expect(ws.locales.contains("en"))
        let zh = Vocabulary(ws, locale: "zh-CN")
        #expect(zh.stage("discovery") == "需求挖掘")
        #expect(zh.field("opportunity", "tech_risk") == "技术风险")
        #expect(zh.member("opportunity", "tech_risk", "low") == "低")
        #expect(zh.value("opportunity", "stage", .member("won")) == "赢单")
        #expect(zh.value("opportunity", "amount", .text("x")) == "x")
        #expect(zh.entity("account") == "客户")
        #expect(zh.role("sales") == "销售顾问")
        let en = Vocabulary(ws, locale: "en")
        #expect(en.role("sales") == "sales rep")
        // A label missing in a language shows the name: what an English reader types back.
        #expect(en.field("opportunity", "tech_risk") == "tech_risk")
        #expect(en.stage("discovery") == "discovery")
        #expect(Vocabulary(ws, locale: nil).stage("discovery") == "discovery")
        // Every field, stage and enum member of the default workspace has a Chinese label.
        for e in ws.entities {
            #expect(e.labels["zh-CN"] != nil, "\(e.name)")
            for g in e.groups { #expect(g.labels["zh-CN"] != nil, "\(e.name) group \(g.name)") }
            for f in e.fields {
                #expect(f.labels["zh-CN"] != nil, "\(e.name).\(f.name)")
                if case let .enumeration(members) = f.type {
                    for m in members { #expect(f.memberLabels[m]?["zh-CN"] != nil, "\(e.name).\(f.name).\(m)") }
                }
            }
        }
        for s in ws.stages { #expect(s.labels["zh-CN"] != nil, "\(s.name)") }
    }

    @Test func inputTakesTheNameOrAnyLabelInAnyCase() throws {
        let deal = try #require(ws.entity("opportunity"))
        #expect(deal.field(input: "tech_risk")?.name == "tech_risk")
        #expect(deal.field(input: "技术风险")?.name == "tech_risk")
        #expect(deal.field(input: "nothing") == nil)
        let risk = try #require(deal.field("tech_risk"))
        #expect(risk.member(input: "低") == "low")
        #expect(risk.member(input: "low") == "low")
        #expect(risk.member(input: "很低") == nil)
        #expect(try #require(deal.field("stage")).member(input: "方案") == "solution")
        #expect(ws.stage(input: "需求挖掘")?.name == "discovery")
        #expect(ws.stage(input: " 赢单 ")?.name == "won")
        #expect(ws.role(input: "Sales Rep")?.name == "sales")
        #expect(ws.role(input: "SALES")?.name == nil, "names are exact; labels any case")
        // The first characters of one choice's name or label name it, as an id's do; of two, none.
        let source = try #require(deal.field("lead_source"))
        #expect(source.member(input: "展会") == "event")
        #expect(source.member(input: "coLD") == nil && source.member(input: "cold") == "cold_call")
        #expect(risk.member(input: "hi") == "high" && risk.member(input: "h") == nil, "one letter names nothing")
        #expect(ws.stage(input: "谈")?.name == "negotiation" && ws.stage(input: "赢")?.name == "won")
        #expect(ws.stage(input: "le")?.name == "lead" && ws.stage(input: "l") == nil)
        #expect(ws.role(input: "产品")?.name == "expert")
        #expect(try #require(deal.field("loss_reason")).member(input: "产品") == "product_fit")
        #expect(source.member(input: "营") == "campaign" && source.member(input: "合") == "partner")
        #expect(ws.stage(input: "需求") == ws.stage(input: "需求挖掘"))
    }

    @Test func theReadersLanguageIsChosenFromWhatTheWorkspaceHas() {
        #expect(ws.displayLocale(preferring: ["zh-CN"]) == "zh-CN")
        #expect(ws.displayLocale(preferring: ["zh-TW", "en"]) == "zh-CN", "same language")
        #expect(ws.displayLocale(preferring: [nil, "en-US"]) == "en")
        #expect(ws.displayLocale(preferring: ["fr-FR"]) == nil, "no French: names")
        var chinese = ws
        chinese.locale = "zh-CN"
        #expect(chinese.displayLocale(preferring: ["fr-FR"]) == "zh-CN", "the workspace's own language")
        #expect(chinese.displayLocale(preferring: ["en"]) == "en", "the reader's language first")
        #expect(LocaleTag.fromPOSIX("zh_CN.UTF-8") == "zh-CN")
        #expect(LocaleTag.fromPOSIX("en_US.utf8@euro") == "en-US")
        #expect(LocaleTag.fromPOSIX("C.UTF-8") == nil)
        #expect(LocaleTag.fromPOSIX("POSIX") == nil)
        #expect(LocaleTag.fromPOSIX("") == nil)
        #expect(LocaleTag.isValid("zh-Hant-TW"))
        #expect(!LocaleTag.isValid("ZH"))
        #expect(!LocaleTag.isValid("zh_CN"))
    }

    func problems(_ replace: String, _ with: String) -> String {
        let text = Workspace.defaultDocument.replacingFirst(replace, with: with)
        #expect(text != Workspace.defaultDocument, "\(replace) not found")
        do { _ = try Workspace.decode(text); return "" } catch { return error.description }
    }

    @Test func labelsThatWouldMakeInputAmbiguousAreRefused() {
        // Another field's label.
        #expect(problems(#""labels": {"zh-CN": "技术风险"}"#, #""labels": {"zh-CN": "折扣"}"#).contains("input would be ambiguous"))
        // Another stage's name.
        #expect(problems(#""labels": {"zh-CN": "方案"}"#, #""labels": {"zh-CN": "proposal"}"#).contains("stage \"proposal\"'s name or label"))
        // Another member's label.
        #expect(problems(#""medium": {"zh-CN": "中"}"#, #""medium": {"zh-CN": "低"}"#).contains("ambiguous"))
        // The same label for a field in another entity is fine (separate scopes).
        #expect(problems(#""labels": {"zh-CN": "行业"}"#, #""labels": {"zh-CN": "阶段"}"#) == "")
        // Bad tags, bad text, labels for members of a field that has none.
        #expect(problems(#""labels": {"zh-CN": "行业"}"#, #""labels": {"zh_CN": "行业"}"#).contains("not a language tag"))
        #expect(problems(#""labels": {"zh-CN": "行业"}"#, #""labels": {"zh-CN": "a=b"}"#).contains("a label is"))
        #expect(problems(#""labels": {"zh-CN": "行业"}"#, #""labels": {"zh-CN": " 行业"}"#).contains("a label is"))
        #expect(
            problems(#""labels": {"zh-CN": "行业"}, "type": "text""#, #""labels": {"zh-CN": "行业"}, "member_labels": {}, "type": "text""#)
                .contains("only an enum field has member labels"))
        #expect(problems(#""medium": {"zh-CN": "中"}"#, #""middling": {"zh-CN": "中"}"#).contains("unknown key \"middling\""))
        // A group's labels: only for the entity's own groups, valid as any label.
        #expect(problems(#""commercials": {"zh-CN": "商务"}"#, #""commerce": {"zh-CN": "商务"}"#).contains("unknown key \"commerce\""))
        #expect(problems(#""commercials": {"zh-CN": "商务"}"#, #""commercials": {"zh-CN": "商=务"}"#).contains("a label is"))
        #expect(problems(#""commercials": {"zh-CN": "商务"}"#, #""commercials": "商务""#).contains("expected an object"))
        #expect(problems(#""name": "default","#, #""name": "default", "locale": "Chinese","#).contains("not a language tag"))
    }

    @Test func labelsAreDisplayOnly() throws {
        // The same workspace without a single label decides every write the same way.
        var bare = ws
        for i in bare.roles.indices { bare.roles[i].labels = [:] }
        for i in bare.stages.indices { bare.stages[i].labels = [:] }
        for i in bare.entities.indices {
            bare.entities[i].labels = [:]
            for j in bare.entities[i].groups.indices { bare.entities[i].groups[j].labels = [:] }
            for j in bare.entities[i].fields.indices { bare.entities[i].fields[j].labels = [:]; bare.entities[i].fields[j].memberLabels = [:] }
        }
        #expect(bare.locales.isEmpty)
        #expect(Vocabulary(bare, locale: "zh-CN").stage("won") == "won")
        // Every cell of the matrix — role × stage × relations × field — gives the same access,
        // and every stage move the same decision.
        let replica = ReplicaID(UUID128(high: 0, low: 1))
        var cells = 0
        for role in ws.roles.map(\.name) {
            for stage in ws.stages.map(\.name) {
                for relations in [Set<Relation>(), [.owner], [.team], [.creator], [.managed], Set(Relation.allCases)] {
                    let stamp = Stamp(hlc: HLC(milliseconds: 1, counter: 0), replica: replica)
                    var deal = Record(
                        id: UUID128(high: 1, low: 1), entity: "opportunity", created: FieldState(value: .member(stage), stamp: stamp, author: "u", authority: .own))
                    deal.fields["stage"] = FieldState(value: .member(stage), stamp: stamp, author: "u", authority: .own)
                    let actor = Actor(user: "u", role: role)
                    for f in ws.entity("opportunity")!.fields {
                        #expect(
                            bare.permission(actor: actor, relations: relations, record: deal, entity: "opportunity", field: f.name)
                                == ws.permission(actor: actor, relations: relations, record: deal, entity: "opportunity", field: f.name))
                        cells += 1
                    }
                    for target in ws.stages.map(\.name) {
                        let move = FieldWrite(
                            record: deal.id, entity: "opportunity", field: "stage", value: .member(target), base: .none,
                            author: "u", stamp: Stamp(hlc: HLC(milliseconds: 2, counter: 0), replica: replica))
                        let a = resolve(
                            current: deal.fields["stage"], incoming: move, context: RuleContext(workspace: ws, actor: actor, relations: relations, record: deal))
                        let b = resolve(
                            current: deal.fields["stage"], incoming: move, context: RuleContext(workspace: bare, actor: actor, relations: relations, record: deal))
                        #expect(a.outcome == b.outcome && a.rule == b.rule)
                    }
                }
            }
        }
        #expect(cells > 1000)
    }
}
