import Foundation
import OppsCommands

exit(await OppsMain.run(Array(CommandLine.arguments.dropFirst())))
