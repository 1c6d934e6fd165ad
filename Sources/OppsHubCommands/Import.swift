import ArgumentParser
import Foundation
import OppsCSV
import OppsConsole
import OppsCore
import OppsHub

/// The records of the CSV file an operator names (`import`, `user import`), or one line saying
/// why it cannot be read.
func csvRows(_ file: String) throws -> [CSV.Row] {
    guard let bytes = FileManager.default.contents(atPath: file) else { throw CommandFailure("cannot read \(file)", chinese: "无法读取 \(file)") }
    guard let text = String(data: bytes, encoding: .utf8) else {
        throw CommandFailure("\(file) is not UTF-8 text", chinese: "\(file) 不是 UTF-8 文本（请另存为 UTF-8 编码的 CSV）")
    }
    do { return try CSV.parse(text) } catch { throw CommandFailure("\(file): \(error)", chinese: "\(file)：\(error)") }
}

/// `opps-hub import`: bring records in from a CSV file, all or nothing.
public struct ImportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import records of one type from a CSV file (all or nothing, with a validation report).",
        discussion: """
            The file is CSV (RFC 4180, UTF-8): a header row naming the columns — `id` (optional) and fields \
            of the type by name, as `opps export --csv` writes them, or by label — then one row per \
            record. Values are in their canonical text: decimals 12000.00, dates YYYY-MM-DD, timestamps \
            2026-11-02T09:00:00Z, enum members and stages by name or label, users by name, true/false; a \
            reference by record id (of an existing record or a row of the same file), or by the short id \
            opps prints or the exact name of the one existing record that has it (an account named 华为); \
            an empty cell leaves the field unset. Staged types need the stage column; a deal no user would \
            see (no owner, made by the hub) is an invalid row: give it an owner, or import --as its manager.

            Every row is checked first; the report names the row (the header is row 1), the column and why; \
            --check stops there and imports nothing. \
            When any row is invalid nothing is imported, unless --skip-invalid, which imports the valid rows \
            and reports the rest. Imported records are written by the hub (or --as USER, their creator) and \
            reach every replica that may see them at its next sync. Works while the hub runs.

            Example: opps-hub import accounts.csv --type account --as max --data /srv/opps
            """)

    @Argument(help: "The CSV file.") var file: String
    @Option(help: "The record type, by name or label: opportunity, account (客户), contact, ….") var type: String
    @Option(name: .customLong("as"), help: "The user the records are attributed to (their creator); default: the hub itself.") var author: String?
    @Flag(help: "Import the valid rows even when some are invalid (they are reported).") var skipInvalid = false
    @Flag(help: "Check every row and report, import nothing (exit 1 when a row is invalid).") var check = false
    @OptionGroup var data: DataOption
    @Flag(help: "Print one JSON object: imported, valid_rows, invalid_rows, problems [{row, column, message}].") var json = false

    public init() {}

    public func run() throws {
        let rows = try csvRows(file)
        let engine = try data.openEngine()
        let tty = Console.isTerminal && !json
        let result: HubEngine.ImportResult
        do {
            result = try engine.importRecords(entity: type, rows: rows, author: author, skipInvalid: skipInvalid, check: check) { n in
                if tty { Console.progress(say("\rchecked \(n) of \(rows.count - 1) rows", "\r已检查 \(n) / \(rows.count - 1) 行")) }
            }
        } catch let e as HubError {
            throw CommandFailure(e)
        }
        if tty { Console.progress("\r\u{1B}[K") }
        if json {
            Console.out(try ImportJSON(result).jsonLine())
            if result.imported == 0 && !result.problems.isEmpty { throw ExitCode(1) }
            return
        }
        for p in result.problems { Console.err(say("\(file): \(p)", "\(file)：\(p.chineseDescription)")) }
        let label = Vocabulary(engine.workspace, locale: "zh-CN").entity(result.entity)
        if check {
            let checked = result.validRows + result.invalidRows
            let line = say(
                "checked \(counted(checked, "\(result.entity) row")): \(result.validRows) valid, \(result.invalidRows) invalid; nothing imported (--check)",
                "已检查 \(checked) 行「\(label)」：有效 \(result.validRows) 行，无效 \(result.invalidRows) 行；没有导入（--check）")
            guard result.problems.isEmpty else { throw CommandFailure(line, chinese: line) }
            Console.out(line)
            return
        }
        if result.imported == 0 && !result.problems.isEmpty {
            throw CommandFailure(
                "nothing imported: \(counted(result.invalidRows, "invalid row"))" + (skipInvalid ? "" : " (--skip-invalid imports the others)"),
                chinese: "什么都没有导入：\(result.invalidRows) 行无效" + (skipInvalid ? "" : "（加 --skip-invalid 导入其余的行）"))
        }
        Console.out(
            say(
                "imported \(counted(result.imported, "\(result.entity) record"))"
                    + (result.invalidRows > 0 ? "; skipped \(counted(result.invalidRows, "invalid row"))" : ""),
                "已导入 \(result.imported) 条「\(label)」记录" + (result.invalidRows > 0 ? "；跳过 \(result.invalidRows) 行无效的" : "")))
    }
}
