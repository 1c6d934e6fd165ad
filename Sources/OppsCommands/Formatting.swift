import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// A deal's amount as people read it: `1,480,000.50 CNY` (empty without one).
func amountText(_ deal: Record) -> String {
    deal["amount"].isNull ? "" : groupedAmount(deal["amount"].canonicalText) + (deal["currency"].isNull ? "" : " " + deal["currency"].canonicalText)
}

/// After a command that made a deal or a contact: the account or contact its typed name made
/// (not one found), with the short id it goes by — `  new account: Globex Intl (f5fe1fnj)` —
/// so a misspelt name is seen now, not at a manager's merge.
func sayMade(_ r: Replica, _ words: Vocabulary, _ entity: String, _ id: RecordID) throws {
    guard let record = try r.record(id) else { return }
    Console.out(words.say.made(words.entity(entity), record["name"].canonicalText, code: try r.shortIDs()(id)))
}

/// A day as a list shows it beside others: its month and day, the year too when it is not
/// `today`'s (`12-11`, `2027-01-05`).
func shortDay(_ day: CivilDate, today: CivilDate) -> String {
    day.components.year == today.components.year ? String(day.description.dropFirst(5)) : day.description
}

/// The device's wall-clock instant, or a fixed one given on the command line.
func deviceNow() -> Timestamp { Timestamp(milliseconds: SystemClock().nowMilliseconds()) }

/// A date typed on the command line, as people type it (`CivilDate.typed`: 12-05, 明天), by this
/// device's day; nil when it is none.
func typedDate(_ text: String) -> CivilDate? { CivilDate.typed(text, today: localToday()) }

/// Today on this device's clock (`LocalTime`), not UTC's.
func localToday() -> CivilDate { LocalTime.date(deviceNow().milliseconds) }

/// A deal named by id or prefix; anything else is bad input.
func dealID(_ r: Replica, _ id: String, reading: Bool = false) throws -> RecordID {
    let deal = try r.resolveID(id, among: ["opportunity"], reading: reading)
    guard try r.record(deal)?.entity == "opportunity" else { throw ReplicaError.invalid("\(id) is not a deal", chinese: "\(id) 不是商机") }
    return deal
}

/// A record the user typed (`typed`: a short id, a name), as a command printed for them names
/// it: its short id when it names one record here (a name may hold spaces, and two records may
/// come to share it), else what they typed, quoted where a shell needs it.
func typedBack(_ r: Replica?, _ typed: String, among entities: [String]? = nil) -> String {
    if let r, let id = try? (entities.map { try r.resolveID(typed, among: $0) } ?? r.resolveID(typed)), let short = try? r.shortIDs() { return short(id) }
    return CommandSuggestion.word(typed)
}
