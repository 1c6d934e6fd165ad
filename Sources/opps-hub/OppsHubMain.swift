import Foundation
import Logging
import OppsHubCommands

@main
struct OppsHubExecutable {
    static func main() async {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        exit(await OppsHubMain.run(Array(CommandLine.arguments.dropFirst())))
    }
}
