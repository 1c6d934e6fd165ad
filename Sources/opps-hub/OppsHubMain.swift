import Logging
import OppsHubCommands

@main
struct OppsHubMain {
    static func main() async {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let run: () async -> Void = OppsHub.main
        await run()
    }
}
