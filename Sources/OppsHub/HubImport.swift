import OppsCSV
import OppsCore
import OppsStore

/// `opps-hub import` (docs/operator.md "Importing records"): rows of one record type, checked
/// cell by cell, then written in one transaction as the hub — logged like any write, so every
/// replica that may see a record receives it at its next sync.
extension HubEngine {
    /// Why one cell (or a whole row, column "-") cannot be imported. Rows count the header as 1;
    /// the column as the file's header names it.
    public struct ImportProblem: Sendable, Hashable, CustomStringConvertible {
        public var row: Int
        public var column: String
        public var message: String
        /// The same in Chinese, for an operator who reads Chinese (`--json` carries `message`).
        public var chinese: String
        public var description: String { "row \(row), column \(column): \(message)" }
        public var chineseDescription: String { "第 \(row) 行" + (column == "-" ? "" : "，「\(column)」列") + "：\(chinese)" }

        public init(row: Int, column: String, message: String, chinese: String) {
            self.row = row
            self.column = column
            self.message = message
            self.chinese = chinese
        }
    }

    public struct ImportResult: Sendable {
        /// The type imported, by its name (the file's `--type` may have named it by a label).
        public var entity: String
        public var imported: Int
        /// Rows that passed every check (imported unless the import was only a check).
        public var validRows: Int
        public var invalidRows: Int
        public var problems: [ImportProblem]
    }

    /// Checks every row; unless `skipInvalid`, imports nothing when any row is invalid; with
    /// `check`, imports nothing at all (the report of what an import would do).
    /// - Parameters:
    ///   - typed: the type, by its name or any of its labels (`account`, `客户`).
    ///   - rows: the CSV records, the first being the header: `id` (optional) and fields, each
    ///     by its name or any of its labels (`industry`, `行业`). An enum member or a stage may be
    ///     given by its label too (`高`, `谈判`); it is stored by its name.
    ///   - author: who the records are attributed to (their creator); nil: the hub itself.
    public func importRecords(
        entity typed: String, rows: [CSV.Row], author: UserName?, skipInvalid: Bool, check: Bool = false,
        progress: (Int) -> Void = { _ in }
    ) throws -> ImportResult {
        try refreshDirectory()
        let zh = Vocabulary(workspace, locale: "zh-CN")
        guard let entity = workspace.entity(input: typed) else {
            throw HubError.invalid(
                "unknown type \"\(typed)\" (\(workspace.entities.map(\.name).joined(separator: ", ")))",
                chinese: "没有记录类型「\(typed)」（类型有：\(workspace.entities.map { zh.withName(zh.entity($0.name), $0.name) }.joined(separator: "、"))）")
        }
        let name = entity.name
        if name == workspace.approvals?.requests {
            throw HubError.invalid("\(name) records are written by requesters and approvers, not imported", chinese: "「\(zh.entity(name))」记录由申请人和审批人写入，不能导入")
        }
        let entityZh = "「\(zh.entity(name))」"
        let special = ["id", "created_at", "created_by", "created_stage"]
        /// The field a header cell names (by name or label), else the cell as it is.
        func columnName(_ cell: String) -> String { special.contains(cell) ? cell : entity.field(input: cell)?.name ?? cell }
        if let author, author != HubEngine.systemAuthor, directory.users[author] == nil { throw Self.noUser(author) }
        guard let header = rows.first else {
            throw HubError.invalid("the file is empty: expected a header row (id and field names)", chinese: "文件是空的：第一行应是表头（id 和字段名）")
        }
        var problems = [ImportProblem]()
        var seen = Set<String>()
        let columns = header.fields.map(columnName)
        for (cell, column) in zip(header.fields, columns) {
            if !seen.insert(column).inserted {
                problems.append(ImportProblem(row: header.line, column: cell, message: "the column appears twice", chinese: "这一列出现了两次"))
            }
            if !special.contains(column), entity.field(column) == nil {
                problems.append(
                    ImportProblem(
                        row: header.line, column: cell,
                        message: "\(name) has no field \"\(cell)\" (fields: \(entity.fields.map(\.name).joined(separator: ", ")))",
                        chinese: "\(entityZh)没有字段「\(cell)」（字段有：\(entity.fields.map { zh.withName(zh.field(name, $0.name), $0.name) }.joined(separator: "、"))）"))
            }
        }
        if let sf = entity.stageField, !columns.contains(sf) {
            problems.append(
                ImportProblem(
                    row: header.line, column: sf, message: "the column is required for \(name)",
                    chinese: "\(entityZh)必须有这一列（「\(zh.field(name, sf))」）"))
        }
        // A bad header makes every row meaningless: nothing is imported, --skip-invalid or not.
        if !problems.isEmpty { return ImportResult(entity: name, imported: 0, validRows: 0, invalidRows: rows.count - 1, problems: problems) }

        // Ids given in the file, so references between its rows resolve.
        var fileRows = [RecordID: [Int]]()  // an id → the lines of the rows giving it
        if let idColumn = columns.firstIndex(of: "id") {
            for row in rows.dropFirst() where idColumn < row.fields.count {
                if let id = RecordID(parsing: row.fields[idColumn]) { fileRows[id, default: []].append(row.line) }
            }
        }
        /// A column as the header names it, for a problem's report.
        func headerCell(_ column: String) -> String { header.fields[columns.firstIndex(of: column) ?? 0] }
        // The live records of a referenced type by their short ids and their names, read when a
        // cell first names one of that type by either (an operator's file from another CRM knows
        // its accounts by name, a rep quotes the short id).
        var named = [String: (codes: [String: [RecordID]], names: [String: [RecordID]])]()
        func index(_ target: String) throws -> (codes: [String: [RecordID]], names: [String: [RecordID]]) {
            if let known = named[target] { return known }
            var codes = [String: [RecordID]](), names = [String: [RecordID]]()
            let ids = try store.liveRecords(entity: target)
            // Read 500 to a statement, not one each (100,000 accounts were 100,000 round trips
            // to PostgreSQL before the first row was checked).
            let records = try store.records(ids, workspace: workspace)
            for id in ids {
                codes[ShortID.shown(id), default: []].append(id)
                if case let .text(n)? = records[id]?["name"] { names[n.trimmingSpaces, default: []].append(id) }
            }
            named[target] = (codes, names)
            return (codes, names)
        }
        var rng = SystemRandomNumberGenerator()
        var valid = [ValidRow]()
        var invalidRows = 0
        for (n, row) in rows.dropFirst().enumerated() {
            if n % 1000 == 999 { progress(n + 1) }
            var rowProblems = [ImportProblem]()
            var fileRefs = [(column: String, target: RecordID)]()
            func problem(_ column: String, _ message: String, _ chinese: String) {
                rowProblems.append(ImportProblem(row: row.line, column: headerCell(column), message: message, chinese: chinese))
            }
            guard row.fields.count == header.fields.count else {
                rowProblems.append(
                    ImportProblem(
                        row: row.line, column: "-", message: "expected \(header.fields.count) cells, found \(row.fields.count)",
                        chinese: "应有 \(header.fields.count) 个单元格，这一行有 \(row.fields.count) 个"))
                problems += rowProblems
                invalidRows += 1
                continue
            }
            var id: RecordID?
            var values = [(String, Value)]()
            var createdAt: Int64?
            var createdBy: UserName?
            var createdStage: Value?
            for (column, cell) in zip(columns, row.fields) {
                var text = cell
                if column == "id" {
                    if text.isEmpty { continue }
                    guard let given = RecordID(parsing: text) else { problem(column, "not a record id: \(text)", "「\(text)」不是记录 id"); continue }
                    if fileRows[given, default: []].count > 1 { problem(column, "the id appears on more than one row", "这个 id 出现在不止一行") }
                    if try store.record(given, workspace: workspace) != nil { problem(column, "a record with this id exists", "已经有这个 id 的记录") }
                    id = given
                    continue
                }
                // The creation's device time and author (what `opps export` writes last): a round
                // trip keeps time in the first stage and who made the record.
                if column == "created_at" {
                    if text.isEmpty { continue }
                    guard case let .success(.timestamp(t)) = FieldType.timestamp.value(canonical: text) else {
                        problem(column, "not a time YYYY-MM-DDTHH:MM:SS.sssZ: \(text)", "「\(text)」不是时间（写成 2026-11-02T09:00:00.000Z）"); continue
                    }
                    if t.milliseconds > now + 300_000 { problem(column, "\(text) is in the future", "「\(text)」在将来") }
                    createdAt = t.milliseconds
                    continue
                }
                if column == "created_by" {
                    if text.isEmpty { continue }
                    if directory.users[text] == nil { problem(column, "no user \"\(text)\"", "没有用户「\(text)」") }
                    createdBy = text
                    continue
                }
                if column == "created_stage" {
                    if text.isEmpty { continue }
                    guard entity.stageField != nil, let stage = workspace.stage(input: text) else {
                        problem(column, "no stage \"\(text)\"", "没有阶段「\(text)」"); continue
                    }
                    createdStage = .member(stage.name)
                    continue
                }
                guard let field = entity.field(column) else { continue }
                // The stage log is kept as written when it is well formed (a round trip of `opps
                // export`); the hub goes on appending to it.
                if column == workspace.stageHistory, entity.stageField != nil, !text.isEmpty,
                    let why = StageLog.problem(text, stages: Set(workspace.stages.map(\.name)))
                {
                    problem(column, why, "阶段记录不是 opps export 写的格式（\(why)）")
                    continue
                }
                // A reference by the short id `opps` prints or by the record's exact name, when
                // one live record of the type has it.
                if case let .reference(target) = field.type, !text.isEmpty, RecordID(parsing: text) == nil {
                    let known = try index(target)
                    let found = ShortID.normalise(text).flatMap { $0.count == ShortID.length ? known.codes[$0] : nil } ?? known.names[text.trimmingSpaces] ?? []
                    if found.count == 1 {
                        text = found[0].description
                    } else if found.count > 1 {
                        let ids = found.prefix(5).map { ShortID.shown($0) }
                        problem(
                            column, "\(found.count) \(target) records are named \"\(text)\": give the id or short id of one (\(ids.joined(separator: ", ")))",
                            "有 \(found.count) 条「\(zh.entity(target))」记录叫「\(text)」：请写其中一条的 id 或短 id（\(ids.joined(separator: "、"))）")
                        continue
                    } else {
                        problem(
                            column, "no \(target) has the id, short id or name \"\(text)\"",
                            "没有 id、短 id 或名称是「\(text)」的「\(zh.entity(target))」记录")
                        continue
                    }
                }
                // A member or a stage by its label: stored by its name.
                if case .enumeration = field.type, let member = column == entity.stageField ? workspace.stage(input: text)?.name : field.member(input: text) {
                    text = member
                }
                // A percentage as a spreadsheet writes it (`15%`), for a field that counts hundredths
                // (workspace-format.md `unit`): stored as its number.
                if field.unit == .percent, let number = ExactDecimal.typedPercent(text) { text = number.description }
                switch field.value(canonical: text) {
                case let .failure(e): problem(column, e.message, e.chinese ?? Self.chineseValueProblem(text, field.type))
                case let .success(value):
                    if value.isNull {
                        if column == entity.stageField { problem(column, "a stage is required", "必须填写阶段") }
                        continue
                    }
                    if case let .reference(targetEntity) = field.type, case let .reference(target) = value, fileRows[target] != nil {
                        // A row of this file: a record of the type being imported.
                        fileRefs.append((column, target))
                        if targetEntity != name {
                            problem(
                                column, "\(target) is a row of this file (\(name)), not \(targetEntity)",
                                "\(target) 是这个文件里的一行（\(entityZh)），不是「\(zh.entity(targetEntity))」")
                        }
                    } else if case let .reference(targetEntity) = field.type, case let .reference(target) = value {
                        let existing = try store.record(target, workspace: workspace)
                        if existing == nil || existing?.isDeleted == true {
                            problem(column, "no \(targetEntity) \(target)", "没有这条「\(zh.entity(targetEntity))」记录：\(target)")
                        } else if let other = existing?.entity, other != targetEntity {
                            problem(column, "\(target) is a \(other), not a \(targetEntity)", "\(target) 是「\(zh.entity(other))」，不是「\(zh.entity(targetEntity))」")
                        }
                    }
                    if case .user = field.type, case let .text(user) = value, directory.users[user] == nil {
                        problem(column, "no user \"\(user)\"", "没有用户「\(user)」")
                    }
                    values.append((column, value))
                }
            }
            if let sf = entity.stageField, let log = values.first(where: { $0.0 == workspace.stageHistory })?.1,
                let lastStep = StageLog.steps(log).last, let stage = values.first(where: { $0.0 == sf })?.1, stage != .member(lastStep.to)
            {
                problem(
                    workspace.stageHistory ?? "", "the stage log ends in \(lastStep.to), the stage is \(stage.canonicalText)",
                    "阶段记录的最后一步是「\(zh.stage(lastStep.to))」，而阶段是「\(zh.stage(stage.canonicalText))」")
            }
            if let createdAt, let first = values.first(where: { $0.0 == workspace.stageHistory }).flatMap({ StageLog.steps($0.1).first }), first.at < createdAt {
                problem("created_at", "the stage log starts before the record was created", "阶段记录开始于记录创建之前")
            }
            // A deal no user would see is out of everyone's reach: refused, with how to give it
            // someone (an owner who sees it, or a creator by --as or created_by).
            if rowProblems.isEmpty, let sf = entity.stageField {
                let owner: UserName? = values.first { $0.0 == "owner" }.flatMap { if case let .text(u) = $0.1 { u } else { nil } }
                let stage = values.first { $0.0 == sf }?.1 ?? .null
                let creator = createdBy ?? author ?? HubEngine.systemAuthor
                if !workspace.anyoneSees(recordOf: entity, stage: stage, owner: owner, creator: creator, directory: directory) {
                    if entity.field("owner") != nil {
                        let ownerZh = zh.field(name, "owner")
                        rowProblems.append(
                            ImportProblem(
                                row: row.line, column: columns.firstIndex(of: "owner").map { header.fields[$0] } ?? "-",
                                message: "no user would see this \(name): give it an owner who sees it (column owner), or import it --as a user who should",
                                chinese: "没有用户能看到这条\(entityZh)：请填写能看到它的「\(ownerZh)」，或用 --as 以应该看到它的用户身份导入"))
                    } else {
                        rowProblems.append(
                            ImportProblem(
                                row: row.line, column: "-", message: "no user would see this \(name): import it --as a user who should",
                                chinese: "没有用户能看到这条\(entityZh)：请用 --as 以应该看到它的用户身份导入"))
                    }
                }
            }
            if rowProblems.isEmpty {
                valid.append(
                    ValidRow(
                        id: id ?? UUID128.version7(milliseconds: now, using: &rng), values: values, createdAt: createdAt, createdBy: createdBy,
                        createdStage: createdStage, line: row.line, fileRefs: fileRefs))
            } else {
                problems += rowProblems
                invalidRows += 1
            }
        }
        // A row naming a row of this file that is invalid would name a record that never exists
        // (--skip-invalid imports the others): it is invalid too, and so is a row naming it.
        var importedIDs = Set(valid.map(\.id))
        var namedBy = [RecordID: [Int]]()  // a row's id → the valid rows naming it
        for (i, row) in valid.enumerated() { for ref in row.fileRefs { namedBy[ref.target, default: []].append(i) } }
        var leftOut = Set<Int>()
        var unsure = Array(valid.indices)
        while let i = unsure.popLast() {
            guard !leftOut.contains(i), let (column, target) = valid[i].fileRefs.first(where: { !importedIDs.contains($0.target) }) else { continue }
            leftOut.insert(i)
            let line = fileRows[target]?.first ?? 0
            problems.append(
                ImportProblem(
                    row: valid[i].line, column: headerCell(column), message: "\(target) is the id of row \(line), which is invalid",
                    chinese: "\(target) 是第 \(line) 行的 id，而那一行无效"))
            importedIDs.remove(valid[i].id)
            unsure += namedBy[valid[i].id] ?? []
        }
        if !leftOut.isEmpty {
            invalidRows += leftOut.count
            valid = valid.indices.filter { !leftOut.contains($0) }.map { valid[$0] }
        }
        // In the file's order (a row's own problems in the order found).
        problems = problems.enumerated().sorted { ($0.element.row, $0.offset) < ($1.element.row, $1.offset) }.map(\.element)
        if check || (!problems.isEmpty && !skipInvalid) {
            return ImportResult(entity: name, imported: 0, validRows: valid.count, invalidRows: invalidRows, problems: problems)
        }
        let hubTime = now
        let writer = author ?? HubEngine.systemAuthor
        try store.transaction { try onSharedClock { try imported(valid, entity: entity, hubTime: hubTime, writer: writer) } }
        return ImportResult(entity: name, imported: valid.count, validRows: valid.count, invalidRows: invalidRows, problems: problems)
    }

    /// Writes the checked rows of an import as the hub, inside the caller's transaction. A
    /// large file's rows are written on a second thread while the next ones are made, as a large
    /// push's are (`RowWriter`); each thousand rows' log entries and records in multi-row
    /// statements either way.
    private func imported(_ valid: [ValidRow], entity: Entity, hubTime: Int64, writer: UserName) throws {
        let writes = valid.reduce(0) { $0 + 1 + $1.values.count }
        let rowWriter = writes >= configuration.rowsBesideDecisionsFrom ? self.rowWriter : nil
        defer { rowWriter?.settleQuietly() }
        var reader = StoreReader(store: store, workspace: workspace)
        reader.writer = rowWriter
        var decider = BatchDecider(
            reader: reader, workspace: workspace, directory: directory, clock: clock,
            hubReplica: hubReplica, hubTime: hubTime, maxClockAhead: configuration.maxClockAheadMilliseconds)
        var appended = [LogEntry]()
        for (i, row) in valid.enumerated() {
            // Created in the stage the file names, else in the stage it is in now.
            let stage = row.createdStage ?? entity.stageField.flatMap { sf in row.values.first { $0.0 == sf }?.1 } ?? .null
            try decider.imported(
                id: row.id, entity: entity.name, stage: stage, createdAt: row.createdAt, row: i, createdBy: row.createdBy ?? writer, writer: writer,
                values: row.values)
            for effect in decider.takeEffects() { try apply(effect, hubTime: hubTime, log: &appended, writer: rowWriter) }
            if i % 1000 == 999 || i == valid.count - 1 {
                var changed = [Record]()
                for effect in decider.finish() {
                    if case let .save(record) = effect { changed.append(record) } else { try apply(effect, hubTime: hubTime, log: &appended, writer: rowWriter) }
                }
                try write(appended, changed, hubTime: hubTime, writer: rowWriter)
                appended.removeAll(keepingCapacity: true)
            }
        }
        try rowWriter?.settle()
        clock = decider.clock
    }

    /// A row that passed its checks: what is imported, and the rows of the same file its
    /// references name (by column), which must be imported with it.
    struct ValidRow {
        var id: RecordID
        var values: [(String, Value)]
        var createdAt: Int64?
        var createdBy: UserName?
        var createdStage: Value?
        var line: Int
        var fileRefs: [(column: String, target: RecordID)]
    }

    /// Why a cell's text is not a value of `type`, in Chinese, with how to write one.
    static func chineseValueProblem(_ text: String, _ type: FieldType) -> String {
        switch type {
        case let .text(max): "文字超过 \(max) 个字"
        case .integer: "「\(text)」不是整数"
        case let .decimal(scale): "「\(text)」不是小数（写成 12000.00 这样，小数点后最多 \(scale) 位）"
        case .date: "「\(text)」不是日期（写成 2026-11-02）"
        case .timestamp: "「\(text)」不是时间（写成 2026-11-02T09:00:00.000Z）"
        case let .enumeration(members): "「\(text)」不是可选的值（可选：\(members.joined(separator: "、"))）"
        case .boolean: "「\(text)」不是 true 或 false"
        case .reference: "「\(text)」不是记录 id"
        case .user: "用户名不能为空"
        }
    }
}
