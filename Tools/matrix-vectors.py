#!/usr/bin/env python3
"""Writes the ownership-matrix vectors of Protocol/vectors/resolve.json from DOMAIN.md's matrix.

The expectations come from this file's own reading of DOMAIN.md ("Who may write what" and
"Visibility"), not from the Swift resolver, so the vectors check the default workspace against the
text: one case per (role, field group, stage) for four stages that put every cell in and out of
the stages it names. Cases this script writes are named "cell: ..." and replaced on each run; every
other case is kept. Run it after changing DOMAIN.md's matrix or this model, then run the tests.

    python3 Tools/matrix-vectors.py
"""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
VECTORS = ROOT / "Protocol" / "vectors" / "resolve.json"

# One field per group, with a value that fits it and no threshold or gate of its own.
GROUPS = {
    "lead": ("lead_source", {"member": "event"}),
    "identity": ("name", {"text": "北辰物流 二期"}),
    "discovery": ("needs", {"text": "replace the legacy CRM"}),
    "commercials": ("close_date", {"date": "2027-06-30"}),
    "renewal": ("renewal_amount", {"decimal": "50000.00"}),
    "terms": ("quote_terms", {"text": "net 60"}),
    "solution": ("solution", {"text": "two-node cluster"}),
    "next_step": ("next_step", {"text": "send the quote"}),
    "team": ("owner", {"text": "tom"}),
    "loss": ("loss_reason", {"member": "price"}),
    "postsale": ("health", {"member": "green"}),
    "approval": ("approval_state", {"member": "approved"}),
    "history": ("stage_log", {"text": "1 lead mia"}),
}

STAGES = ["lead", "qualified", "solution", "won"]
LEAD_PHASE = {"lead", "qualified"}

ACTORS = {
    # role: (user, relations to the record: a lead mia made, owned by sam from qualified on)
    "marketing": ("mia", ["creator"]),
    "sales": ("sam", ["owner"]),
    "expert": ("eve", ["team"]),
    "success": ("sue", ["team"]),
    "manager": ("max", ["managed"]),
}


def sees(role, stage):
    """DOMAIN.md visibility: marketing its own leads (and their status after the hand-off); a rep
    their own and team deals; an expert the deals they are on; success won accounts; a manager
    their team's."""
    if role == "success":
        return stage == "won"
    return True


def cell(role, group, stage):
    """The matrix cell as an access letter: O, W, P, R, or - (not visible)."""
    lead = stage in LEAD_PHASE
    won = stage == "won"
    m = {
        "lead": {"marketing": "O" if lead else "R", "sales": "W" if stage == "qualified" else "R",
                 "expert": "R", "success": "R", "manager": "W"},
        "identity": {"marketing": "W" if lead else "R", "sales": "O" if stage != "lead" else "R",
                     "expert": "R", "success": "W" if won else "R", "manager": "W"},
        "discovery": {"marketing": "-", "sales": "O", "expert": "R", "success": "R", "manager": "W"},
        # Marketing reads commercials while the lead is its own; after the hand-off it sees only
        # the status (identity, lead data, stage) of what it handed off.
        "commercials": {"marketing": "R" if lead else "-", "sales": "O", "expert": "R", "success": "R", "manager": "W"},
        "renewal": {"marketing": "-", "sales": "R", "expert": "-", "success": "O", "manager": "W"},
        "terms": {"marketing": "-", "sales": "O", "expert": "R", "success": "R", "manager": "O"},
        "solution": {"marketing": "-", "sales": "W", "expert": "O" if stage == "solution" else "R", "success": "R", "manager": "R"},
        # An expert's cell is "W on tasks assigned to them": the deal's own next step she reads.
        "next_step": {"marketing": "O" if lead else "-", "sales": "R" if lead else "O", "expert": "R",
                      "success": "O" if won else "R", "manager": "W"},
        "team": {"marketing": "-", "sales": "P", "expert": "-", "success": "-", "manager": "O"},
        "loss": {"marketing": "-", "sales": "P", "expert": "R", "success": "R", "manager": "O"},
        "postsale": {"marketing": "-", "sales": "R", "expert": "R", "success": "O", "manager": "W"},
        "approval": {"marketing": "-", "sales": "R", "expert": "-", "success": "R", "manager": "O"},
        # The stage log is written by the hub alone (merge-semantics.md §7.1).
        "history": {"marketing": "R", "sales": "R", "expert": "R", "success": "R", "manager": "R"},
    }
    return m[group][role]


def expect(letter, value):
    if letter in ("O", "W"):
        return {"outcome": "applied", "rule": "base-current", "winner": value}
    if letter == "P":
        return {"outcome": "proposal", "rule": "propose-only"}
    if letter == "R":
        return {"outcome": "rejected", "rule": "read-only"}
    return {"outcome": "rejected", "rule": "not-visible"}


def cases():
    out = []
    for group, (field, value) in GROUPS.items():
        for role, (user, relations) in ACTORS.items():
            for stage in STAGES:
                letter = cell(role, group, stage) if sees(role, stage) else "-"
                fields = {"stage": {"member": stage}}
                if stage != "lead":
                    fields["owner"] = {"text": "sam"}
                out.append({
                    "name": f"cell: {role} × {group} in {stage}",
                    "covers": f"matrix {group}×{role} {letter} in {stage}" + ("" if sees(role, stage) else " (record not visible)"),
                    "actor": {"user": user, "role": role, "relations": relations},
                    "record": {"entity": "opportunity", "creator": "mia", "fields": fields},
                    "write": {"kind": "set", "hlc": 2000, "replica": 7, "base": "current", "field": field, "value": value},
                    "expect": expect(letter, value),
                })
    return out


# DOMAIN.md's stage table, "what must be true to leave it", field by field.
GATES = {
    "lead": ("mia", "marketing", ["creator"], "qualified",
             {"lead_source": {"member": "web"}, "account": {"reference": "0190a1b2-0000-7000-8000-00000000000a"},
              "contact": {"reference": "0190a1b2-0000-7000-8000-00000000000c"}, "qualification": {"text": "budget confirmed"},
              "check_need": {"boolean": True}, "check_budget": {"boolean": True}, "check_timing": {"boolean": True}, "check_contact": {"boolean": True}}),
    "qualified": ("sam", "sales", ["owner"], "discovery",
                  {"owner": {"text": "sam"}, "check_need": {"boolean": True}, "check_budget": {"boolean": True},
                   "check_timing": {"boolean": True}, "check_contact": {"boolean": True}}),
    "discovery": ("sam", "sales", ["owner"], "solution",
                  {"owner": {"text": "sam"}, "needs": {"text": "ERP"}, "decision_makers": {"text": "CFO"},
                   "amount": {"decimal": "120000.00"}, "close_date": {"date": "2027-03-31"}}),
    "solution": ("sam", "sales", ["owner"], "proposal",
                 {"owner": {"text": "sam"}, "solution": {"text": "on premise"}, "tech_risk": {"member": "low"}}),
    "proposal": ("sam", "sales", ["owner"], "negotiation",
                 {"owner": {"text": "sam"}, "quote_terms": {"text": "net 60"}, "amount": {"decimal": "120000.00"}, "currency": {"member": "CNY"}}),
    "negotiation": ("sam", "sales", ["owner"], "won",
                    {"owner": {"text": "sam"}, "amount": {"decimal": "120000.00"}, "quote_terms": {"text": "net 60"}}),
}


def gates():
    """Each stage's gate with one required field missing at a time: refused, naming it."""
    out = []
    for stage, (user, role, relations, to, required) in GATES.items():
        for missing in required:
            if stage == "lead" and missing.startswith("check_"):
                continue  # the hand-off checklist has its own rule (handoff-checklist), in the hand-written cases
            if missing == "owner" and stage != "qualified":
                continue  # there only to make sam the owner who moves it
            fields = {"stage": {"member": stage}}
            fields.update({k: v for k, v in required.items() if k != missing})
            out.append({
                "name": f"gate: leaving {stage} without {missing}",
                "covers": f"DOMAIN.md stage table: leaving {stage} needs {missing}",
                "actor": {"user": user, "role": role, "relations": relations},
                "record": {"entity": "opportunity", "creator": "mia" if stage in LEAD_PHASE else "sam", "fields": fields},
                "write": {"kind": "set", "hlc": 2000, "replica": 7, "base": "current", "field": "stage", "value": {"member": to}},
                "expect": {"outcome": "rejected", "rule": "stage-gate", "missing": [missing]},
            })
        fields = {"stage": {"member": stage}}
        fields.update(required)
        out.append({
            "name": f"gate: leaving {stage} with everything it needs",
            "covers": f"DOMAIN.md stage table: {stage} → {to}",
            "actor": {"user": user, "role": role, "relations": relations},
            "record": {"entity": "opportunity", "creator": "mia" if stage in LEAD_PHASE else "sam", "fields": fields},
            "write": {"kind": "set", "hlc": 2000, "replica": 7, "base": "current", "field": "stage", "value": {"member": to}},
            "expect": {"outcome": "applied", "rule": "base-current", "winner": {"member": to}},
        })
    return out


AUTHORITY = {3: "write", 4: "own", 5: "override"}


def state(value, hlc, replica, author, authority, sequence):
    return {"value": value, "hlc": hlc, "replica": replica, "author": author, "authority": AUTHORITY[authority], "sequence": sequence}


def rules():
    """DOMAIN.md's conflict rules and the acts the matrix names, one case each."""
    deal = lambda **f: {"entity": "opportunity", "creator": "sam", "fields": {"stage": {"member": "solution"}, "owner": {"text": "sam"}, **f}}
    task = lambda assignee: {"entity": "task", "creator": "sam", "fields": {"text": {"text": "send the quote"}, "assignee": {"text": assignee}}}
    return [
        {"name": "rule: a losing write is kept with who, when and the value",
         "covers": "DOMAIN.md conflict rule 3: the conflict record holds the loser's value, author and clock; the winner stays",
         "actor": {"user": "sam", "role": "sales", "relations": ["owner"]},
         "record": deal(amount=state({"decimal": "90000.00"}, 3000, 2, "max", 5, 4)),
         "write": {"kind": "set", "hlc": 2500, "replica": 7, "base": {"sequence": 3}, "field": "amount", "value": {"decimal": "80000.00"}},
         "expect": {"outcome": "lost", "rule": "authority", "winner": {"decimal": "90000.00"},
                    "conflict": {"value": {"decimal": "80000.00"}, "author": "sam", "hlc": 2500}}},
        {"name": "rule: a manager restoring a lost value overrides the owner",
         "covers": "DOMAIN.md conflict rule 3: the owner or manager can restore (a restore is the manager's override write)",
         "actor": {"user": "max", "role": "manager", "relations": ["managed"]},
         "record": deal(amount=state({"decimal": "90000.00"}, 3000, 2, "sam", 4, 4)),
         "write": {"kind": "set", "hlc": 2000, "replica": 9, "base": {"sequence": 3}, "field": "amount", "value": {"decimal": "80000.00"}},
         "expect": {"outcome": "won", "rule": "authority", "winner": {"decimal": "80000.00"}}},
        {"name": "rule: two fields edited offline at once both land",
         "covers": "DOMAIN.md conflict rule 4 (I3): the rep changed the amount meanwhile; the expert's solution written on the old state still applies",
         "actor": {"user": "eve", "role": "expert", "relations": ["team"]},
         "record": deal(solution=state({"text": "one node"}, 1500, 2, "eve", 4, 3), amount=state({"decimal": "95000.00"}, 2500, 3, "sam", 4, 9)),
         "write": {"kind": "set", "hlc": 2000, "replica": 7, "base": {"sequence": 3}, "field": "solution", "value": {"text": "two-node cluster"}},
         "expect": {"outcome": "applied", "rule": "base-current", "winner": {"text": "two-node cluster"}}},
        {"name": "rule: another user's activity on the same deal is a record of its own",
         "covers": "DOMAIN.md conflict rule 5 (I8): activities merge as a union: a new activity is a create, never a conflict",
         "actor": {"user": "eve", "role": "expert", "relations": ["team"]},
         "record": None,
         "write": {"kind": "create", "entity": "activity", "hlc": 2000, "replica": 7, "base": "none", "value": None},
         "expect": {"outcome": "applied", "rule": "create"}},
        {"name": "rule: success accepts a won deal by naming the onboarding owner",
         "covers": "DOMAIN.md stage table: won — success accepts the hand-off (onboarding owner); matrix post-sale×success O",
         "actor": {"user": "sue", "role": "success", "relations": []},
         "record": {"entity": "opportunity", "creator": "sam", "fields": {"stage": {"member": "won"}, "owner": {"text": "sam"}}},
         "write": {"kind": "set", "hlc": 2000, "replica": 7, "base": "current", "field": "onboarding", "value": {"text": "sue"}},
         "expect": {"outcome": "applied", "rule": "base-current", "winner": {"text": "sue"}}},
        {"name": "rule: a manager reopens a won deal",
         "covers": "DOMAIN.md: won and lost are sticky; only a manager reopens a closed deal (I11)",
         "actor": {"user": "max", "role": "manager", "relations": ["managed"]},
         "record": {"entity": "opportunity", "creator": "sam", "fields": {"stage": {"member": "won"}, "owner": {"text": "sam"}}},
         "write": {"kind": "set", "hlc": 2000, "replica": 7, "base": "current", "field": "stage", "value": {"member": "negotiation"}},
         "expect": {"outcome": "applied", "rule": "base-current", "winner": {"member": "negotiation"}}},
        {"name": "rule: a rep cannot reopen a lost deal",
         "covers": "DOMAIN.md: only a manager reopens a closed deal (I11)",
         "actor": {"user": "sam", "role": "sales", "relations": ["owner"]},
         "record": {"entity": "opportunity", "creator": "sam", "fields": {"stage": {"member": "lost"}, "owner": {"text": "sam"}, "loss_reason": {"member": "price"}}},
         "write": {"kind": "set", "hlc": 2000, "replica": 7, "base": "current", "field": "stage", "value": {"member": "proposal"}},
         "expect": {"outcome": "rejected", "rule": "read-only"}},
        {"name": "rule: a manager created a deal in qualified: the rep cannot skip the checklist",
         "covers": "DOMAIN.md stage table: leaving qualified needs the hand-off checklist (need, budget, timing, contact)",
         "actor": {"user": "sam", "role": "sales", "relations": ["owner"]},
         "record": {"entity": "opportunity", "creator": "max", "fields": {"stage": {"member": "qualified"}, "owner": {"text": "sam"}}},
         "write": {"kind": "set", "hlc": 2000, "replica": 7, "base": "current", "field": "stage", "value": {"member": "discovery"}},
         "expect": {"outcome": "rejected", "rule": "stage-gate", "missing": ["check_need", "check_budget", "check_timing", "check_contact"]}},
        {"name": "rule: a request is immutable once made",
         "covers": "DOMAIN.md approvals: a request is immutable once made; nothing may be added to a pending one (the approver approves what they saw)",
         "actor": {"user": "sam", "role": "sales", "relations": ["creator"]},
         "record": {"entity": "approval", "creator": "sam", "fields": {
             "opportunity": {"reference": "0190a1b2-c3d5-7a0b-9c1d-2e3f40516274"}, "kind": {"member": "loss"},
             "target": {"text": "0190a1b2-c3d5-7a0b-9c1d-2e3f40516274"}, "field": {"text": "stage"}, "value": {"text": "lost"},
             "state": {"member": "pending"}}},
         "write": {"kind": "set", "hlc": 2000, "replica": 7, "base": "none", "field": "with", "value": {"text": "loss_reason=price"}},
         "expect": {"outcome": "rejected", "rule": "write-once"}},
        {"name": "rule: a user is refused a deal they cannot see, and told nothing of it",
         "covers": "DOMAIN.md visibility: a rep sees their own and their team's deals (I16)",
         "actor": {"user": "tom", "role": "sales", "relations": []},
         "record": deal(amount={"decimal": "90000.00"}),
         "write": {"kind": "set", "hlc": 2000, "replica": 7, "base": "none", "field": "amount", "value": {"decimal": "1.00"}},
         "expect": {"outcome": "rejected", "rule": "not-visible", "winner": {"decimal": "90000.00"}}},
        # The next-step row: an expert's W is "on tasks assigned to them" (the relation assignee).
        {"name": "rule: an expert closes a task assigned to her",
         "covers": "DOMAIN.md matrix next step × expert: W on tasks assigned to them",
         "actor": {"user": "eve", "role": "expert", "relations": ["assignee"]},
         "record": task("eve"),
         "write": {"kind": "set", "hlc": 2000, "replica": 7, "base": "current", "field": "done", "value": {"boolean": True}},
         "expect": {"outcome": "applied", "rule": "base-current", "winner": {"boolean": True}}},
        {"name": "rule: an expert may not close the rep's task",
         "covers": "DOMAIN.md matrix next step × expert: a task assigned to another she reads",
         "actor": {"user": "eve", "role": "expert", "relations": []},
         "record": task("sam"),
         "write": {"kind": "set", "hlc": 2000, "replica": 7, "base": "current", "field": "done", "value": {"boolean": True}},
         "expect": {"outcome": "rejected", "rule": "read-only"}},
    ]


PREFIXES = ("cell: ", "gate: ", "rule: ")


def main():
    doc = json.loads(VECTORS.read_text())
    kept = [c for c in doc["cases"] if not c["name"].startswith(PREFIXES)]
    doc["cases"] = kept + cases() + gates() + rules()
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    VECTORS.write_text(text + "\n")
    print(f"{VECTORS.relative_to(ROOT)}: {len(kept)} cases kept, {len(doc['cases']) - len(kept)} written (matrix cells, stage gates, rules)")


if __name__ == "__main__":
    main()
