import Foundation
import Logging
import OppsHub
import OppsHubCommands

@main
struct OppsHubExecutable {
    static func main() async {
        LoggingSystem.bootstrap(HubLogHandler.standardError)
        exit(await OppsHubMain.run(Array(CommandLine.arguments.dropFirst())))
    }
}
