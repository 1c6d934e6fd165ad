import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List opportunities on this laptop (search, filter, sort).",
        discussion: "Filters combine.\n\nExample: opps list 物流 --stage discovery --mine --closing-to 2026-12-31 --amount-min 100000 --sort close")

    @Option(help: "Only this stage.")
    var stage: String?

    @Flag(help: "Only those you own.")
    var mine = false

    @Option(help: "Only those this user owns.")
    var owner: String?

    @Argument(help: "Text to search for, as --search takes it (opps list 物流).")
    var text: [String] = []

    @Option(help: ArgumentHelp("Only those whose name, or whose account's name, contains this text (any case).", valueName: "text"))
    var search: String?

    @Option(help: "Only those of this account: its short id or exact name.")
    var account: String?

    @Option(help: ArgumentHelp("Only those closing on or after this date, YYYY-MM-DD.", valueName: "date"))
    var closingFrom: String?

    @Option(help: ArgumentHelp("Only those closing on or before this date, YYYY-MM-DD.", valueName: "date"))
    var closingTo: String?

    @Option(help: ArgumentHelp("Only those with an amount of at least this (any currency), such as 100000.00.", valueName: "amount"))
    var amountMin: String?

    @Option(help: ArgumentHelp("Only those with an amount of at most this (any currency).", valueName: "amount"))
    var amountMax: String?

    @Flag(help: "Only open deals with no follow-up (activity) within the workspace's stale_days.")
    var stale = false

    @Option(help: "Order: newest (default), close (soonest first), amount (largest first, within each currency), name.")
    var sort: String = "newest"

    @OptionGroup var home: HomeOption

    @Flag(help: "Print a JSON array of records.")
    var json = false

    /// The orders --sort takes, by name or in Chinese (金额, as the column is headed).
    static let orders = [
        "newest": "newest", "最新": "newest", "close": "close", "close_date": "close", "成交": "close", "预计成交日期": "close",
        "amount": "amount", "金额": "amount", "name": "name", "名称": "name",
    ]

    func validate() throws {
        guard Self.orders[sort.lowercased()] != nil else {
            throw ValidationError(home.say("--sort is newest, close, amount or name", "--sort 只能是 最新、成交、金额 或 名称（或 newest、close、amount、name）"))
        }
        for (name, text) in [("--closing-from", closingFrom), ("--closing-to", closingTo)] {
            if let text, typedDate(text) == nil {
                throw ValidationError(home.say("\(name) must be a date: 2026-12-05, 12-05 or tomorrow", "\(name) 要写日期：2026-12-05、12-05 或 明天"))
            }
        }
        if mine && owner != nil { throw ValidationError(home.say("give --mine or --owner, not both", "--mine 和 --owner 只能给一个")) }
        _ = try searchedText(text, search, home)
        for (name, text) in [("--amount-min", amountMin), ("--amount-max", amountMax)] {
            if let text {
                if ExactDecimal.typed(text) == nil {
                    throw ValidationError(home.say("\(name) must be a decimal such as 100000.00", "\(name) 要写成数字，例如 100000.00 或 10万"))
                }
            }
        }
    }

    func run() throws {
        let r = try home.open()
        let words = home.words(r)
        // `opps list 物流`, as a rep searches, or `--search 物流`.
        let search = try searchedText(text, self.search, home)
        let stage = try self.stage.map { try stageNamed($0, r, words) }
        if let owner { try r.requireUser(owner, entity: "opportunity", field: "owner") }
        // Each filter as a test of one deal; deals are read one at a time and only those that
        // pass are kept (a manager's laptop may hold 100,000: all at once was 880 MB).
        var tests = [(Record) -> Bool]()
        // An account's deals: only the rows holding its id are decoded (`forEach(naming:)`).
        var naming: RecordID?
        if let account {
            let id = try r.resolveID(account, among: ["account"], reading: true)
            guard try r.record(id)?.entity == "account" else { throw ReplicaError.invalid("\(account) is not an account", chinese: "\(account) 不是客户") }
            tests.append { $0["account"] == .reference(id) }
            naming = id
        }
        if let search {
            // Compared as a search compares names (`searchFolded`: any case, no spaces).
            let needle = search.searchFolded
            var accountNames = [RecordID: String]()
            for a in try r.store.list(entity: "account", workspace: r.workspace) { accountNames[a.id] = a["name"].canonicalText.searchFolded }
            tests.append { d in
                if d["name"].canonicalText.searchFolded.contains(needle) { return true }
                if case let .reference(a) = d["account"], accountNames[a]?.contains(needle) == true { return true }
                return false
            }
        }
        let from = closingFrom.flatMap(typedDate), to = closingTo.flatMap(typedDate)
        if from != nil || to != nil {
            tests.append { d in
                guard case let .date(c) = d["close_date"] else { return false }
                return (from.map { c >= $0 } ?? true) && (to.map { c <= $0 } ?? true)
            }
        }
        let low = amountMin.flatMap(ExactDecimal.typed), high = amountMax.flatMap(ExactDecimal.typed)
        if low != nil || high != nil {
            tests.append { d in
                guard case let .decimal(a) = d["amount"] else { return false }
                return (low.map { a >= $0 } ?? true) && (high.map { a <= $0 } ?? true)
            }
        }
        let ownedBy = mine ? r.user : owner
        if let ownedBy { tests.append { $0.owner == ownedBy } }
        var records = [Record]()
        try r.store.forEach(entity: "opportunity", stages: stage.map { [$0] }, naming: naming, newestFirst: true, workspace: r.workspace) { d in
            if tests.allSatisfy({ $0(d) }) { records.append(d) }
        }
        if stale {
            let pipeline = try r.pipeline(ofDeals: records)
            let today = localToday()
            records = records.filter { pipeline.isStale($0, today: today) }
        }
        // Deals without the sorting field go last.
        func date(_ d: Record) -> CivilDate? { if case let .date(c) = d["close_date"] { c } else { nil } }
        func amount(_ d: Record) -> ExactDecimal? { if case let .decimal(a) = d["amount"] { a } else { nil } }
        switch Self.orders[sort.lowercased()] {
        case "close": records.sort { a, b in date(b).map { y in date(a).map { $0 < y } ?? false } ?? (date(a) != nil) }
        case "amount":
            // Largest first within each currency, never across them (19,500,000 JPY is not more
            // than 425,000 CNY): the currency most deals here are in first, then the others.
            var counts = [String: Int]()
            for d in records where amount(d) != nil { counts[d["currency"].canonicalText, default: 0] += 1 }
            func rank(_ d: Record) -> (Int, String) { let c = d["currency"].canonicalText; return (-(counts[c] ?? 0), c) }
            records.sort { a, b in
                guard let x = amount(a) else { return false }
                guard let y = amount(b) else { return true }
                return rank(a) != rank(b) ? rank(a) < rank(b) : y < x
            }
        case "name": records.sort { $0["name"].canonicalText < $1["name"].canonicalText }
        default: break
        }
        if json {
            Console.out(JSON.array(records.map { recordJSON(r, $0) }).compactText)
            return
        }
        if records.isEmpty {
            let filtered = stage != nil || mine || owner != nil || search != nil || account != nil || from != nil || to != nil || low != nil || high != nil || stale
            Console.out(filtered ? words.say.noDealsMatch : words.say.noDealsYet(r, words: words))
            return
        }
        // Short ids (ShortID): unique among what this laptop holds, the same on every laptop.
        let short = try r.shortIDs()
        let h = { (field: String) in words.header("opportunity", field) }
        // As wide as the widest id here; the owner only when the list holds more than one (as
        // the board: a rep's own deals are all theirs, a success manager sees no owner), its ten
        // columns then given to the name.
        let idWidth = records.map { short($0.id).count }.max() ?? ShortID.length
        let showOwner = Set(records.map { $0.owner ?? "-" }).count > 1
        // The close date when the list is about it (sorted or filtered by it), its twelve
        // columns taken from the name.
        let showClose = Self.orders[sort.lowercased()] == "close" || from != nil || to != nil
        let nameWidth = (showOwner ? 28 : 38) - (showClose ? 12 : 0)
        let ownerHeader = showOwner ? "\(fit(h("owner"), 8))  " : ""
        let closeHeader = showClose ? "\(fit(words.say("CLOSE", "成交日期"), 10))  " : ""
        Console.out("\("ID".padding(idWidth))  \(fit(h("stage"), 11))  \(fit(h("name"), nameWidth))  \(ownerHeader)\(closeHeader)\(h("amount"))")
        for rec in records {
            let amount = amountText(rec)
            let owner = showOwner ? "\(fit(rec.owner ?? "-", 8))  " : ""
            let close = showClose ? "\(fit(date(rec)?.description ?? "-", 10))  " : ""
            Console.out(
                ("\(short(rec.id).padding(idWidth))  \(fit(words.value("opportunity", "stage", rec["stage"]), 11))  \(fit(rec["name"].canonicalText, nameWidth))  \(owner)\(close)\(amount)")
                    .trimmingTrailing())
        }
    }
}
