import Foundation
import OppsChildProcess
import OppsCore
import Testing

@testable import OppsCommands

/// The replica's disk full or its file damaged: one line that says so and what to do, in the
/// reader's language — not SQLite's "store error 10: prepare: disk I/O error" — and, once
/// there is room again, the replica works as before, nothing of it lost.
@Suite struct ReplicaFileFailureTests {
    @Test func aFullDiskIsSaidAsSuchAndTheReplicaWorksOnceThereIsRoom() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let home = f.home("sam")
            // The disk full, as the process sees it: no file may grow past 512 bytes (the
            // write-ahead log's first frame is 4 KiB), SIGXFSZ ignored so the write fails with EFBIG.
            func limited(_ args: [String], language: String) throws -> (code: Int32, stderr: String) {
                let script = "trap '' XFSZ; ulimit -f 1; exec \"$0\" \"$@\""
                let sh = try ChildProcess(
                    "/bin/sh", ["-c", script, ResumeTests.oppsExecutable] + args, environment: ["LANG": language, "PATH": "/usr/bin:/bin"], standardError: .capture)
                let err = String(decoding: sh.standardError?.readDataToEndOfFile() ?? Data(), as: UTF8.self)
                return (sh.waitUntilExit(), err)
            }
            let deal = try #require(await opps("new", "南山", "一期", "--account", "南山", "--home", home, "--json").json?["id"]?.string)
            let dealFields = await opps("show", deal, "--json", "--home", home).json?["fields"]
            let zh = try limited(["new", "北辰", "试点", "--account", "北辰", "--home", home], language: "zh_CN.UTF-8")
            #expect(zh.code == 1 && zh.stderr == "opps: 无法写入 \(home) 里的副本：磁盘满了或出了故障；本机什么也没有改：腾出空间后再运行一次\n", "\(zh.stderr)")
            let en = try limited(["set", deal, "amount=5", "--home", home], language: "C")
            #expect(en.code == 1 && en.stderr.hasPrefix("opps: cannot write to the replica in \(home): its disk is full or failing"), "\(en.stderr)")
            let sync = try limited(["sync", "--home", home], language: "C")
            #expect(
                sync.code == 1
                    && sync.stderr
                        == "opps: cannot write to the replica in \(home): its disk is full or failing; nothing on this laptop was changed: free some space, then run the command again\n",
                "\(sync.stderr)")
            // Nothing half-made; with room again, the same command works.
            #expect(await opps("list", "--json", "--home", home).json?.array?.count == 1)
            #expect(await opps("show", deal, "--json", "--home", home).json?["fields"] == dealFields)
            #expect(await opps("new", "北辰", "试点", "--account", "北辰", "--home", home).code == 0)
            #expect(await opps("sync", "--home", home).code == 0)
        }
    }

    @Test func aDamagedReplicaIsSaidAsSuchAndKept() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let home = f.home("sam")
            let file = home + "/replica.sqlite"
            // Its first page overwritten: not a database any more.
            let handle = try #require(FileHandle(forWritingAtPath: file))
            try handle.write(contentsOf: Data(repeating: 0x5A, count: 4096))
            try handle.close()
            for name in ["replica.sqlite-wal", "replica.sqlite-shm"] { try? FileManager.default.removeItem(atPath: home + "/" + name) }
            let today = await opps(["today", "--home", home], environment: ["LANG": "zh_CN.UTF-8"])
            #expect(
                today.code == 1
                    && today.stderr == "opps: \(home) 里的副本已损坏，无法读取：请保留这个文件夹（还没同步的修改只在里面），用 opps init --home 在另一个文件夹新建副本\n",
                "\(today.stderr)")
            let json = await opps("status", "--home", home, "--json")
            #expect(json.code == 1 && json.json?["error"]?.string?.hasPrefix("the replica in \(home) is damaged and cannot be read") == true, "\(json.stdout)")
            #expect(FileManager.default.fileExists(atPath: file), "the damaged file is left where it is")
        }
    }
}
