import Foundation

/// The hub actor's own thread. Every call into the engine blocks on SQLite — a push waits for its
/// fsync — and Swift's cooperative pool has one thread per core (two here): a hub running on it
/// left one thread for every HTTP connection, client and timer while it waited on the disk. On
/// its own thread the hub blocks only itself (BENCHMARKS.md, concurrent syncs).
final class HubExecutor: SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0
    private var stopping = false

    init(name: String) {
        let thread = Thread { self.run() }
        thread.name = name
        thread.stackSize = 4 << 20
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }

    /// Lets the thread end once no job is left (the hub that owned it is gone; the simulator
    /// opens a hub per seed and per simulated crash).
    func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    /// Runs jobs in the order they came until shut down.
    private func run() {
        while true {
            condition.lock()
            while head == jobs.count && !stopping { condition.wait() }
            if head == jobs.count {
                condition.unlock()
                return
            }
            let job = jobs[head]
            head += 1
            if head > 1024 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }
}
