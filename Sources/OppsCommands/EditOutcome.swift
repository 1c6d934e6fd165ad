import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

func report(_ result: EditResult, json: Bool, _ r: Replica, words: Vocabulary? = nil) throws {
    let words = words ?? Vocabulary(r.workspace, locale: nil)
    let entity = try r.record(result.record)?.entity ?? "opportunity"
    func label(_ field: String) -> String { words.field(entity, field) }
    if json {
        Console.out(try EditJSON(result).jsonLine())
        return
    }
    if !result.applied.isEmpty { Console.out("changed \(result.applied.map(label).joined(separator: ", ")) (pending sync)") }
    let short = try r.shortIDs()
    var told = Set<RecordID>()
    for (i, p) in result.proposed.enumerated() {
        if i < result.requests.count {
            // One request may carry several fields (a loss and its reason): said once.
            let id = result.requests[i]
            guard told.insert(id).inserted else { continue }
            // The request's own field first (a stage move), then what it carries.
            let stageField = r.workspace.entity("opportunity")?.stageField
            let together = result.proposed.indices.filter { $0 < result.requests.count && result.requests[$0] == id }
                .map { result.proposed[$0] }.sorted { ($0.field == stageField ? 0 : 1) < ($1.field == stageField ? 0 : 1) }
            let main = together.first ?? p
            Console.out("requested approval \(short(id)) for \(together.map { label($0.field) }.joined(separator: " and ")): \(main.detail) — see: opps approvals")
        } else {
            Console.out("proposed \(label(p.field)): \(p.detail) — the owner or a manager decides")
        }
    }
}
