import ArgumentParser
import Foundation
import OppsChildProcess
import OppsConsole
import OppsCore
import OppsReplica
import OppsWeb

/// `opps web`: the pipeline in a browser, from this laptop's replica, offline too.
struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web", abstract: "Open the pipeline in your browser: board, deals, today, approvals, reports (works offline).",
        discussion: """
            Serves a web app from this laptop's replica on 127.0.0.1 only, and prints its address. \
            The address holds a key made for this launch: only a browser that opened it gets in (keep it to \
            yourself; a new launch makes a new one). Every edit goes through the same rules and outbox as \
            the command line; the app syncs every few minutes while the hub is reachable, and the Sync \
            button syncs now. Stop it with Ctrl-C.

            Example: opps web --open
            """)

    @Option(help: "The port on 127.0.0.1 (default: a free one).") var port: Int = 0
    @Flag(help: "Open the address in the default browser.") var open = false
    @Option(help: ArgumentHelp("Minutes between background syncs while the hub is reachable (0: only the Sync button).", valueName: "minutes")) var syncMinutes: Int = 5
    @OptionGroup var home: HomeOption

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError(home.say("--port must be 0…65535", "--port 要写 0…65535 之间的数")) }
        guard syncMinutes >= 0 else { throw ValidationError(home.say("--sync-minutes must be 0 or more", "--sync-minutes 要写 0 或更大的数")) }
    }

    func run() async throws {
        let replica = try home.open()  // one clear line when there is no replica here
        let say = home.words(replica).say
        // The page's 中文 / EN switch first, then --locale, then `opps locale`, then the browser's.
        let language = home.chosenLanguage(replica)
        let app = try WebApp(home: home.path, clock: SystemClock()) { url, ca in HTTPTransport(baseURL: url, caFile: ca) }
        let server = WebServer(app: app, port: port, language: language)
        let open = self.open
        let serve: @Sendable () async throws -> Void = {
            try await server.run(port: port) { bound in
                let url = "http://127.0.0.1:\(bound)/?k=\(app.secret)"
                Console.out(say.webApp(url))
                Console.out(say.webKey)
                if open { WebCommand.openBrowser(url, say: say) }
            }
        }
        let minutes = syncMinutes
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await serve() }
            if minutes > 0 {
                group.addTask {
                    while !Task.isCancelled {
                        try await Task.sleep(for: .seconds(minutes * 60))
                        await app.backgroundSync()
                    }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// The program that opens the desktop's browser on an address.
    #if os(macOS)
        static let browserOpener = "open"
    #else
        static let browserOpener = "xdg-open"
    #endif

    /// The desktop's browser on `url`, not waited for: a thread of its own reaps the opener and
    /// says in one line, in the reader's language, when it failed (the address is printed above).
    static func openBrowser(_ url: String, say: Phrases, opener: String = browserOpener) {
        do {
            let child = try ChildProcess("/usr/bin/env", [opener, url])
            Thread.detachNewThread {
                if let line = notOpened(child.waitUntilExit(), opener: opener, say: say) { Console.err(line) }
            }
        } catch {
            Console.err(say.browserNotOpened(opener, status: 127))
        }
    }

    /// What to say when the opener ended with `status`: nothing when it opened the browser.
    static func notOpened(_ status: Int32, opener: String, say: Phrases) -> String? {
        status == 0 ? nil : say.browserNotOpened(opener, status: status)
    }
}
