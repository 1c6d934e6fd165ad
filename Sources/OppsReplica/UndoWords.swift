import OppsCore
import OppsStore

extension Replica {
    /// What taking back `edit` does, one line a record it wrote, in the reader's words (`opps
    /// undo`, the web app's Undo): a record it made is gone (a request by what it asked:
    /// `去掉了申请（折扣 → 18%）`), one it deleted is not deleted, each field shown changed is
    /// back to what it held (`下一步 恢复为（空）（撤销前：「发报价」）`), a proposal is not sent.
    /// Read before `undo(_:)`: the records it made are gone after. `value`: a value as the
    /// surface shows it (entity, field, value: `opps show`'s, the web's), quoted here.
    public func undoneLines(
        _ edit: LastEdit, words: Vocabulary, value: (String, String, Value) throws -> String
    ) throws -> [(
        record: RecordID, text: String
    )] {
        let chinese = words.readsChinese
        func say(_ en: String, _ zh: String) -> String { chinese ? zh : en }
        func shown(_ entity: String, _ field: String, _ v: Value) throws -> String {
            if v.isNull { return say("(empty)", "（空）") }
            let text = try value(entity, field, v)
            return say("\"\(text)\"", "「\(text)」")
        }
        var out = [(record: RecordID, text: String)]()
        // Deals first (a new deal before the account made for it), then in the order written.
        let records = try edit.records.compactMap { try record($0) }
        let ordered = records.filter { workspace.entity($0.entity)?.stageField != nil } + records.filter { workspace.entity($0.entity)?.stageField == nil }
        for record in ordered {
            let id = record.id
            var subject = try self.subject(id, words: words)?.title ?? words.entity(record.entity)
            let isRequest = record.entity == workspace.approvalRequests
            if isRequest, !edit.made.contains(id) {
                // A request by what it asks (its subject would be its decision's note).
                let deal = try self.subject(id, words: words)?.deal.flatMap { try self.record($0) }?["name"].canonicalText
                let asked = requested(record, words: words, chinese: chinese)
                subject = (deal.map { $0 + " · " } ?? "") + say("request (\(asked))", "申请（\(asked)）")
            }
            if edit.made.contains(id) {
                if isRequest {
                    let asked = requested(record, words: words, chinese: chinese)
                    out.append((id, say("the request (\(asked)) is gone", "去掉了申请（\(asked)）")))
                } else {
                    out.append((id, say("the new \(words.entity(record.entity)) \(subject) is gone", "去掉了新建的\(words.entity(record.entity))：\(subject)")))
                }
                continue
            }
            var parts = [String]()
            if edit.deleted.contains(id) { parts.append(say("not deleted", "不再删除")) }
            // The stage log is the stage's move again, in its storage form: the stage's line says it.
            // (A deletion's own line has no field: "not deleted" says it.)
            for line in edit.lines where line.record == id && line.field != workspace.stageHistory && !line.field.isEmpty {
                let label = words.field(record.entity, line.field)
                let old = try shown(record.entity, line.field, line.old), new = try shown(record.entity, line.field, line.new)
                parts.append(say("\(label) back to \(old) (was \(new))", "\(label) 恢复为\(old)（撤销前：\(new)）"))
            }
            for p in edit.proposals where p.record == id {
                let label = words.field(record.entity, p.field)
                parts.append(
                    say(
                        "the proposal \(label) → \(try shown(record.entity, p.field, p.value)) is not sent",
                        "不再提议 \(label) → \(try shown(record.entity, p.field, p.value))"))
            }
            for c in edit.reopens where c.record == id { parts.append(say("conflict #\(c.id) open again", "冲突 #\(c.id) 重新打开")) }
            if !parts.isEmpty { out.append((id, subject + say(": ", "：") + parts.joined(separator: say("; ", "；")))) }
        }
        return out
    }
}
