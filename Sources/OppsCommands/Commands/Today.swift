import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// `opps today`: what needs doing.
struct TodayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "today",
        abstract: "What is due today, what is overdue (tasks and next steps), and your deals with no follow-up in the stale window.",
        discussion: """
            The stale window is the workspace's stale_days (default 14). Dates are by this device's time zone. \
            A manager also sees their team's deals whose next step is overdue or that went stale, the leads handed to \
            one of them that wait unaccepted \(Agenda.unacceptedDays) days or more, by owner, and the leads handed off that no rep \
            could take (every rep of their territory at capacity), first; \
            an approver, how many requests wait for their decision; a rep, the leads handed to them that they \
            have not yet accepted or sent back; a marketer, how many of their leads wait for their hand-off \
            (and how many came back); a success manager, the won deals no one has taken on yet (no onboarding owner), the renewals of theirs overdue or in the next \(Agenda.renewalDays) days, and their customers whose health is red; \
            anyone (an expert), others' deals that wait on fields they own to leave their stage.

            Example: opps today
            """)

    @Option(help: "Report as of this day (YYYY-MM-DD) instead of today.") var date: String?
    @OptionGroup var home: HomeOption
    @Flag(help: "Print one JSON object: due, overdue, stale, team, awaiting_decision, handed_to_you, hand_offs, renewals, at_risk, to_fill.") var json = false
    @Flag(help: "List every item (each list stops at \(TodayCommand.shown) and says how many more).") var all = false

    /// Items a list shows before it says how many more (`--all`: every one).
    static let shown = Agenda.shownFirst

    typealias Item = AgendaItem

    func validate() throws {
        if let date, typedDate(date) == nil {
            throw ValidationError(home.say("--date must be a date: 2026-12-05, 12-05 or tomorrow", "--date 要写日期：2026-12-05、12-05 或 明天"))
        }
    }

    func run() throws {
        let r = try home.open()
        let today = date.flatMap(typedDate) ?? localToday()
        let agenda = try r.agenda(today: today)
        let (due, overdue, stale) = (agenda.due, agenda.overdue, agenda.stale)
        if json {
            func j(_ items: [Item]) -> [TodayJSON.Item] {
                items.map {
                    TodayJSON.Item(
                        kind: $0.kind, id: $0.id.description, deal: $0.deal.description, text: $0.text, date: $0.due?.description, owner: $0.owner,
                        fields: $0.fields.isEmpty ? nil : $0.fields)
                }
            }
            Console.out(
                try TodayJSON(
                    date: today.description, due: j(due), overdue: j(overdue), stale: j(stale), team: j(agenda.team),
                    awaitingDecision: agenda.awaitingDecision, handOffs: j(agenda.handOffs), renewals: j(agenda.renewals),
                    handedToYou: j(agenda.handedToYou), atRisk: j(agenda.atRisk), toFill: j(agenda.toFill)
                ).jsonLine())
            return
        }
        let words = home.words(r)
        let say = words.say
        Console.out(say.todaySummary(today, due: due.count, overdue: overdue.count, stale: stale.count))
        let short = try r.shortIDs()
        // One item: its deal by name, what is due or since when it is quiet, continued under
        // itself when long; the date where it says something (not under "due today").
        func line(_ i: Item, head: String, dated: Bool) throws -> String {
            let name = try r.record(i.deal).map { $0["name"].canonicalText } ?? short(i.deal)
            let stale = i.kind == "stale"
            // A stale deal's text is the agenda's English sentence; its date says it again.
            // Days of this year without it (12-01), as the board and lists write them.
            let text = stale ? i.due.map { say.noFollowUp(since: shortDay($0, today: today)) } ?? i.text : i.text.isEmpty ? say.noNextStepText : i.text
            let when = stale || !dated ? "" : i.due.map { say.dueOn(shortDay($0, today: today)) } ?? ""
            return hanging(head, "\(name)\(say.chinese ? "：" : ": ")\(text)\(when)")
        }
        let limit = all ? Int.max : Self.shown
        func more(_ items: [Item]) { if items.count > limit { Console.out(say.moreInAgenda(items.count - limit)) } }
        for (title, items) in [(say.dueToday, due), (say.overdue, overdue), (say.staleDeals, stale)] where !items.isEmpty {
            Console.out(title + (say.chinese ? "：" : ":"))
            for i in items.prefix(limit) { Console.out(try line(i, head: "  \(short(i.id))  \(say.agendaKind(i.kind).padding(9))  ", dated: i.due != today)) }
            more(items)
        }
        // A rep's leads handed to them; a success manager's won deals to take on, her renewals
        // overdue or coming up, and her customers at risk.
        // A field as the reader types it: its label in Chinese, its name otherwise.
        let fieldName = { (f: String) in say.chinese ? words.field("opportunity", f) : f }
        let onboarding = fieldName("onboarding")
        for (title, items, date) in [
            (say.handedToYouTitle, agenda.handedToYou, say.handedOn), (say.handOffsTitle(onboarding), agenda.handOffs, say.wonOn),
            (say.renewalsTitle(Agenda.renewalDays, overdue: agenda.renewals.contains { $0.due.map { $0 < today } ?? false }), agenda.renewals, say.renewsOn),
            (
                say.atRiskTitle(fieldName("health"), say.chinese ? words.value("opportunity", "health", .member("red")) : "red"),
                agenda.atRisk, say.atRiskSince
            ),
        ] where !items.isEmpty {
            Console.out(title)
            for i in items.prefix(limit) {
                // A renewal past its day says it is overdue.
                let said = i.kind == "renewal" && i.due.map { $0 < today } == true ? say.renewalOverdue : date
                let when = i.due.map { (say.chinese ? "：" : ": ") + said(shortDay($0, today: today)) } ?? ""
                Console.out(hanging("  \(short(i.id))  ", i.text + when))
            }
            more(items)
        }
        // Others' deals held up by fields this user owns (an expert's solution): which fields.
        if !agenda.toFill.isEmpty {
            Console.out(say.toFillTitle)
            for i in agenda.toFill.prefix(limit) {
                let owner = i.owner.map { say.chinese ? "（\($0)）" : " (\($0))" } ?? ""
                Console.out(
                    hanging("  \(short(i.id))  ", i.text + owner + (say.chinese ? "：" : ": ") + i.fields.map(fieldName).joined(separator: say.chinese ? "、" : ", ")))
            }
            more(agenda.toFill)
        }
        // Last, what to type for each kind of the reader's own items listed, a line each, the
        // command never broken.
        let kinds = Set((due + overdue + stale).map(\.kind))
        // A manager's team's deals are read, their owners' to work on.
        let hints =
            [("task", say.hintTaskDone), ("next_step", say.hintNextStep), ("stale", say.hintFollowUp)].filter { kinds.contains($0.0) }.map(\.1)
            + (agenda.team.isEmpty ? [] : [say.hintTeamDeal])
            + (agenda.team.contains { $0.kind == "unassigned" } ? [say.hintGiveARep(fieldName("owner"))] : [])
            + (agenda.handedToYou.isEmpty
                ? [] : [say.hintAccept, say.hintSendBack(say.chinese ? words.stage(r.workspace.handoff?.from ?? "") : r.workspace.handoff?.from ?? "")])
            + (agenda.handOffs.isEmpty ? [] : [say.hintTakeOn(onboarding, user: r.user)])
            + (agenda.renewals.isEmpty ? [] : [say.hintRenewed(fieldName("renewal_date"))])
            + (agenda.toFill.first.map { [say.hintFill($0.fields.map(fieldName))] } ?? [])
            // A customer at risk is followed up (a call, a visit), as a quiet deal is.
            + (agenda.atRisk.isEmpty || kinds.contains("stale") ? [] : [say.hintFollowUp])
        let hintWidth = hints.map(\.label.displayWidth).max() ?? 0
        defer { for hint in hints { Console.out(hint.label.padding(hintWidth) + "  " + hint.command) } }
        if agenda.awaitingDecision > 0 { Console.out(say.awaitingDecision(agenda.awaitingDecision)) }
        // Writes of the reader's that did not hold and that they have not put aside: to look at
        // again (restore or leave them), as a sync said when it learnt of them.
        let lost = try r.openOwnConflicts()
        if lost > 0 { Console.out(say.ownConflictsOpen(lost)) }
        // A marketer's day has no deals due: the leads they made that wait for their hand-off.
        let leads = try r.leadsAwaitingHandOff()
        let mine = leads.count
        if mine > 0 { Console.out(say.leadsAwaiting(mine, sentBack: try leads.count { try r.sentBack($0.lead) != nil })) }
        // A day with nothing on it says so, and where the work is, rather than three zeros alone.
        // A laptop with no deal at all (a new rep's first day): how to make one, not "your deals: opps board".
        if (due + overdue + stale + agenda.team + agenda.handedToYou + agenda.handOffs + agenda.renewals + agenda.atRisk + agenda.toFill).isEmpty,
            agenda.awaitingDecision == 0, mine == 0
        {
            Console.out(try r.store.recordCount(entity: "opportunity", upTo: 1) == 0 ? say.noDealsYet(r, words: words) : say.nothingToday)
        }
        guard !agenda.team.isEmpty else { return }
        // A manager's team: whose deal slipped, and how.
        Console.out(
            say.teamSummary(
                overdue: agenda.team.count { $0.kind == "next_step" }, stale: agenda.team.count { $0.kind == "stale" },
                unaccepted: agenda.team.count { $0.kind == "unaccepted" }, unassigned: agenda.team.count { $0.kind == "unassigned" }))
        let ownerWidth = agenda.team.map { ($0.owner ?? "").displayWidth }.max() ?? 0
        for i in agenda.team.prefix(limit) {
            let kind = say.agendaKind(i.kind == "next_step" ? "overdue" : i.kind)
            let head = "  \(short(i.id))  \((i.owner ?? "").padding(ownerWidth))  \(kind.padding(9))  "
            if i.kind == "unaccepted" || i.kind == "unassigned" {
                // Whose lead, since when: the rep to ask, and how long it has waited.
                let name = try r.record(i.deal).map { $0["name"].canonicalText } ?? short(i.deal)
                let day = i.due.map { say.handedOn(shortDay($0, today: today)) } ?? ""
                Console.out(hanging(head, "\(name)\(say.chinese ? "：" : ": ")\(day)"))
            } else {
                Console.out(try line(i, head: head, dated: true))
            }
        }
        more(agenda.team)
    }
}
