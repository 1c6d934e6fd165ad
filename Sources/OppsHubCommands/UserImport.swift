import ArgumentParser
import Foundation
import OppsCSV
import OppsConsole
import OppsCore
import OppsHub
import OppsStore

extension UserCommand {
    /// `opps-hub user import`: a whole team at once, from the CSV an HR list or the old CRM gives.
    public struct Import: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Add the users of a CSV file, all or none, and print their tokens (shown once).",
            discussion: """
                The file is CSV (RFC 4180, UTF-8): a header row, then one user a row. Columns: name and role \
                (required), team, territory, manager, capacity — by these names in any case, or by the Chinese \
                heads of opps-hub user list. A role by its name or label; \
                a manager is a user of the hub or a row of the file. Every row is checked first; when any is \
                invalid, nobody is added. The tokens go to stdout as CSV (name,token): redirect it to a file \
                only you can read, and give each user theirs (opps init --hub URL --token TOKEN).

                Example: opps-hub user import team.csv --data /srv/opps (add > tokens.csv to keep the tokens in a file)
                """)

        @Argument(help: "The CSV file.") var file: String
        @OptionGroup var data: DataOption
        @Flag(help: "Print a JSON array of {name, role, token}.") var json = false

        public init() {}

        /// A header cell's column: English names in any case, or the Chinese heads of `user list`.
        static func column(_ cell: String) -> String? {
            let names = ["name", "role", "team", "territory", "manager", "capacity"]
            let chinese = ["用户名": "name", "角色": "role", "团队": "team", "区域": "territory", "经理": "manager", "容量": "capacity"]
            let key = cell.trimmingSpaces
            return names.first { $0 == key.lowercased() } ?? chinese[key]
        }

        public func run() throws {
            let rows = try csvRows(file)
            guard let header = rows.first, rows.count > 1 else {
                throw CommandFailure("\(file) has no users: a header row, then one user a row", chinese: "\(file) 里没有用户：第一行是表头，之后每行一个用户")
            }
            let columns = header.fields.map(Self.column)
            if let i = columns.firstIndex(of: nil) {
                throw CommandFailure(
                    "\(file): row 1: unknown column \"\(header.fields[i])\" (name, role, team, territory, manager, capacity)",
                    chinese: "\(file)：第 1 行：没有「\(header.fields[i])」这一列（可用：用户名、角色、团队、区域、经理、容量）")
            }
            if let twice = columns.enumerated().first(where: { i, c in columns[..<i].contains(c) }) {
                throw CommandFailure(
                    "\(file): row 1: the column \"\(header.fields[twice.offset])\" appears twice", chinese: "\(file)：第 1 行：「\(header.fields[twice.offset])」这一列出现了两次")
            }
            guard columns.contains("name"), columns.contains("role") else {
                throw CommandFailure("\(file): row 1: the name and role columns are required", chinese: "\(file)：第 1 行：必须有用户名和角色两列")
            }
            // Each row as a user; a cell that cannot be read is a problem of its row.
            var users = [(row: Int, user: HubUser)]()
            var problems = [HubEngine.ImportProblem]()
            for row in rows.dropFirst() {
                guard row.fields.count == header.fields.count else {
                    problems.append(
                        HubEngine.ImportProblem(
                            row: row.line, column: "-", message: "expected \(header.fields.count) cells, found \(row.fields.count)",
                            chinese: "应有 \(header.fields.count) 个单元格，这一行有 \(row.fields.count) 个"))
                    continue
                }
                var cells = [String: String]()
                for (column, cell) in zip(columns, row.fields) where !cell.trimmingSpaces.isEmpty { cells[column!] = cell.trimmingSpaces }
                // A capacity that is not a number is this row's problem; the row is still checked
                // for the rest.
                var capacity: Int?
                if let c = cells["capacity"] {
                    capacity = Int(c)
                    if capacity == nil {
                        problems.append(
                            HubEngine.ImportProblem(row: row.line, column: "capacity", message: "not a whole number: \(c)", chinese: "「\(c)」不是整数"))
                    }
                }
                users.append(
                    (
                        row.line,
                        HubUser(
                            name: cells["name"] ?? "", role: cells["role"] ?? "", team: cells["team"], territory: cells["territory"],
                            manager: cells["manager"], capacity: capacity)
                    ))
            }
            let engine = try data.openEngine()
            problems += try adminCall { try engine.problemsAdding(users) }
            guard problems.isEmpty else {
                // Each problem at its row, its column as the file heads it.
                for var p in problems.sorted(by: { $0.row < $1.row }) {
                    if let i = columns.firstIndex(of: p.column) { p.column = header.fields[i] }
                    Console.err(say("\(file): \(p)", "\(file)：\(p.chineseDescription)"))
                }
                let invalid = Swift.Set(problems.map(\.row)).count
                throw CommandFailure("nobody added: \(counted(invalid, "invalid row"))", chinese: "没有添加任何用户：\(invalid) 行无效")
            }
            var rng = SystemRandomNumberGenerator()
            let tokens = try adminCall { try engine.addUsers(users.map(\.user), rng: &rng) }
            // Each role as stored (by its name, though the file may have given a label).
            let roles = Dictionary(try engine.store.users().map { ($0.name, $0.role) }, uniquingKeysWith: { a, _ in a })
            func role(_ name: String) -> String { roles[name] ?? "" }
            if json {
                Console.out(try zip(users, tokens).map { UserTokenJSON(name: $0.0.user.name, role: role($0.0.user.name), token: $0.1) }.jsonLine())
                return
            }
            Console.out("name,token")
            for (entry, token) in zip(users, tokens) { Console.out(CSV.line([entry.user.name, token])) }
            Console.err(
                say(
                    "added \(counted(users.count, "user")); their tokens (shown once) are on stdout: give each user theirs (opps init --hub URL --token TOKEN)",
                    "已添加 \(users.count) 个用户；他们的令牌（只显示这一次）在标准输出：把令牌分别交给各自的用户（opps init --hub 服务器地址 --token 令牌）"))
        }
    }
}
