import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create this laptop's replica, connect it to the hub, and do the first full sync.",
        discussion: """
            Run again with the same hub URL and token after a first sync that was cut short (Ctrl-C, a \
            dropped link), it carries that sync on from where it stopped.

            Example: opps init --hub http://127.0.0.1:8080 --token opps_…
            """)

    @Option(help: "The hub's URL, e.g. http://127.0.0.1:8080.")
    var hub: String

    @Option(help: "Your token (from the operator's 'opps-hub user add').")
    var token: String

    @Option(help: "A PEM file of certificates to trust for an https:// hub with a private CA or a self-signed certificate.")
    var ca: String?

    @OptionGroup var home: HomeOption

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func validate() throws {
        try ConnectCommand.check(hub: hub, token: token, ca: ca, say: home.say)
    }

    func run() async throws {
        let ca = ConnectCommand.absolute(self.ca)
        let transport = HTTPTransport(baseURL: hub, caFile: ca)
        defer { Task { await transport.shutdown() } }
        let replica: Replica
        // The handshake is the first exchange with the hub: on a slow link, say what it waits for.
        let line = TerminalLine(Console.isTerminal && !json)
        // A first sync cut short here before: carried on, not refused as a replica already made.
        if let unfinished = try Replica.unfinished(home: home.path, hubURL: hub, token: token, clock: SystemClock()) {
            replica = unfinished
            if !json { Console.err(home.words(unfinished).say.resumingFirstSync(records: try unfinished.store.recordCount())) }
        } else {
            replica = try await made(transport: transport, ca: ca, line: line)
        }
        // `opps init --locale zh-CN` keeps the language as this laptop's setting (opps locale).
        if let locale = home.locale { try replica.store.setMeta("locale", locale) }
        let words = home.words(replica)
        let report = try await SyncCommand.perform(replica, transport: transport, json: json, say: words.say)
        if json {
            Console.out(try InitJSON(user: replica.user, role: replica.role, home: home.path, pulled: report.pulled).jsonLine())
        } else {
            Console.out(words.say.replicaMade(user: replica.user, role: words.role(replica.role), home: home.path, records: try replica.store.recordCount()))
            // A marketer (a role that makes deals only at the hand-off's first stage) works on
            // leads: their next commands are the lead list's, not a rep's day and board.
            let handoff = replica.workspace.handoff
            let makesLeads = handoff.map { replica.workspace.entity("opportunity")?.create[replica.role] == [$0.from] } ?? false
            let next = makesLeads ? words.say.afterInitLeads : words.say.afterInit(hasDeals: try replica.store.recordCount(entity: "opportunity", upTo: 1) > 0)
            Console.out(hanging("", next))
        }
    }

    /// The replica made by the handshake, with what a failed one means at init.
    func made(transport: HTTPTransport, ca: String?, line: TerminalLine) async throws -> Replica {
        let waiting = line.waiting(home.say.connecting(hub: hub))
        do {
            // Ended with the handshake (answered or failed), before the first sync's own line.
            defer {
                waiting.cancel()
                line.end()
            }
            return try await Replica.create(home: home.path, hubURL: hub, token: token, caFile: ca, transport: transport, clock: SystemClock())
        } catch let ReplicaError.unreachable(why) {
            throw ReplicaError.unreachableAtInit(why)
        } catch let ReplicaError.authentication(why) {
            throw ReplicaError.authenticationAtInit(why)
        } catch let ReplicaError.certificate(why) {
            throw ReplicaError.certificateAtInit(why)
        } catch let ReplicaError.wrongAddress(what, _) {
            throw ReplicaError.wrongAddress(what, atInit: true)
        }
    }
}
