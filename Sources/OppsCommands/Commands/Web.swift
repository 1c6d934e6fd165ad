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
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        guard syncMinutes >= 0 else { throw ValidationError("--sync-minutes must be 0 or more") }
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
                if open { WebCommand.openBrowser(url) }
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

    /// The desktop's browser on `url` (`xdg-open`; `open` on macOS), not waited for: its exit
    /// is reaped by a thread of its own, so no child is left a zombie.
    static func openBrowser(_ url: String) {
        #if os(macOS)
            let arguments = ["open", url]
        #else
            let arguments = ["xdg-open", url]
        #endif
        do {
            let child = try ChildProcess("/usr/bin/env", arguments)
            Thread.detachNewThread { child.waitUntilExit() }
        } catch {
            Console.err("opps: could not open a browser (\(error)): open the address above")
        }
    }
}
