import Foundation
import FuzzerDriver
import OppsFuzzing

// libFuzzer over every decoder a user's bytes reach (Tools/Fuzzing). Built only by
// Tools/fuzz.sh, with -sanitize=fuzzer,address; takes libFuzzer's flags.

/// One input.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    Fuzzing.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// An empty corpus folder named by OPPS_FUZZ_SEEDS gets the harness's seeds first.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    if let dir = ProcessInfo.processInfo.environment["OPPS_FUZZ_SEEDS"], (try? FileManager.default.contentsOfDirectory(atPath: dir))?.isEmpty == true {
        for (i, seed) in Fuzzing.seeds.enumerated() { FileManager.default.createFile(atPath: "\(dir)/seed-\(i)", contents: Data(seed)) }
    }
    return 0
}

// SwiftPM gives the executable this main; libFuzzer's driver does the rest.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { testOneInput($0, $1) })
