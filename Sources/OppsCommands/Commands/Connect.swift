import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct ConnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Give this replica a new token, hub URL or CA certificate, keeping all its work.",
        discussion: """
            After the operator rotates your token (opps sync says the token was not accepted), after the hub moves, \
            or when the hub uses a private CA: nothing local is lost, pending writes sync at the next opps sync. \
            The hub is asked first; nothing changes unless it accepts the token as yours.

            Example: opps connect --token opps_NEW
            """)

    @Option(help: "The hub's new URL.") var hub: String?
    @Option(help: "Your new token (from the operator).") var token: String?
    @Option(help: "A PEM file of certificates to trust for the hub (empty: the system's only).") var ca: String?
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the result as one JSON object.") var json = false

    /// The first things a rep types, checked before anything is made; said in the reader's words.
    /// `say` is asked only for a refusal (finding the reader opens the replica).
    static func check(hub: String?, token: String?, ca: String?, say: @autoclosure () -> Phrases) throws {
        if let hub, !(hub.hasPrefix("http://") || hub.hasPrefix("https://")) {
            // The address typed without its scheme (127.0.0.1:8080, hub.example.com): the two it
            // may have meant, for the rep to check against what the operator gave.
            let bare = hub.contains("://") ? nil : hub.trimmingCharacters(in: .whitespaces)
            if let bare, !bare.isEmpty, !bare.contains(" ") {
                throw ValidationError(
                    say()(
                        "--hub must begin with http:// or https://: give the address as the operator gave it (https://\(bare) or http://\(bare)?)",
                        "--hub 必须以 http:// 或 https:// 开头：请按管理员给的地址完整输入（https://\(bare) 还是 http://\(bare)？）"))
            }
            throw ValidationError(say()("--hub must be an http:// or https:// URL", "--hub 必须是 http:// 或 https:// 开头的地址"))
        }
        if let token, !(token.hasPrefix("opps_") && token.count == 69) {
            throw ValidationError(say()("--token must be the opps_… token the operator gave you", "--token 必须是管理员给你的 opps_… 令牌（69 个字符）"))
        }
        if let ca, !ca.isEmpty, !FileManager.default.isReadableFile(atPath: ca) { throw ValidationError(say()("cannot read --ca \(ca)", "无法读取 --ca \(ca)")) }
    }

    /// The CA file as an absolute path: the replica keeps it for later syncs from anywhere.
    static func absolute(_ path: String?) -> String? {
        guard let path, !path.isEmpty, !path.hasPrefix("/") else { return path }
        return FileManager.default.currentDirectoryPath + "/" + path
    }

    func validate() throws {
        guard hub != nil || token != nil || ca != nil else {
            throw ValidationError(home.say("give --token, --hub or --ca (see opps connect --help)", "请给出 --token、--hub 或 --ca（见 opps connect --help）"))
        }
        try Self.check(hub: hub, token: token, ca: ca, say: home.say)
    }

    func run() async throws {
        let replica = try home.open()
        let ca = Self.absolute(self.ca)
        let transport = HTTPTransport(baseURL: hub ?? replica.hubURL, caFile: ca.map { $0.isEmpty ? nil : $0 } ?? replica.caFile)
        defer { Task { await transport.shutdown() } }
        try await replica.connect(hubURL: hub, token: token, caFile: ca, transport: transport)
        let pending = try replica.store.outboxCount()
        if json {
            Console.out(try ConnectJSON(user: replica.user, hub: replica.hubURL, pending: pending).jsonLine())
        } else {
            Console.out(home.words(replica).say.connected(user: replica.user, hub: replica.hubURL, pending: try replica.store.editCount()))
        }
    }
}
