import OppsCSV
import OppsCore
import OppsStore

/// `opps-hub import` (docs/operator.md "Importing records"): rows of one record type, checked
/// cell by cell, then written in one transaction as the hub — logged like any write, so every
/// replica that may see a record receives it at its next sync.
extension HubEngine {
    /// Why one cell (or a whole row, column "-") cannot be imported. Rows count the header as 1.
    public struct ImportProblem: Sendable, Hashable, CustomStringConvertible {
        public var row: Int
        public var column: String
        public var message: String
        public var description: String { "row \(row), column \(column): \(message)" }
    }

    public struct ImportResult: Sendable {
        public var imported: Int
        public var invalidRows: Int
        public var problems: [ImportProblem]
    }

    /// Checks every row; unless `skipInvalid`, imports nothing when any row is invalid.
    /// - Parameters:
    ///   - rows: the CSV records, the first being the header: `id` (optional) and field names.
    ///   - author: who the records are attributed to (their creator); nil: the hub itself.
    public func importRecords(
        entity name: String, rows: [CSV.Row], author: UserName?, skipInvalid: Bool,
        progress: (Int) -> Void = { _ in }
    ) throws -> ImportResult {
        try refreshDirectory()
        guard let entity = workspace.entity(name) else {
            throw HubError.invalid(
                "unknown type \"\(name)\" (\(workspace.entities.map(\.name).joined(separator: ", ")))",
                chinese: "没有记录类型「\(name)」（类型有：\(workspace.entities.map(\.name).joined(separator: "、"))）")
        }
        if name == workspace.approvals?.requests {
            throw HubError.invalid("\(name) records are written by requesters and approvers, not imported", chinese: "\(name) 记录由申请人和审批人写入，不能导入")
        }
        if let author, author != HubEngine.systemAuthor, directory.users[author] == nil { throw Self.noUser(author) }
        guard let header = rows.first else {
            throw HubError.invalid("the file is empty: expected a header row (id and field names)", chinese: "文件是空的：第一行应是表头（id 和字段名）")
        }
        var problems = [ImportProblem]()
        var seen = Set<String>()
        for column in header.fields {
            if !seen.insert(column).inserted { problems.append(ImportProblem(row: header.line, column: column, message: "the column appears twice")) }
            if !["id", "created_at", "created_by", "created_stage"].contains(column), entity.field(column) == nil {
                problems.append(
                    ImportProblem(
                        row: header.line, column: column, message: "\(name) has no field \"\(column)\" (fields: \(entity.fields.map(\.name).joined(separator: ", ")))"))
            }
        }
        if let sf = entity.stageField, !header.fields.contains(sf) {
            problems.append(ImportProblem(row: header.line, column: sf, message: "the column is required for \(name)"))
        }
        // A bad header makes every row meaningless: nothing is imported, --skip-invalid or not.
        if !problems.isEmpty { return ImportResult(imported: 0, invalidRows: rows.count - 1, problems: problems) }

        // Ids given in the file, so references between its rows resolve.
        var fileIDs = [RecordID: Int]()
        if let idColumn = header.fields.firstIndex(of: "id") {
            for row in rows.dropFirst() where idColumn < row.fields.count {
                if let id = RecordID(parsing: row.fields[idColumn]) { fileIDs[id, default: 0] += 1 }
            }
        }
        var rng = SystemRandomNumberGenerator()
        var valid = [(RecordID, [(String, Value)], Int64?, UserName?, Value?)]()
        var invalidRows = 0
        for (n, row) in rows.dropFirst().enumerated() {
            if n % 1000 == 999 { progress(n + 1) }
            var rowProblems = [ImportProblem]()
            func problem(_ column: String, _ message: String) { rowProblems.append(ImportProblem(row: row.line, column: column, message: message)) }
            guard row.fields.count == header.fields.count else {
                problem("-", "expected \(header.fields.count) cells, found \(row.fields.count)")
                problems += rowProblems
                invalidRows += 1
                continue
            }
            var id: RecordID?
            var values = [(String, Value)]()
            var createdAt: Int64?
            var createdBy: UserName?
            var createdStage: Value?
            for (column, text) in zip(header.fields, row.fields) {
                if column == "id" {
                    if text.isEmpty { continue }
                    guard let given = RecordID(parsing: text) else { problem(column, "not a record id: \(text)"); continue }
                    if fileIDs[given, default: 0] > 1 { problem(column, "the id appears on more than one row") }
                    if try store.record(given, workspace: workspace) != nil { problem(column, "a record with this id exists") }
                    id = given
                    continue
                }
                // The creation's device time and author (what `opps export` writes last): a round
                // trip keeps time in the first stage and who made the record.
                if column == "created_at" {
                    if text.isEmpty { continue }
                    guard case let .success(.timestamp(t)) = FieldType.timestamp.value(canonical: text) else {
                        problem(column, "not a time YYYY-MM-DDTHH:MM:SS.sssZ: \(text)"); continue
                    }
                    if t.milliseconds > now + 300_000 { problem(column, "\(text) is in the future") }
                    createdAt = t.milliseconds
                    continue
                }
                if column == "created_by" {
                    if text.isEmpty { continue }
                    if directory.users[text] == nil { problem(column, "no user \"\(text)\"") }
                    createdBy = text
                    continue
                }
                if column == "created_stage" {
                    if text.isEmpty { continue }
                    guard entity.stageField != nil, workspace.stage(text) != nil else { problem(column, "no stage \"\(text)\""); continue }
                    createdStage = .member(text)
                    continue
                }
                guard let field = entity.field(column) else { continue }
                // The stage log is kept as written when it is well formed (a round trip of `opps
                // export`); the hub goes on appending to it.
                if column == workspace.stageHistory, entity.stageField != nil, !text.isEmpty,
                    let why = StageLog.problem(text, stages: Set(workspace.stages.map(\.name)))
                {
                    problem(column, why)
                    continue
                }
                switch field.type.value(canonical: text) {
                case let .failure(e): problem(column, e.message)
                case let .success(value):
                    if value.isNull {
                        if column == entity.stageField { problem(column, "a stage is required") }
                        continue
                    }
                    if case let .reference(targetEntity) = field.type, case let .reference(target) = value, fileIDs[target] != nil {
                        // A row of this file: a record of the type being imported.
                        if targetEntity != name { problem(column, "\(target) is a row of this file (\(name)), not \(targetEntity)") }
                    } else if case let .reference(targetEntity) = field.type, case let .reference(target) = value {
                        let existing = try store.record(target, workspace: workspace)
                        if existing == nil || existing?.isDeleted == true {
                            problem(column, "no \(targetEntity) \(target)")
                        } else if existing?.entity != targetEntity {
                            problem(column, "\(target) is a \(existing!.entity), not a \(targetEntity)")
                        }
                    }
                    if case .user = field.type, case let .text(user) = value, directory.users[user] == nil { problem(column, "no user \"\(user)\"") }
                    values.append((column, value))
                }
            }
            if let sf = entity.stageField, let log = values.first(where: { $0.0 == workspace.stageHistory })?.1,
                let lastStep = StageLog.steps(log).last, let stage = values.first(where: { $0.0 == sf })?.1, stage != .member(lastStep.to)
            {
                problem(workspace.stageHistory ?? "", "the stage log ends in \(lastStep.to), the stage is \(stage.canonicalText)")
            }
            if let createdAt, let first = values.first(where: { $0.0 == workspace.stageHistory }).flatMap({ StageLog.steps($0.1).first }), first.at < createdAt {
                problem("created_at", "the stage log starts before the record was created")
            }
            if rowProblems.isEmpty {
                valid.append((id ?? UUID128.version7(milliseconds: now, using: &rng), values, createdAt, createdBy, createdStage))
            } else {
                problems += rowProblems
                invalidRows += 1
            }
        }
        if !problems.isEmpty && !skipInvalid { return ImportResult(imported: 0, invalidRows: invalidRows, problems: problems) }
        let hubTime = now
        let writer = author ?? HubEngine.systemAuthor
        try store.transaction {
            try onSharedClock {
                var decider = BatchDecider(
                    reader: StoreReader(store: store, workspace: workspace), workspace: workspace, directory: directory, clock: clock,
                    hubReplica: hubReplica, hubTime: hubTime, maxClockAhead: configuration.maxClockAheadMilliseconds)
                for (i, (id, values, createdAt, createdBy, createdStage)) in valid.enumerated() {
                    // Created in the stage the file names, else in the stage it is in now.
                    let stage = createdStage ?? entity.stageField.flatMap { sf in values.first { $0.0 == sf }?.1 } ?? .null
                    try decider.imported(id: id, entity: name, stage: stage, createdAt: createdAt, row: i, createdBy: createdBy ?? writer, writer: writer, values: values)
                    try decider.drain { try apply($0, hubTime: hubTime) }
                    if i % 1000 == 999 { try apply(decider.finish(), hubTime: hubTime) }
                }
                try apply(decider.finish(), hubTime: hubTime)
                clock = decider.clock
            }
        }
        return ImportResult(imported: valid.count, invalidRows: invalidRows, problems: problems)
    }
}
