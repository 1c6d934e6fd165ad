import Foundation
import OppsFuzzing

/// libFuzzer's entry point (built only by Tools/fuzz.sh, with -sanitize=fuzzer,address).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Fuzzing.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// Before the corpus is read: an empty corpus folder named by OPPS_FUZZ_SEEDS gets the
/// harness's seeds (one real input per decoder).
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    guard let dir = ProcessInfo.processInfo.environment["OPPS_FUZZ_SEEDS"],
          (try? FileManager.default.contentsOfDirectory(atPath: dir))?.isEmpty == true else { return 0 }
    for (i, seed) in Fuzzing.seeds.enumerated() {
        FileManager.default.createFile(atPath: "\(dir)/seed-\(i)", contents: Data(seed))
    }
    return 0
}
