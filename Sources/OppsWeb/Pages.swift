import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// The pages, rendered on the server from what the replica holds: readable without
/// JavaScript; every form posts to the same local-edit path as the command line.
extension WebApp {
    /// A deal's amount as a card or a row shows it: grouped, with its currency; without one the
    /// amount alone (it read "50,000.00 null"); nothing when it has none.
    static func amountText(_ d: Record) -> String {
        d["amount"].isNull ? "" : groupedAmount(d["amount"].canonicalText) + (d["currency"].isNull ? "" : " " + d["currency"].canonicalText)
    }
}

extension WebApp {
    struct Query: Sendable {
        var owner: String?
        var text: String?
        var closed = false
        var stage: String?
        /// Only deals this user is an active team member of.
        var member: String? = nil
        /// Only deals closing in this month (`YYYY-MM`).
        var closeMonth: String? = nil
        var page = 1
    }

    func layout(_ title: String, _ t: WebText, active: String, message: Message?, body: String) throws -> String {
        let s = try status()
        let words = vocabulary(t)
        func nav(_ path: String, _ label: String) -> String {
            "<a href=\"\(path)\"\(active == path ? " class=\"on\" aria-current=\"page\"" : "")>\(esc(label))</a>"
        }
        let online: String =
            switch s.online {
            case .some(true): "<span class=\"dot on\"></span>" + esc(t.online)
            case .some(false): "<span class=\"dot off\"></span>" + esc(t.offline)
            case .none: "<span class=\"dot\"></span>" + esc(t("not synced from this window yet", "本窗口尚未同步"))
            }
        var flash = ""
        if let m = message {
            flash = "<div class=\"msg \(m.ok ? "ok" : "bad")\" role=\"status\">\(esc(m.text))"
            if !m.details.isEmpty {
                // A line about a deal opens it.
                flash +=
                    "<ul>"
                    + m.details.map { d in "<li>" + (d.link.map { "<a href=\"\(esc($0))\">\(esc(d.text))</a>" } ?? esc(d.text)) + "</li>" }.joined()
                    + "</ul>"
            }
            flash += "</div>"
        }
        return """
            <!doctype html>
            <html lang="\(t.chinese ? "zh-CN" : "en")"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(esc(title)) · OppSync</title>
            <link rel="stylesheet" href="/app.css"><script src="/app.js" defer></script></head>
            <body data-generation="\(s.generation)">
            <header><strong>OppSync</strong> <nav>\(nav("/", t.board))\(nav("/today", t.today))\(nav("/approvals", t.approvals))\(nav("/reports", t.reports))</nav>
            <span class="who">\(esc(s.user)) · \(esc(words.role(s.role)))</span>
            <span class="lang"><a href="?lang=en">EN</a> <a href="?lang=zh-CN">中文</a></span></header>
            <div class="bar" id="syncbar"><span class="seg">\(online)</span><span class="seg">· \(esc(t("last sync", "上次同步"))) \(esc(s.lastSync ?? t.never))</span><span class="seg">· <span id="pending">\(s.pending)</span> \(esc(t("pending", "项待同步")))</span><span class="seg">· <a href="/conflicts">\(s.conflicts) \(esc(t("conflicts", "项冲突")))</a></span>
            <form method="post" action="/sync" class="inline">\(csrfField)<button>\(esc(t.sync))</button></form>\(undoButton(s, t))</div>
            \(flash)
            <main>\(body)</main>
            </body></html>
            """
    }

    /// While edits wait to be sent, a button takes back the last (`/undo`, as `opps undo`).
    func undoButton(_ s: Status, _ t: WebText) -> String {
        guard s.pending > 0 else { return "" }
        return
            "<form method=\"post\" action=\"/undo\" class=\"inline\">\(csrfField)<button title=\"\(esc(t("Take back your last edit: it has not been synced", "撤销你的上一项修改：它还没有同步")))\">\(esc(t("Undo", "撤销")))</button></form>"
    }

    nonisolated var csrfField: String { "<input type=\"hidden\" name=\"csrf\" value=\"\(csrf)\">" }

    /// The board and a deal page as a browser gets them, in English (benchmarks time these).
    public func boardHTML() throws -> String { try boardPage(Query(), WebText(acceptLanguage: nil, override: "en"), message: nil, today: today()) }
    public func dealHTML(_ id: RecordID) throws -> String { try dealPage(id, WebText(acceptLanguage: nil, override: "en"), message: nil) }

    // MARK: Board

    func boardPage(_ q: Query, _ t: WebText, message: Message?, today: CivilDate) throws -> String {
        let r = replica
        let words = vocabulary(t)
        let pipeline = try self.pipeline()
        let filter = PipelineFilter(owner: q.owner?.isEmpty == false ? q.owner : nil, member: q.member?.isEmpty == false ? q.member : nil)
        var columns = pipeline.board(filter, today: today, includeClosed: q.closed || q.stage != nil)
        // No open deal, but closed ones (a success manager sees won deals only): the closed
        // stages that hold them are shown, and the page says why, rather than six empty columns.
        var onlyClosed = false
        if !q.closed, q.stage == nil, columns.allSatisfy({ $0.deals.isEmpty }) {
            let closed = pipeline.board(filter, today: today, includeClosed: true).filter { !$0.deals.isEmpty }
            if !closed.isEmpty {
                columns = closed
                onlyClosed = true
            }
        }
        // Open deals that look made twice (`opps duplicates`' rule), among what the board holds,
        // before a stage is picked: a pair across two stages is still one.
        let madeTwice = madeTwice(filter) {
            Set(Duplicates.dealGroups(columns.filter { !$0.stage.closed }.flatMap { $0.deals.map(\.deal) }, by: { $0.id < $1.id }).flatMap { $0.map(\.id) })
        }
        if let only = q.stage { columns = columns.filter { $0.stage.name == only } }
        let needle = q.text?.searchFolded ?? ""
        // Accounts' names: every one for a search (it looks in them), else only those of the
        // cards shown, each read once (a manager's laptop holds tens of thousands of accounts).
        var accounts = [RecordID: String]()
        if !needle.isEmpty {
            accounts = Dictionary(uniqueKeysWithValues: try r.store.list(entity: "account", workspace: r.workspace).map { ($0.id, $0["name"].canonicalText) })
        }
        func accountName(_ id: RecordID?) throws -> String {
            guard let id else { return "" }
            if let name = accounts[id] { return name }
            let name = try r.record(id).map { $0["name"].canonicalText } ?? ""
            accounts[id] = name
            return name
        }
        let pending = try r.store.recordsWithPendingWrites()
        let conflicted = Set(try r.store.conflicts().map(\.record))
        let waiting = try pendingApprovals()
        let owners = try r.store.owners(entity: "opportunity")
        let perColumn = q.stage == nil ? 50 : 200
        let shortID = try codes()
        var html = "<form method=\"get\" class=\"filters\"><label>\(esc(t("Owner", "负责人"))) <select name=\"owner\"><option value=\"\">\(esc(t("all", "全部")))</option>"
        for o in owners { html += "<option\(q.owner == o ? " selected" : "")>\(esc(o))</option>" }
        html += "</select></label> <label>\(esc(t("Team member", "团队成员"))) <input name=\"team\" size=\"8\" value=\"\(esc(q.member ?? ""))\"></label>"
        html += " <label>\(esc(t("Closes in", "预计成交月"))) <input type=\"month\" name=\"close\" value=\"\(esc(q.closeMonth ?? ""))\"></label>"
        html += " <label>\(esc(t("Deal or account", "商机或客户"))) <input name=\"q\" value=\"\(esc(q.text ?? ""))\"></label>"
        html +=
            " <label><input type=\"checkbox\" name=\"closed\" value=\"1\"\(q.closed || onlyClosed ? " checked" : "")> \(esc(t("closed stages", "含已结束阶段")))</label> <button>\(esc(t("Filter", "筛选")))</button></form>"
        // Every deal here for a spreadsheet (Excel, WPS), as `opps export --sheet` writes them.
        html += "<p class=\"download\"><a href=\"/export.csv\" download>\(esc(t("Download all deals for a spreadsheet (CSV)", "下载全部商机（表格，CSV）")))</a></p>"
        // A new deal, where this user may make one: folded away, open on a laptop with no deal yet.
        if let entity = r.workspace.entity("opportunity"), let stages = entity.create[r.role] {
            // Marketing's deals start as leads (Replica.newOpportunity): the form says so.
            let title = r.role != "sales" && stages.last == "lead" ? t("New lead", "新建线索") : t("New opportunity", "新建商机")
            let empty = try r.store.recordCount(entity: "opportunity", upTo: 1) == 0
            let currencies = (entity.field("currency")?.type.members ?? []).map {
                "<option value=\"\(esc($0))\">\(esc(words.member("opportunity", "currency", $0)))</option>"
            }.joined()
            html += """
                <details class="new"\(empty ? " open" : "")><summary>\(esc(title))</summary>
                <form method="post" action="/new" class="log">\(csrfField)<input name="name" required placeholder="\(esc(words.field("opportunity", "name")))" size="24">
                <input name="account" required placeholder="\(esc(t("account: a name here, or a new one", "客户：本机已有的名称，或新客户")))" size="28">
                <input name="amount" inputmode="decimal" placeholder="\(esc(words.field("opportunity", "amount")))" size="10">
                <select name="currency" aria-label="\(esc(words.field("opportunity", "currency")))"><option value="">\(esc(words.field("opportunity", "currency")))</option>\(currencies)</select>
                <label>\(esc(words.field("opportunity", "close_date"))) <input type="date" name="close"></label>
                <button>\(esc(t("Create", "新建")))</button></form></details>
                """
        }
        if onlyClosed {
            html +=
                "<p class=\"none\">\(esc(t("No open deals here: these are the closed ones.", "这里没有进行中的商机：下面是已结束的。")))</p>"
        } else if r.dealSource != .made, try r.store.recordCount(entity: "opportunity", upTo: 1) == 0 {
            // A laptop with no deal, of one who makes none: where theirs come from.
            let said =
                switch r.dealSource {
                case let .atStages(stages):
                    t(
                        "No deals here yet: you see those at \(stages.map(words.stage).joined(separator: ", ")); Sync brings them.",
                        "这里还没有商机：你能看到「\(stages.map(words.stage).joined(separator: "」「"))」阶段的商机，同步后就会出现。")
                case .withTeam:
                    t(
                        "No deals here yet: you see those whose team you are on; once a manager adds you, Sync brings them.",
                        "这里还没有商机：你能看到你所在团队的商机；经理把你加入团队后，同步即可取回。")
                default: t("No deals here yet: Sync brings those you may see.", "这里还没有商机：同步后会出现你能看到的商机。")
                }
            html += "<p class=\"none\">\(esc(said))</p>"
        }
        let stageField = r.workspace.entity("opportunity")?.stageField
        let stageOptions = r.workspace.stages.map { "<option value=\"\(esc($0.name))\">\(esc(words.stage($0.name)))</option>" }.joined()
        // On a phone the stages stand one under another, the board many screens long: a line of
        // the stages, each with its count, jumps to one (shown only there, by the stylesheet).
        let head = html
        html = "<div class=\"board\">"
        var jumps = [String]()
        for column in columns {
            let month = q.closeMonth ?? ""
            let deals = column.deals.filter { b in
                (month.isEmpty || b.deal["close_date"].canonicalText.hasPrefix(month))
                    && (needle.isEmpty || b.deal["name"].canonicalText.searchFolded.contains(needle)
                        || (b.deal["account"].reference.flatMap { accounts[$0] }?.searchFolded.contains(needle) ?? false))
            }
            // Amounts without a currency summed as such, not under a currency called "?". Of the
            // deals shown: a search or a month sums what it found, not the whole stage.
            var totals = column.totals
            if deals.count != column.deals.count {
                totals = CurrencyTotals()
                for b in deals { totals.add(b.deal["amount"], currency: b.deal["currency"]) }
            }
            let amounts = totals.codes.map {
                "\(groupedAmount(totals.text($0))) " + ($0 == CurrencyTotals.noCurrency ? t("(no currency)", "（未填币种）") : $0)
            }.joined(separator: " · ")
            jumps.append("<a href=\"#stage-\(esc(column.stage.name))\">\(esc(words.stage(column.stage.name))) <span class=\"count\">\(grouped(deals.count))</span></a>")
            html +=
                "<section class=\"column\" id=\"stage-\(esc(column.stage.name))\" data-stage=\"\(esc(column.stage.name))\"><h2>\(esc(words.stage(column.stage.name))) <span class=\"count\">\(grouped(deals.count))</span></h2>"
            html += "<div class=\"sum\">\(esc(amounts))</div>"
            let start = (q.page - 1) * perColumn
            for b in deals.dropFirst(start).prefix(perColumn) {
                let d = b.deal
                let short = shortID(d.id)
                var badges = [String]()
                if b.overdue { badges.append("<span class=\"badge overdue\">\(esc(t("overdue", "已逾期")))</span>") }
                if pipeline.isStale(d, today: today) && !column.stage.closed { badges.append("<span class=\"badge stale\">\(esc(t("stale", "久未跟进")))</span>") }
                if pending.contains(d.id) { badges.append("<span class=\"badge pending\">\(esc(t("pending", "待同步")))</span>") }
                if conflicted.contains(d.id) { badges.append("<span class=\"badge conflict\">\(esc(t("conflict", "冲突")))</span>") }
                if waiting.contains(d.id) { badges.append("<span class=\"badge approval\">\(esc(t("approval pending", "待审批")))</span>") }
                if madeTwice.contains(d.id) { badges.append("<span class=\"badge twice\">\(esc(t("made twice?", "疑似重复")))</span>") }
                let amount = Self.amountText(d)
                var due = ""
                if case let .date(day) = d["next_step_due"] { due = " · " + t.dayHTML(day, today: today) }
                let next = d["next_step"].isNull ? "" : esc(d["next_step"].canonicalText) + due
                // A card is moved (dragged or by its form) only by one who may move the deal or
                // propose a move (an expert on its team), and its button says which; one who
                // only reads it (a marketer past the hand-off) is offered neither.
                let access = try stageField.map { try r.access(to: d, field: $0) } ?? .hidden
                let move =
                    access < .propose
                    ? ""
                    : """
                    <form method="post" action="/deal/\(short)/stage" class="move">\(csrfField)<select name="stage" aria-label="\(esc(t("Stage", "阶段")))">\(stageOptions.replacingOccurrences(of: "value=\"\(esc(column.stage.name))\"", with: "value=\"\(esc(column.stage.name))\" selected"))</select><button>\(esc(access == .propose ? t.propose : t.move))</button></form>
                    """
                html += """
                    <article class="card" draggable="\(move.isEmpty ? "false" : "true")" data-id="\(short)">
                    <a class="name" href="/deal/\(short)">\(esc(d["name"].canonicalText))</a>
                    <div class="acct">\(esc(try accountName(d["account"].reference)))</div>
                    <div class="amt">\(esc(amount))</div><div class="owner">\(esc(d["owner"].isNull ? "" : d["owner"].canonicalText))</div>
                    <div class="next">\(next)</div><div class="badges">\(badges.joined(separator: " "))</div>\(move)
                    </article>
                    """
            }
            if deals.count > start + perColumn {
                let more = q.stage == nil ? "/?stage=\(urlComponent(column.stage.name))" : "/?stage=\(urlComponent(column.stage.name))&page=\(q.page + 1)"
                html +=
                    "<a class=\"more\" href=\"\(more)\">\(esc(t("\(grouped(deals.count - start - perColumn)) more", "还有 \(grouped(deals.count - start - perColumn)) 个")))</a>"
            }
            html += "</section>"
        }
        html += "</div>"
        html = head + "<nav class=\"stages\">\(jumps.joined())</nav>" + html
        return try layout(t.board, t, active: "/", message: message, body: html)
    }

    /// Deals with an approval request still waiting.
    func pendingApprovals() throws -> Set<RecordID> {
        guard let name = replica.workspace.approvals?.requests else { return [] }
        return Set(
            try replica.store.list(entity: name, workspace: replica.workspace).compactMap { a -> RecordID? in
                let state = a["state"]
                guard state.isNull || state == .member("pending") else { return nil }
                return a["opportunity"].reference
            })
    }

    // MARK: Deal

    /// What a deal's address says when this laptop does not hold that deal (an old link, a
    /// bookmark, an id mistyped): why, in the reader's language — a deal a sync took off the
    /// laptop says when and why (`Replica.notHere`) — and the way back to the board.
    ///
    /// An address several records answer to (a short id two share, a name two deals have) is
    /// not "not here": the page asks which, each a link to its own page (`asks`: the server
    /// answers 300, else 404).
    func notHerePage(_ error: ReplicaError, _ t: WebText) throws -> (asks: Bool, page: String) {
        let back = "<p><a href=\"/\">\(esc(t("Back to the board", "返回看板")))</a></p>"
        if case let .lookup(kind, typed, candidates, count) = error, [.sameName, .sameCode, .sameIDPrefix, .partOfName].contains(kind), !candidates.isEmpty {
            let words = vocabulary(t)
            let more = count - candidates.count
            var message = Message(
                text: kind == .partOfName
                    ? t("No record is named \"\(typed)\"; these names contain it: open the one you meant", "没有名为「\(typed)」的记录；下面这些的名称包含它：点开你要的那个")
                    : t("\"\(typed)\" could be any of these: open the one you meant", "「\(typed)」可能是下面任何一个：点开你要的那个"),
                ok: false)
            message.details = candidates.map { c in
                let tells = [c.stage.map(words.stage), c.account].compactMap { $0 }
                let what = words.entity(c.entity) + (c.name.map { t(" \"\($0)\"", "「\($0)」") } ?? "")
                let text = c.code + " " + what + (tells.isEmpty ? "" : t(" (\(tells.joined(separator: ", ")))", "（\(tells.joined(separator: "，"))）"))
                return (text, "/deal/" + c.code)
            }
            if more > 0 { message.details.append((t("…and \(grouped(more)) more: give more of the id or the name", "……还有 \(grouped(more)) 个：请写出更多的编号或名称"), nil)) }
            return (true, try layout(t("Which one?", "是哪一个？"), t, active: "", message: message, body: back))
        }
        return (false, try layout(t("Not on this laptop", "不在本机"), t, active: "", message: failure(error, words: vocabulary(t), t: t), body: back))
    }

    func dealPage(_ id: RecordID, _ t: WebText, message: Message?) throws -> String {
        let r = replica
        let words = vocabulary(t)
        guard let deal = try r.record(id), let entity = r.workspace.entity(deal.entity) else { throw try r.notHere(id.description) }
        let short = try codes()(deal.id)
        let pending = try r.pendingFields(id)
        // A record without a name (a task whose deal is not on this laptop) by what it is.
        let title = try r.subject(deal.id, words: words)?.title ?? words.entity(deal.entity)
        var html = "<h1>\(esc(title)) <small>\(esc(words.entity(deal.entity))) \(short)</small></h1>"
        let stageAccess = try entity.stageField.map { try r.access(to: deal, field: $0) } ?? .hidden
        if let sf = entity.stageField, stageAccess < .propose {
            // A reader who may not move it (a marketer once her lead is accepted) reads the stage.
            html += "<p class=\"stage\">\(esc(words.field(deal.entity, sf))) <b>\(esc(words.stage(deal[sf].canonicalText)))</b></p>"
        } else if let sf = entity.stageField {
            // The moves that take a reason (to lost: the loss reason; a lead sent back: the
            // hand-off's rejection) are marked: the page's script shows the reason's box for them
            // only (without the script it is always there).
            let handoff = r.workspace.handoff
            func takesReason(_ s: Stage) -> Bool {
                s.fromAnyOpen || (handoff?.rejectReason != nil && deal[sf] == .member(handoff?.to ?? "") && s.name == handoff?.from)
            }
            // At the hand-off's second stage the box is also the reason a lead is sent back.
            let sendsBack = r.workspace.stages.contains { takesReason($0) && !$0.fromAnyOpen }
            let reasonLabel = sendsBack ? t("Reason (when lost or sent back)", "原因（输单或退回时）") : t("Reason (when lost)", "原因（输单时）")
            let options = r.workspace.stages.map {
                "<option value=\"\(esc($0.name))\"\(deal[sf] == .member($0.name) ? " selected" : "")\(takesReason($0) ? " data-reason" : "")>\(esc(words.stage($0.name)))</option>"
            }.joined()
            html += """
                <form method="post" action="/deal/\(short)/stage" class="stage">\(csrfField)<label>\(esc(words.field(deal.entity, sf)))
                <select name="stage">\(options)</select></label> <label class="reason">\(esc(reasonLabel)) <input name="reason"></label>
                <button>\(esc(stageAccess == .propose ? t.propose : t.move))</button></form>
                """
        }
        html += try handedToYouNotice(deal, t)
        html += try madeTwiceNotice(deal, short: short, t)
        // Fields grouped as the workspace groups them; each as the rules let this user touch it.
        let accessTable = try r.accessByField(to: deal)
        let changeable = try r.changeableFields(of: deal)
        let lockedFields = try r.lockedFields(of: deal)
        // The groups this user may change come first, the ones they can only read after, each
        // part in workspace order: a rep's deal page opened on the lead's data, read-only since
        // the hand-off, with the amount and next step below the fold.
        var readOnlyGroups = ""
        // The empty fields the deal's stage needs before the next are marked, as opps new and
        // opps stage name them: what to fill before the move.
        let gate = r.workspace.nextGate(of: deal)
        let needed = Set(gate?.missing ?? [])
        let need = gate.map { " <span class=\"badge need\">\(esc(t("needed for \(words.stage($0.next.name))", "进入「\(words.stage($0.next.name))」前要填")))</span>" } ?? ""
        // A closed deal is worked by those who own fields of it after the sale (a success
        // manager's post-sale and renewal fields): their groups stay open, empty too.
        let closedDeal = entity.stageField.flatMap { sf in r.workspace.stages.first { deal[sf] == .member($0.name) } }?.closed ?? false
        for group in entity.groupOrder {
            var rows = ""
            var changes = false
            // A group with nothing to read and nothing this user may write (a rep's lead data,
            // never filled) is left out, as opps show leaves out empty fields.
            var worthShowing = false
            // A group with nothing filled and nothing the next stage needs, folded to one line
            // (`线索（10 项未填）`): a quoted deal's page opened on ten empty lead fields. Never the
            // fields the app's own views read (the board's amount, the forecast's close date,
            // Today's next step): what a deal is worked by stays open.
            var filled = false, wanted = false, fields = 0
            for f in entity.fields where f.group == group && f.name != entity.stageField && f.name != r.workspace.stageHistory {
                let access = accessTable[f.name] ?? .hidden
                if access == .hidden { continue }
                let value = deal[f.name]
                let shown = try readable(value, deal.entity, f.name, words: words, t: t)
                let mark = pending.contains(f.name) ? " <span class=\"badge pending\">\(esc(t("pending", "待同步")))</span>" : ""
                // A commercial field locked while an approval is pending: read-only here, and says why.
                let locked = lockedFields.contains(f.name)
                let lock = locked ? " <span class=\"badge locked\">\(esc(t("locked: approval pending", "审批中，已锁定")))</span>" : ""
                let label = "<th>\(esc(words.field(deal.entity, f.name)))\(mark)\(lock)\(needed.contains(f.name) ? need : "")</th>"
                fields += 1
                if !value.isNull || pending.contains(f.name) { filled = true }
                if needed.contains(f.name) || Entity.workedBy.contains(f.name) || (closedDeal && access == .own) { wanted = true }
                if changeable[f.name] != nil {
                    worthShowing = true
                    changes = true
                    let input: String
                    if f.type == .boolean {
                        input =
                            "<select name=\"value\"><option value=\"\"></option>"
                            + [true, false].map { b in
                                "<option value=\"\(b)\"\(value == .boolean(b) ? " selected" : "")>\(esc(t.value(words, deal.entity, f.name, .boolean(b))))</option>"
                            }.joined() + "</select>"
                    } else if let members = f.type.members {
                        input =
                            "<select name=\"value\"><option value=\"\"></option>"
                            + members.map {
                                "<option value=\"\(esc($0))\"\(value == .member($0) ? " selected" : "")>\(esc(words.member(deal.entity, f.name, $0)))</option>"
                            }.joined() + "</select>"
                    } else if case let .reference(target) = f.type {
                        // A record by its name, as opps set takes it: the names this laptop holds
                        // offered as the user types (a contact from the deal's account's, when it has
                        // one) — up to 500 of them, so a page never reads a big directory whole (the
                        // name or short id of any other is still taken).
                        var choices = try r.store.recordCount(entity: target, upTo: 501) <= 500 ? r.store.list(entity: target, workspace: r.workspace) : []
                        if target == "contact", case let .reference(account) = deal["account"] {
                            let theirs = choices.filter { $0["account"] == .reference(account) }
                            if !theirs.isEmpty { choices = theirs }
                        }
                        let names = Set(choices.map { $0["name"].canonicalText }).sorted()
                        let list = "choices-" + f.name
                        input =
                            "<input name=\"value\" list=\"\(esc(list))\" value=\"\(esc(shown))\"><datalist id=\"\(esc(list))\">"
                            + names.map { "<option value=\"\(esc($0))\">" }.joined() + "</datalist>"
                    } else if f.type == .user {
                        input = "<input name=\"value\" list=\"users\" value=\"\(esc(shown))\">"
                    } else {
                        // A date by the browser's date picker (it sends YYYY-MM-DD, as opps set takes); an amount by a number pad.
                        let kind =
                            f.type == .date ? " type=\"date\"" : (f.type.isDecimal ? " inputmode=\"decimal\"" : (f.type == .integer ? " inputmode=\"numeric\"" : ""))
                        // A bounded number says its bounds before a refusal does (probability 0–100).
                        let hint = f.boundsText.map { " placeholder=\"\(esc($0))\" title=\"\(esc($0))\"" } ?? ""
                        // A percentage as its number (15, not 15.00) with the sign beside the box: a
                        // number pad has no %, and the edit takes the number alone.
                        let percent = f.unit == .percent
                        let number: String =
                            switch value {
                            case let .decimal(d) where percent: d.trimmed.description
                            default: value.isNull ? "" : value.canonicalText
                            }
                        input = "<input name=\"value\"\(kind)\(hint) value=\"\(esc(number))\">" + (percent ? "<span class=\"unit\">%</span>" : "")
                    }
                    let verb = access == .propose ? t.propose : t.save
                    rows += """
                        <tr>\(label)<td><form method="post" action="/deal/\(short)/edit" class="field">\(csrfField)<input type="hidden" name="field" value="\(esc(f.name))">\(input)<button>\(esc(verb))</button></form></td></tr>
                        """
                } else {
                    // Empty reads as empty, not as a blank cell that looks like a missing page.
                    rows += "<tr>\(label)<td class=\"ro\">\(esc(shown.isEmpty ? "—" : shown))</td></tr>"
                    if !shown.isEmpty { worthShowing = true }
                }
            }
            guard worthShowing else { continue }
            let heading = "<h2>\(esc(words.heading(entity.name, group: group)))</h2>"
            let table = "<table class=\"fields\">\(rows)</table>"
            let section =
                changes && !filled && !wanted
                ? "<details class=\"group\"><summary>\(heading) <span class=\"empty\">\(esc(t("(\(fields) empty)", "（\(fields) 项未填）")))</span></summary>\(table)</details>"
                : heading + table
            if changes { html += section } else { readOnlyGroups += section }
        }
        html += readOnlyGroups
        // Log an activity.
        if let kinds = r.workspace.entity("activity")?.field("kind")?.type.members {
            html += """
                <h2>\(esc(t("Log an activity", "记录跟进")))</h2>
                <form method="post" action="/deal/\(short)/log" class="log">\(csrfField)<select name="kind">\(kinds.map { "<option value=\"\(esc($0))\">\(esc(words.member("activity", "kind", $0)))</option>" }.joined())</select>
                <input name="note" placeholder="\(esc(t("What happened", "跟进内容")))" size="40">
                <input name="place" placeholder="\(esc(t("Where (optional)", "地点（可不填）")))" size="16"> <button>\(esc(t("Log", "记录")))</button></form>
                """
        }
        html += try workSections(deal, short: short, t: t, words: words)
        html += "<h2>\(esc(t("Timeline (device time)", "时间线（设备时间）")))</h2><ol class=\"timeline\">"
        for e in try r.timeline(of: deal).reversed() {
            html +=
                "<li><time>\(esc(LocalTime.minute(e.at)))</time> <b>\(esc(authorName(e.by, chinese: t.chinese)))</b> \(esc(line(e, deal: deal, words: words, t: t)))</li>"
        }
        html += "</ol>" + (try userChoices())
        return try layout(title, t, active: "", message: message, body: html)
    }

    /// The hub's users' names the last sync brought (protocol 6), offered as a user field or a
    /// task's assignee is typed (`list="users"`): up to 500 of them, as records are; nothing when
    /// there are more, or when no sync brought them (any name is still taken and checked).
    func userChoices() throws -> String {
        guard let names = try replica.userNames(), !names.names.isEmpty, names.names.count <= 500 else { return "" }
        return "<datalist id=\"users\">" + names.names.map { "<option value=\"\(esc($0))\">" }.joined() + "</datalist>"
    }

    /// A deal's open tasks (with Done), a form for a new one; its team and a request for a
    /// member; this laptop's conflicts on it with Restore (one's own value) and Put aside.
    func workSections(_ deal: Record, short: String, t: WebText, words: Vocabulary) throws -> String {
        let r = replica
        let ids = try codes()
        var html = ""
        if r.workspace.entity("task") != nil {
            let tasks = try r.related("task", of: deal.id).filter { $0["done"] != .boolean(true) }
            html += "<h2>\(esc(t("Tasks", "任务"))) <span class=\"count\">\(grouped(tasks.count))</span></h2><ul class=\"agenda\">"
            for task in tasks {
                // What, when, for whom: a task without a date or an assignee leaves that part out.
                let parts = ["text", "due", "assignee"].filter { !task[$0].isNull }.map { words.value("task", $0, task[$0]) }
                // Done is offered where it can be done: not on a task someone else keeps (an
                // expert's is only hers, DOMAIN.md's next-step row).
                let done =
                    (try r.access(to: task, field: "done")) >= .write
                    ? #"<form method="post" action="/deal/\#(short)/task-done" class="inline">\#(csrfField)<input type="hidden" name="task" value="\#(ids(task.id))"><button>\#(esc(t("Done", "完成")))</button></form>"#
                    : ""
                html += "<li>\(esc(parts.joined(separator: " · "))) \(done)</li>"
            }
            html += """
                </ul><form method="post" action="/deal/\(short)/task" class="log">\(csrfField)<input name="text" placeholder="\(esc(t("What to do", "待办事项")))" size="30">
                <input type="date" name="due" aria-label="\(esc(t("Due", "截止日期")))"> <input name="assignee" list="users" size="16" placeholder="\(esc(t("for (default: me)", "执行人（默认我）")))">
                <button>\(esc(t("Add task", "添加任务")))</button></form>
                """
        }
        // The team as far as the reader may read it (a marketer reads none of it), and the
        // request for a member only to a role that may make one.
        if let membership = r.workspace.entity("membership") {
            let team = try r.memberships(of: deal.id).filter { $0["state"] != .member("removed") && !$0["user"].isNull }
            let mayAsk = membership.create[r.role] != nil
            if !team.isEmpty || mayAsk {
                html += "<h2>\(esc(t("Team", "团队")))</h2><ul class=\"agenda\">"
                for m in team {
                    let state = m["state"].isNull ? t("requested", "已申请") : words.member("membership", "state", m["state"].canonicalText)
                    html +=
                        "<li>\(esc(words.value("membership", "user", m["user"]))) · \(esc(words.member("membership", "role", m["role"].canonicalText))) · \(esc(state))</li>"
                }
                html += "</ul>"
            }
            if mayAsk {
                html += """
                    <form method="post" action="/deal/\(short)/team" class="log">\(csrfField)<input name="user" size="10" placeholder="\(esc(t("user", "用户")))">
                    <select name="role"><option value="expert">\(esc(words.member("membership", "role", "expert")))</option><option value="success">\(esc(words.member("membership", "role", "success")))</option></select>
                    <button>\(esc(t("Request a team member", "申请团队成员")))</button></form>
                    """
            }
        }
        // The deal's own conflicts and those on its tasks, activities, approvals and team.
        let conflicts = try r.store.conflicts().compactMap { c -> (LocalConflict, String)? in
            if c.record == deal.id { return (c, "") }
            let subject = try r.subject(c.record, words: words)
            return subject?.deal == deal.id ? (c, subject?.part ?? "") : nil
        }
        if !conflicts.isEmpty {
            html += "<h2>\(esc(t("Conflicts", "冲突")))</h2><ul class=\"agenda\">"
            for (c, part) in conflicts {
                let mine = t.value(words, c.entity, c.field, c.value)
                let holds = c.winner.map { t.value(words, c.entity, c.field, $0) } ?? ""
                // On a task or another record of the deal: which one.
                let on = part.isEmpty ? "" : part + " · "
                html +=
                    "<li>#\(c.id) \(esc(on))\(esc(words.field(c.entity, c.field)))\(esc(t(": ", "：")))\(esc(mine))\(esc(t.chinese ? "（\(c.author)）" : " (\(c.author))")) — \(esc(t.fate(words, outcome: "\(c.outcome)", rule: "\(c.rule)", entity: c.entity, field: c.field)))"
                // What held when the hub decided, and what the field holds now if it changed since.
                if !holds.isEmpty { html += " — \(esc(t("held", "当时的值"))) \(esc(holds))" }
                if let now = try r.changedSince(c) { html += "\(esc(t("; now", "；现在"))) \(esc(t.value(words, c.entity, c.field, now)))" }
                html += " " + conflictActions(c, deal: short, t) + "</li>"
            }
            html += "</ul>"
        }
        return html
    }

    /// A timeline event's sentence, as `opps show` says it (`Replica.sentence`), without the
    /// ids a reader types in a terminal.
    func line(_ event: TimelineEvent, deal: Record, words: Vocabulary, t: WebText) -> String {
        replica.sentence(event, deal: deal, words: words, chinese: t.chinese, id: nil) { field, v in t.value(words, deal.entity, field, v) }
    }

    // MARK: Today

    /// A stale deal's line, as `opps today` says it: since when nobody followed it up (the
    /// date alone read like the answer to "when was the last call?", not like a warning). HTML.
    func noFollowUpHTML(_ since: CivilDate?, _ t: WebText, today: CivilDate) -> String {
        guard let since else { return esc(t("no follow-up", "未跟进")) }
        let day = t.dayHTML(since, today: today)
        return t.chinese ? "自 \(day) 起未跟进" : "no follow-up since \(day)"
    }

    /// `all`: every item of each list, not only its first (`Agenda.shownFirst`).
    func todayPage(_ t: WebText, message: Message?, today: CivilDate, all: Bool = false) throws -> String {
        let agenda = try replica.agenda(today: today)
        let limit = all ? Int.max : Agenda.shownFirst
        func more(_ items: [AgendaItem]) -> String {
            guard items.count > limit else { return "" }
            let n = items.count - limit
            return "<p class=\"more\"><a href=\"/today?all=1\">\(esc(t("…and \(grouped(n)) more: show every one", "…还有 \(grouped(n)) 项：全部显示")))</a></p>"
        }
        let short = try codes()
        var html = "<h1>\(esc(t.today)) \(esc(t.day(today, today: today)))</h1>"
        // A day with nothing on it says so, with the way to the deals (not three empty headings).
        if agenda.due.isEmpty, agenda.overdue.isEmpty, agenda.stale.isEmpty, agenda.handedToYou.isEmpty, agenda.handOffs.isEmpty, agenda.renewals.isEmpty,
            agenda.atRisk.isEmpty, agenda.toFill.isEmpty
        {
            html += "<p class=\"none\">\(esc(t("Nothing due or overdue today.", "今天没有到期或逾期的事。"))) <a href=\"/\">\(esc(t("Your deals", "看你的商机")))</a></p>"
        }
        for (title, items) in [(t("Due today", "今日到期"), agenda.due), (t("Overdue", "已逾期"), agenda.overdue), (t("Stale deals", "久未跟进"), agenda.stale)]
        where !items.isEmpty {
            html += "<h2>\(esc(title)) <span class=\"count\">\(grouped(items.count))</span></h2><ul class=\"agenda\">"
            for i in items.prefix(limit) {
                let name = try replica.record(i.deal).map { $0["name"].canonicalText } ?? ""
                let text: String =
                    switch i.kind {
                    case "stale": noFollowUpHTML(i.due, t, today: today)
                    case "next_step": esc(t("next step: ", "下一步：") + (i.text.isEmpty ? t("(not written)", "（未写明）") : i.text))
                    default: esc(t("task: ", "任务：") + i.text)
                    }
                let when = i.kind == "stale" ? "" : i.due.map { " · " + t.dayHTML($0, today: today) } ?? ""
                // A task is done from here, as on its deal's page (the answer comes back here).
                let done =
                    i.kind == "task"
                    ? " <form method=\"post\" action=\"/deal/\(short(i.deal))/task-done\" class=\"inline\">\(csrfField)<input type=\"hidden\" name=\"task\" value=\"\(short(i.id))\"><button>\(esc(t("Done", "完成")))</button></form>"
                    : ""
                html += "<li><a href=\"/deal/\(short(i.deal))\">\(esc(name))</a> — \(text)\(when)\(done)</li>"
            }
            html += "</ul>" + more(items)
        }
        // The reader's own writes that did not hold and are not put aside, as `opps today` says.
        let lost = try replica.openOwnConflicts()
        if lost > 0 {
            html += "<p><a href=\"/conflicts\">\(esc(t("\(lost) write\(lost == 1 ? "" : "s") of yours did not hold", "你有 \(lost) 项修改未被采用")))</a></p>"
        }
        if agenda.awaitingDecision > 0 {
            html += "<p><a href=\"/approvals\">\(esc(t("Waiting for your decision: \(agenda.awaitingDecision)", "待你审批：\(agenda.awaitingDecision) 项")))</a></p>"
        }
        // A marketer's day: the leads they made that wait for their hand-off, each with what it
        // still needs (opps lead list), as their due items are empty.
        let leads = try replica.leadsAwaitingHandOff()
        if !leads.isEmpty {
            let words = vocabulary(t)
            html += "<h2>\(esc(t("Your leads before their hand-off", "等待交接的线索"))) <span class=\"count\">\(grouped(leads.count))</span></h2><ul class=\"agenda\">"
            for (lead, missing) in leads {
                // One the rep sent back says when, by whom (to a reader who may see it) and why,
                // first (as opps lead list).
                let back = try replica.sentBack(lead).map { sent in
                    let day = t.day(LocalTime.date(sent.at), today: today)
                    let said = sent.by.map { t("sent back by \($0), \(day)", "\($0) \(day) 退回") } ?? t("sent back \(day)", "\(day) 退回")
                    return said + (sent.reason.map { t(": \($0)", "：\($0)") } ?? "") + t("; ", "；")
                }
                let text =
                    (back ?? "")
                    + (missing.isEmpty
                        ? t("ready to hand off", "可以交接") : t("needs ", "还缺 ") + missing.map { words.field("opportunity", $0) }.joined(separator: t(", ", "、")))
                html += "<li><a href=\"/deal/\(short(lead.id))\">\(esc(lead["name"].canonicalText))</a> — \(esc(text))</li>"
            }
            html += "</ul>"
        }
        // A rep's leads handed to them, to accept or send back (from the deal's page: its stage
        // form); a success manager's won deals to take on (from their page: the onboarding
        // field), then their renewals overdue or coming up, as `opps today` lists them.
        let labels = vocabulary(t)
        let onboarding = labels.field("opportunity", "onboarding")
        let (health, red) = (labels.field("opportunity", "health"), labels.value("opportunity", "health", .member("red")))
        for (title, items, date) in [
            (t("Leads handed to you (accept or send back)", "交接给你的线索（接受或退回）"), agenda.handedToYou, t("handed off ", "交接于 ")),
            (t("Won deals no one has taken on (\(onboarding) not set)", "待接手的赢单（\(onboarding)未填）"), agenda.handOffs, t("won ", "赢单 ")),
            (
                agenda.renewals.contains { $0.due.map { $0 < today } ?? false }
                    ? t("Renewals overdue or in the next \(Agenda.renewalDays) days", "逾期及 \(Agenda.renewalDays) 天内的续约")
                    : t("Renewals in the next \(Agenda.renewalDays) days", "\(Agenda.renewalDays) 天内续约"), agenda.renewals, t("renews ", "续约 ")
            ),
            (
                t("Customers at risk (\(health) \(red))", "需要关注的客户（\(health)为「\(red)」）"), agenda.atRisk, t("since ", "标记于 ")
            ),
        ] where !items.isEmpty {
            html += "<h2>\(esc(title)) <span class=\"count\">\(grouped(items.count))</span></h2><ul class=\"agenda\">"
            for i in items.prefix(limit) {
                // A renewal past its day says it is overdue (not renewed: a renewal done gets its next date).
                let past = i.kind == "renewal" && i.due.map { $0 < today } == true
                let when = i.due.map { " — \(esc(past ? t("renewal was due ", "续约逾期：") : date))" + t.dayHTML($0, today: today) } ?? ""
                html += "<li><a href=\"/deal/\(short(i.deal))\">\(esc(i.text))</a>\(when)</li>"
            }
            html += "</ul>" + more(items)
        }
        // Others' deals waiting on fields this user owns (an expert's solution), as opps today lists them.
        if !agenda.toFill.isEmpty {
            html += "<h2>\(esc(t("Deals waiting on fields you own", "等你填写的商机"))) <span class=\"count\">\(grouped(agenda.toFill.count))</span></h2><ul class=\"agenda\">"
            for i in agenda.toFill.prefix(limit) {
                let fields = i.fields.map { labels.field("opportunity", $0) }.joined(separator: t(", ", "、"))
                let owner = i.owner.map { esc($0) + " · " } ?? ""
                html += "<li>\(owner)<a href=\"/deal/\(short(i.deal))\">\(esc(i.text))</a> — \(esc(t("to fill: ", "要填：") + fields))</li>"
            }
            html += "</ul>" + more(agenda.toFill)
        }
        // A manager's team: whose deal slipped, and how.
        if !agenda.team.isEmpty {
            html += "<h2>\(esc(t("Your team's deals that slipped", "你团队需要关注的商机"))) <span class=\"count\">\(grouped(agenda.team.count))</span></h2><ul class=\"agenda\">"
            for i in agenda.team.prefix(limit) {
                let name = try replica.record(i.deal).map { $0["name"].canonicalText } ?? ""
                let text =
                    i.kind == "stale"
                    ? noFollowUpHTML(i.due, t, today: today)
                    : i.kind == "unaccepted" || i.kind == "unassigned"
                        ? esc(
                            i.kind == "unassigned"
                                ? t("handed off, no rep could take it: give it one", "已交接，没有销售顾问能接手：请指派一位")
                                : t("handed off, not yet accepted", "已交接，尚未接受")) + (i.due.map { " · " + t.dayHTML($0, today: today) } ?? "")
                        : esc(t("next step overdue: ", "下一步逾期：") + (i.text.isEmpty ? t("(not written)", "（未写明）") : i.text))
                            + (i.due.map { " · " + t.dayHTML($0, today: today) } ?? "")
                html += "<li>\(esc(i.owner ?? "")) · <a href=\"/deal/\(short(i.deal))\">\(esc(name))</a> — \(text)</li>"
            }
            html += "</ul>" + more(agenda.team)
        }
        return try layout(t.today, t, active: "/today", message: message, body: html)
    }

    // MARK: Approvals

    /// How many of an approver's decisions the approvals page lists (the latest).
    static let decidedShown = 20

    /// `all`: every decision of mine, not the latest `decidedShown` (`/approvals?all=1`, as
    /// `opps approvals --all`).
    func approvalsPage(_ t: WebText, message: Message?, all: Bool = false) throws -> String {
        let r = replica
        let words = vocabulary(t)
        guard let name = r.workspace.approvals?.requests else {
            return try layout(t.approvals, t, active: "/approvals", message: message, body: "<p>\(esc(t("This workspace has no approvals.", "此工作区没有审批。")))</p>")
        }
        let approver = r.workspace.approvals?.approvers.contains(r.role) ?? false
        let requests = try r.store.list(entity: name, workspace: r.workspace)
        let short = try codes()
        var html = "<h1>\(esc(t.approvals))</h1>"
        let waiting = requests.filter(r.awaitsMyDecision)
        let mine = requests.filter { $0.creator == r.user }
        func row(_ a: Record, decide: Bool, by: Bool) throws -> String {
            let deal = try a["opportunity"].reference.flatMap { try r.record($0) }
            var state =
                Replica.withdrawing(a)
                ? t("withdrawn (not yet at the hub)", "已撤回（尚未到达服务器）")
                : a["state"].isNull ? t("requested (not yet at the hub)", "已申请（尚未到达服务器）") : words.member(name, "state", a["state"].canonicalText)
            // Who decided, and why as they wrote it (the hub's own note in the reader's words):
            // a rejected request's reason is read here and where the conflict is.
            if case let .text(decider) = a["decided_by"] {
                let by = authorName(decider, chinese: t.chinese)
                let note = words.note(of: a, chinese: t.chinese)
                state += t.chinese ? "（\(by)" + (note.map { "：\($0)" } ?? "") + "）" : " by \(by)" + (note.map { ": \($0)" } ?? "")
            }
            // What it asks for: each field by its label and each value as it reads (in Chinese), or the request's own text.
            let asked = a["field"].isNull ? words.member(name, "kind", a["kind"].canonicalText) : r.requested(a, words: words, chinese: t.chinese)
            // The deal's amount beside what is asked (a discount is decided on what it takes off).
            let amount = deal.map(Self.amountText) ?? ""
            var s =
                "<tr><td>\(deal.map { "<a href=\"/deal/\(short($0.id))\">\(esc($0["name"].canonicalText))</a>" } ?? "")</td>"
                + "<td class=\"num\" data-label=\"\(esc(t("Amount: ", "金额：")))\">\(esc(amount))</td><td>\(esc(asked))</td>"
            // On a phone a row is a card, each cell a line, the two short ones named (Assets.css).
            if by { s += "<td data-label=\"\(esc(t("By: ", "申请人：")))\">\(esc(a.creator))</td>" }
            s += "<td data-label=\"\(esc(t("State: ", "状态：")))\">\(esc(state))</td><td>"
            if decide {
                s += """
                    <form method="post" action="/approvals/\(short(a.id))/decide" class="inline">\(csrfField)<input name="note" placeholder="\(esc(t("note", "备注")))">
                    <button name="decision" value="approved">\(esc(t("Approve", "批准")))</button> <button name="decision" value="rejected">\(esc(t("Reject", "驳回")))</button></form>
                    """
            } else if r.mayWithdraw(a) {
                // One's own request, not yet decided: it may be taken back.
                s += """
                    <form method="post" action="/approvals/\(short(a.id))/withdraw" class="inline">\(csrfField)<button name="withdraw" value="1">\(esc(t("Withdraw", "撤回")))</button></form>
                    """
            }
            return s + "</td></tr>"
        }
        // A table of requests, or one sentence when there are none (not an empty table); `by`:
        // with who asked (not on one's own requests).
        func table(_ list: [Record], decide: Bool, none: String, by: Bool = true) throws -> String {
            guard !list.isEmpty else { return "<p class=\"none\">\(esc(none))</p>" }
            let head =
                "<tr><th>\(esc(t("Deal", "商机")))</th><th class=\"num\">\(esc(t("Amount", "金额")))</th><th>\(esc(t("Request", "申请")))</th>"
                + (by ? "<th>\(esc(t("By", "申请人")))</th>" : "") + "<th>\(esc(t("State", "状态")))</th><th></th></tr>"
            return try "<div class=\"wide\"><table class=\"list requests\">\(head)" + list.map { try row($0, decide: decide, by: by) }.joined() + "</table></div>"
        }
        if approver {
            html += "<h2>\(esc(t("Waiting for my decision", "待我审批"))) <span class=\"count\">\(grouped(waiting.count))</span></h2>"
            html += try table(waiting, decide: true, none: t("Nothing waits for your decision.", "没有等你审批的申请。"))
        }
        // What this approver decided, latest first (a decision made offline among them, until
        // the hub takes it; one the hub could not apply, rejected by it): what became of each.
        let decided = requests.filter { a in
            (a.fields["state"]?.author == r.user || a["decided_by"] == .text(r.user)) && ["approved", "rejected"].contains(a["state"].canonicalText)
        }.sorted { ($0.fields["state"]?.stamp.hlc.rawValue ?? 0) > ($1.fields["state"]?.stamp.hlc.rawValue ?? 0) }
        if approver && !decided.isEmpty {
            let shown = all ? decided[...] : decided.prefix(Self.decidedShown)
            html += "<h2>\(esc(t("Decided by me", "我已决定"))) <span class=\"count\">\(grouped(decided.count))</span></h2>"
            html += try table(Array(shown), decide: false, none: "")
            if decided.count > shown.count {
                let more = decided.count - shown.count
                html += "<p class=\"more\"><a href=\"/approvals?all=1\">\(esc(t("…and \(grouped(more)) more: show every one", "…还有 \(grouped(more)) 项：全部显示")))</a></p>"
            }
        }
        html += "<h2>\(esc(t("What I asked for", "我的申请"))) <span class=\"count\">\(grouped(mine.count))</span></h2>"
        html += try table(mine, decide: false, none: t("You have asked for no approval.", "你还没有提交过审批申请。"), by: false)
        return try layout(t.approvals, t, active: "/approvals", message: message, body: html)
    }

    // MARK: Conflicts

    /// On a deal's page, the open deals here it looks made twice with (`opps duplicates`): each
    /// by name, stage and owner, a link to it, and — for one who may delete — a button merging it
    /// into this one (`opps merge`); for anyone else, who merges it.
    /// On a lead handed to this user and not yet accepted or sent back (what Today lists): the two
    /// things to do with it, by the stage form above.
    func handedToYouNotice(_ deal: Record, _ t: WebText) throws -> String {
        guard let handoff = replica.workspace.handoff, try replica.isHandedToMe(deal) else { return "" }
        let words = vocabulary(t)
        let next = replica.workspace.stages.drop { $0.name != handoff.to }.dropFirst().first.map { words.stage($0.name) } ?? ""
        let back = words.stage(handoff.from)
        return "<div class=\"msg ok\">"
            + esc(
                t(
                    "This lead was handed to you: accept it (move it to \(next)), or send it back (choose \(back) and write the reason).",
                    "这条线索交接给了你：接受（移到「\(next)」），或退回（选「\(back)」并写明原因）。")) + "</div>"
    }

    func madeTwiceNotice(_ deal: Record, short: String, _ t: WebText) throws -> String {
        let others = try replica.likelyDuplicates(of: deal)
        guard !others.isEmpty else { return "" }
        let words = vocabulary(t)
        let codes = try codes()
        let mayMerge = replica.mayMergeDeals
        var html = "<div class=\"msg bad\">\(esc(t("This deal looks made twice (often on two laptops):", "这个商机看起来建了两次（常见于两台电脑各建了一次）：")))<ul>"
        for other in others {
            let code = codes(other.id)
            let (stage, owner) = (words.stage(other["stage"].canonicalText), other.owner ?? "-")
            let about = t("\(other["name"].canonicalText) (\(stage), \(owner))", "\(other["name"].canonicalText)（\(stage)，\(owner)）")
            html += "<li><a href=\"/deal/\(code)\">\(esc(about))</a> \(code)"
            if mayMerge {
                html +=
                    " <form method=\"post\" action=\"/deal/\(short)/merge\" class=\"inline\">\(csrfField)<input type=\"hidden\" name=\"duplicate\" value=\"\(code)\">"
                    + "<button>\(esc(t("Merge it into this one", "把它合并到这里")))</button></form>"
            }
            html += "</li>"
        }
        html += "</ul>"
        if !mayMerge { html += esc(t("A manager merges them: opps merge \(short) …", "合并由经理来做（opps merge \(short) …）")) }
        return html + "</div>"
    }

    /// What this user may do about a conflict (`opps conflicts restore|dismiss`): restore their
    /// own value, put it aside. The deal page and the conflicts page both offer it.
    /// A conflict's buttons, posting on its deal (`short`), or, for one whose record is no longer
    /// here (nil), on the conflicts page itself.
    func conflictActions(_ c: LocalConflict, deal short: String?, _ t: WebText) -> String {
        let path = short.map { "/deal/\($0)/conflict" } ?? "/conflicts/settle"
        var html = "<form method=\"post\" action=\"\(path)\" class=\"inline\">\(csrfField)<input type=\"hidden\" name=\"number\" value=\"\(c.id)\">"
        if replica.mayRestore(c) { html += "<button name=\"action\" value=\"restore\">\(esc(t("Restore mine", "恢复我的值")))</button> " }
        return html + "<button name=\"action\" value=\"dismiss\">\(esc(t("Put aside", "搁置")))</button></form>"
    }

    func conflictsPage(_ t: WebText, message: Message?) throws -> String {
        let r = replica
        let words = vocabulary(t)
        let short = try codes()
        let conflicts = try r.store.conflicts()
        guard !conflicts.isEmpty else {
            let none = "<h1>\(esc(t("Conflicts", "冲突")))</h1><p class=\"none\">\(esc(t("No conflicts: every write of yours holds.", "没有冲突：你写入的值都已生效。")))</p>"
            return try layout(t("Conflicts", "冲突"), t, active: "/conflicts", message: message, body: none)
        }
        var html =
            "<h1>\(esc(t("Conflicts", "冲突")))</h1><div class=\"wide\"><table class=\"list\"><tr><th>#</th><th>\(esc(t("Deal", "商机")))</th><th>\(esc(t("Field", "字段")))</th><th>\(esc(t("Written (by)", "写入的值（作者）")))</th><th>\(esc(t("Held then (now)", "当时的值（现在）")))</th><th>\(esc(t("Outcome", "结果")))</th><th></th></tr>"
        for c in conflicts {
            let about = try r.subject(c.record, words: words)
            // One no longer here (a deal handed to someone else) says so: its id would name nothing.
            let gone = try r.record(c.record) == nil
            let (title, deal) = (gone ? t("(no longer on this laptop)", "（已不在本机）") : about?.title ?? c.record.description, about?.deal)
            let subject = deal.map { "<a href=\"/deal/\(short($0))\">\(esc(title))</a>" } ?? esc(title)
            // What held when the hub decided, and what the field holds now if written since.
            var held = c.winner.map { t.value(words, c.entity, c.field, $0) } ?? ""
            if let now = try r.changedSince(c) {
                held += t.chinese ? "（现在：\(t.value(words, c.entity, c.field, now))）" : " (now: \(t.value(words, c.entity, c.field, now)))"
            }
            html += "<tr><td>\(c.id)</td><td>\(subject)</td><td>\(esc(words.conflictField(c.entity, c.field)))</td>"
            html  // A conflict here may be another's write on this user's record (one that lost to theirs): whose it is.
            +=
                "<td>\(esc((c.value.isNull ? t("(empty)", "（空）") : t.value(words, c.entity, c.field, c.value)) + (t.chinese ? "（\(c.author)）" : " (\(c.author))")))</td><td>\(esc(held))</td><td>\(esc(t.fate(outcome: "\(c.outcome)", why: r.reason(of: c, words: words, chinese: t.chinese))))</td><td>\(conflictActions(c, deal: gone ? nil : short(deal ?? c.record), t))</td></tr>"
        }
        html += "</table></div>"
        return try layout(t("Conflicts", "冲突"), t, active: "/conflicts", message: message, body: html)
    }
}

/// What the guard answers with its own words (`WebGuard`).
enum WebError: Error {
    case notFound
    /// A form without this launch's token.
    case csrf
}

extension Value {
    var reference: RecordID? { if case let .reference(r) = self { r } else { nil } }
}

extension Vocabulary {
    /// A field group's heading: its label in the reader's language (the workspace's
    /// `group_labels`), else its name as words.
    func heading(_ entity: String, group name: String) -> String {
        let text = group(entity, name)
        guard text == name else { return text.prefix(1).uppercased() + text.dropFirst() }
        return name.replacingOccurrences(of: "_", with: " ").capitalized
    }
}

extension FieldType {
    var isDecimal: Bool { if case .decimal = self { true } else { false } }
    var members: [String]? { if case let .enumeration(m) = self { m } else { nil } }
}
