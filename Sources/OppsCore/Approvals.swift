/// Approval requests (DOMAIN.md "approvals"; merge-semantics.md §7): what a proposal made on a
/// laptop becomes, so an approver can decide it offline too.
extension Approvals {
    /// The request's field its creator sets (to true, once) to take a request back before it is
    /// decided (merge-semantics.md §7.1 "Withdrawal"); a workspace without it has no withdrawal.
    public static let withdrawnField = "withdrawn"

    /// The request states a decision writes: what an approver may write in `state`.
    public static let decisions: Set<String> = ["approved", "rejected"]

    /// Whether a pending request of this kind locks the deal's locked groups (the threshold
    /// kinds: a discount above the threshold, leaving a stage with an amount above it).
    public func locks(kind: Value) -> Bool {
        guard case let .member(k) = kind else { return false }
        return rules.contains { $0.field == k }
    }

    /// Whether `field` of `record` is locked for `role` now: a commercial field while an
    /// approval is pending, for anyone but an approver (DOMAIN.md approvals). The resolver
    /// refuses such a write (`approval-pending`); a page shows the field read-only.
    public func locks(_ field: Field, of record: Record, in entity: Entity, for role: String) -> Bool {
        !approvers.contains(role) && lockGroups.contains(field.group) && entity.field(stateField) != nil && record[stateField] == .member("pending")
    }
}

extension Workspace {
    /// The kind of approval request a proposed write becomes: the threshold's field for
    /// `approval-required`, `loss` for a confirmation to a closing stage, `team` for a team
    /// membership, `change` otherwise — or `change` when the request entity lacks that kind.
    public func approvalKind(of write: FieldWrite, rule: RuleID) -> String {
        let e = entity(write.entity)
        var kind = "change"
        switch rule {
        case .approvalRequired:
            if write.field == e?.stageField {
                let leaving = approvals?.rules.first { $0.leaving != nil }
                kind = leaving?.field ?? kind
            } else {
                kind = write.field
            }
        case .needsConfirmation:
            if case let .member(s) = write.value, stage(s)?.fromAnyOpen == true { kind = "loss" }
        default:
            if write.entity == "membership" { kind = "team" }
        }
        guard let requests = approvals?.requests, case let .enumeration(members)? = entity(requests)?.field("kind")?.type,
            members.contains(kind)
        else { return "change" }
        return kind
    }

    /// The deal a record belongs to: itself for the staged entity, else the record it hangs off.
    public func deal(of record: Record) -> RecordID? {
        guard let e = entity(record.entity) else { return nil }
        if e.stageField != nil { return record.id }
        if let via = e.visibleVia, case let .reference(id) = record[via] { return id }
        return nil
    }
}
