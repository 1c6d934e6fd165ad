import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// `opps team …`: the people on a deal besides its owner.
struct TeamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "team", abstract: "The opportunity team: list, add or remove experts and success managers.",
        discussion: """
            A manager's change applies at once (pending sync). The owner's is a request a manager \
            approves (opps approvals); once accepted, the member's field ownership follows the \
            matrix and the deal enters their replica at their next sync.

            Example: opps team add 7dka36sd eve --role expert
            """,
        subcommands: [List.self, Add.self, Remove.self], defaultSubcommand: List.self)

    static func memberships(_ r: Replica, deal: RecordID) throws -> [Record] { try r.memberships(of: deal) }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a deal's team.", discussion: "Example: opps team list 7dka36sd")
        @Argument(help: "The deal: its short id as opps list prints it, or its exact name.") var id: String
        @OptionGroup var home: HomeOption
        @Flag(help: "Print a JSON array.") var json = false

        func run() throws {
            let r = try home.open()
            let deal = try dealID(r, id, reading: true)
            let members = try TeamCommand.memberships(r, deal: deal)
            if json {
                Console.out(
                    try members.map { m in
                        TeamMemberJSON(id: m.id.description, user: m["user"], role: m["role"], state: m["state"].isNull ? .text("requested") : m["state"])
                    }.jsonLine())
                return
            }
            let words = home.words(r)
            let short = try r.shortIDs()
            let name = try r.record(deal)?["name"].canonicalText ?? short(deal)
            // The deal by name, its members a line each (user, role on the deal, state), then how
            // to change it with the deal's id in place.
            if members.isEmpty {
                Console.out(words.say.noTeam(name, id: short(deal)))
                return
            }
            Console.out(words.say.teamOf(name))
            let rows = members.map { m in
                [
                    short(m.id), words.value("membership", "user", m["user"]), words.value("membership", "role", m["role"]),
                    m["state"].isNull ? words.member("membership", "state", "requested") : words.value("membership", "state", m["state"]),
                ]
            }
            for line in table(rows) { Console.out("  " + line) }
            Console.out(words.say.teamCommands(id: short(deal)))
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user to a deal's team (the owner requests, a manager approves).", discussion: "Example: opps team add 7dka36sd eve --role expert")
        @Argument(help: "The deal: its short id as opps list prints it, or its exact name.") var id: String
        @Argument(help: "The user to add.") var user: String
        @Option(help: "Their role on the deal: expert or success, or its label; default: the role they have on other deals' teams here.")
        var role: String?
        @OptionGroup var home: HomeOption
        @Flag(help: "Print the outcome as JSON.") var json = false

        func run() throws {
            let r = try home.open()
            let deal = try dealID(r, id)
            let choices = home.say("--role expert (product expert) or --role success (customer success)", "--role 产品专家 或 --role 客户成功经理")
            let role: String
            if let typed = self.role {
                let member = r.workspace.entity("membership")?.field("role")?.member(input: typed)
                guard let member, ["expert", "success"].contains(member) else {
                    throw ValidationError(home.say("a team role is \(choices)", "团队角色写 \(choices)"))
                }
                role = member
            } else if let seen = try r.teamRole(of: user) {
                role = seen
            } else {
                throw ValidationError(
                    home.say("say \(user)'s role on this deal: \(choices)", "请写明 \(user) 在这个商机上的角色：\(choices)"))
            }
            let result = try r.addTeamMember(deal: deal, user: user, role: role)
            if json { try report(result, json: true, r, words: home.words(r)); return }
            let words = home.words(r)
            if let req = result.requests.first {
                Console.out(words.say.teamRequested(user, as: words.member("membership", "role", role), approval: try r.shortIDs()(req)))
            } else {
                Console.out(words.say.teamAdded(user, as: words.member("membership", "role", role)))
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a user from a deal's team (the owner requests, a manager approves).", discussion: "Example: opps team remove 7dka36sd eve")
        @Argument(help: "The deal: its short id as opps list prints it, or its exact name.") var id: String
        @Argument(help: "The user to remove.") var user: String
        @OptionGroup var home: HomeOption
        @Flag(help: "Print the outcome as JSON.") var json = false

        func run() throws {
            let r = try home.open()
            let deal = try dealID(r, id)
            guard let m = try TeamCommand.memberships(r, deal: deal).first(where: { $0["user"] == .text(user) && $0["state"] == .member("active") }) else {
                throw ReplicaError.invalid("\(user) is not an active member of this deal's team", chinese: "\(user) 不是这个商机团队的有效成员")
            }
            let result = try r.edit(m.id, [("state", .member("removed"))])
            if json { try report(result, json: true, r, words: home.words(r)); return }
            let words = home.words(r)
            if let req = result.requests.first {
                Console.out(words.say.teamRemoveRequested(user, approval: try r.shortIDs()(req)))
            } else {
                Console.out(words.say.teamRemoved(user))
            }
        }
    }
}
