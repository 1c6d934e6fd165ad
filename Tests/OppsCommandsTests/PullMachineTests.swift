import OppsWire
import Testing

@testable import OppsReplica

/// The pull's decisions (sync-protocol.md §6): each repair path, and its bound.
@Suite struct PullMachineTests {
    @Test func pagesAreAskedForUntilTheLastIsVerified() {
        var m = PullMachine()
        #expect(m.on(.applied(more: true, verified: false)) == .ask)
        #expect(m.on(.applied(more: true, verified: true)) == .ask)
        #expect(m.on(.applied(more: false, verified: true)) == .finish)
        #expect(!m.repaired)
    }

    /// A checkpoint that differs: one restart from nothing; a second difference ends the sync.
    @Test func aDifferentChecksumRestartsOnceThenFails() {
        var m = PullMachine()
        #expect(m.on(.applied(more: false, verified: false)) == .restart)
        #expect(m.repaired && m.diverged)
        #expect(m.on(.applied(more: true, verified: true)) == .ask)
        guard case let .fail(message) = m.on(.applied(more: false, verified: false)) else {
            Issue.record("a second difference must end the sync")
            return
        }
        #expect(message.contains("still differs"))
    }

    @Test func aHubBehindIsReconciledAndAnExpiredCursorRestarts() {
        var m = PullMachine()
        #expect(m.on(.refused(.cursorAhead)) == .reconcile)
        #expect(m.repaired && m.diverged)
        var n = PullMachine()
        #expect(n.on(.refused(.cursorExpired)) == .restart)
        // A re-sync because compaction passed the cursor: the replica did not differ.
        #expect(n.repaired && !n.diverged)
        // Repairs are not counted against the checksum's one restart.
        #expect(n.on(.applied(more: false, verified: false)) == .restart)
        #expect(n.diverged)
    }

    /// A hub that answers the same refusal after every repair ends the sync instead of a loop.
    @Test(arguments: [WireError.Code.cursorAhead, .cursorExpired, .workspaceOutdated])
    func aRefusalThatKeepsComingBackIsBounded(code: WireError.Code) {
        var m = PullMachine()
        for _ in 0..<PullMachine.limit {
            let action = m.on(.refused(code))
            #expect(action == .reconcile || action == .restart || action == .migrate)
            #expect(m.on(.applied(more: true, verified: true)) == .ask)
        }
        guard case .fail = m.on(.refused(code)) else {
            Issue.record("the \(code.rawValue) after \(PullMachine.limit) repairs must end the sync")
            return
        }
    }

    @Test func aNewerWorkspaceIsMigratedToWhetherTheHubOrThePageSaysSo() {
        var m = PullMachine()
        #expect(m.on(.refused(.workspaceOutdated)) == .migrate)
        #expect(m.on(.workspaceAhead) == .migrate)
        #expect(m.on(.workspaceAhead) == .migrate)
        guard case .fail = m.on(.workspaceAhead) else {
            Issue.record("a fourth migration in one sync must end it")
            return
        }
        #expect(!m.repaired)
    }

    @Test(arguments: [WireError.Code.unauthenticated, .userDisabled, .rateLimited, .malformedBody, .handshakeRequired])
    func otherRefusalsAreTheSyncsError(code: WireError.Code) {
        var m = PullMachine()
        #expect(m.on(.refused(code)) == .propagate)
    }
}
