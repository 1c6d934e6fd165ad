// Generated from docs/default-workspace.json by Tools/embed-default-workspace.sh; a test
// checks the two are identical. Edit the JSON, then rerun the script.

extension Workspace {
    /// The text of the built-in default workspace (DOMAIN.md), as the operator would write it.
    public static let defaultDocument: String = #"""
{
  "format": "oppsync-workspace/1",
  "version": 4,
  "name": "default",
  "description": "The default pipeline of DOMAIN.md: five roles, eight stages, the ownership matrix.",
  "checkin_skew_minutes": 10, "stale_days": 14,
  "stage_history": "stage_log",
  "forecast": {"best_case_from": "solution", "commit_from": "negotiation"},
  "override_roles": ["manager"],
  "roles": [
    {"name": "marketing", "title": "市场推广", "sees": ["creator"]},
    {"name": "sales", "title": "销售顾问", "sees": ["owner", "team"]},
    {"name": "expert", "title": "产品专家", "sees": ["team"]},
    {"name": "success", "title": "客户成功经理", "sees": ["stage:won"]},
    {"name": "manager", "title": "销售管理者", "sees": ["managed", "owner", "creator"]}
  ],
  "stages": [
    {"name": "lead", "title": "线索", "leave_requires": ["lead_source", "account", "contact", "qualification"], "probability": 10},
    {"name": "qualified", "title": "已验证", "leave_requires": ["owner", "check_need", "check_budget", "check_timing", "check_contact"], "probability": 20},
    {"name": "discovery", "title": "需求挖掘", "leave_requires": ["needs", "decision_makers", "amount", "close_date"], "probability": 30},
    {"name": "solution", "title": "方案", "leave_requires": ["solution", "tech_risk"], "probability": 50},
    {"name": "proposal", "title": "报价", "leave_requires": ["quote_terms", "amount", "currency"], "probability": 60},
    {"name": "negotiation", "title": "谈判", "leave_requires": ["amount", "quote_terms"], "probability": 80},
    {"name": "won", "title": "赢单", "closed": true, "probability": 100},
    {"name": "lost", "title": "输单", "closed": true, "from_any_open": true, "enter_requires": ["loss_reason"], "confirm_by": ["manager"], "probability": 0}
  ],
  "handoff": {
    "from": "lead",
    "to": "qualified",
    "checklist": ["check_need", "check_budget", "check_timing", "check_contact"],
    "reject_reason": "handoff_reason"
  },
  "approvals": {
    "approvers": ["manager"],
    "state_field": "approval_state",
    "rules": [
      {"field": "discount", "above": "10.00"},
      {"field": "discount", "above": "10.00", "leaving": "negotiation"}
    ],
    "lock_groups": ["commercials", "terms"],
    "requests": "approval"
  },
  "assignment": {"role": "sales", "strategy": "round-robin", "within": "territory", "skip_at_capacity": true},
  "entities": [
    {
      "name": "opportunity",
      "number": 1,
      "stage_field": "stage",
      "create": {"marketing": ["lead"], "sales": ["discovery"], "manager": ["lead", "qualified", "discovery"]},
      "owner_on_create": ["sales"],
      "delete": ["manager"],
      "groups": {
        "lead": {
          "marketing": "own in lead,qualified; read",
          "sales": "write in qualified if owner; read",
          "expert": "read", "success": "read", "manager": "write"
        },
        "identity": {
          "marketing": "write in lead,qualified; read",
          "sales": "own in qualified..lost if owner; read",
          "expert": "read",
          "success": "write in won; read",
          "manager": "override"
        },
        "discovery": {
          "sales": "own if owner; read",
          "expert": "read", "success": "read", "manager": "write"
        },
        "commercials": {
          "marketing": "read in lead,qualified",
          "sales": "own if owner; read",
          "expert": "read", "success": "read", "manager": "override"
        },
        "renewal": {
          "sales": "read", "success": "own", "manager": "write"
        },
        "terms": {
          "sales": "own if owner; read",
          "expert": "read", "success": "read", "manager": "own"
        },
        "solution": {
          "sales": "write if owner; read",
          "expert": "own in solution..negotiation if team; read",
          "success": "read", "manager": "read"
        },
        "stage": {
          "marketing": "own in lead; read",
          "sales": "own in qualified..negotiation if owner; read",
          "expert": "propose if team; read",
          "success": "own in won; read",
          "manager": "override"
        },
        "next_step": {
          "marketing": "own in lead,qualified",
          "sales": "own in discovery..lost if owner; read",
          "expert": "write if team; read",
          "success": "own in won; read",
          "manager": "write"
        },
        "team": {
          "sales": "propose if owner; read",
          "manager": "own"
        },
        "loss": {
          "sales": "propose if owner; read",
          "expert": "read", "success": "read", "manager": "own"
        },
        "postsale": {
          "sales": "read", "expert": "read", "success": "own", "manager": "write"
        },
        "approval": {
          "sales": "read", "success": "read", "manager": "own"
        },
        "history": {
          "marketing": "read", "sales": "read", "expert": "read", "success": "read", "manager": "read"
        }
      },
      "fields": [
        {"name": "name", "number": 1, "type": "text", "group": "identity", "max_length": 200},
        {"name": "account", "number": 2, "type": "reference", "entity": "account", "group": "identity"},
        {"name": "contact", "number": 3, "type": "reference", "entity": "contact", "group": "identity"},
        {"name": "amount", "number": 4, "type": "decimal", "scale": 2, "group": "commercials"},
        {"name": "currency", "number": 5, "type": "enum", "members": ["CNY", "USD", "EUR", "JPY", "HKD", "GBP"], "group": "commercials"},
        {"name": "probability", "number": 6, "type": "integer", "group": "commercials"},
        {"name": "close_date", "number": 7, "type": "date", "group": "commercials"},
        {"name": "stage", "number": 8, "type": "enum", "members": ["lead", "qualified", "discovery", "solution", "proposal", "negotiation", "won", "lost"], "group": "stage"},
        {"name": "owner", "number": 9, "type": "user", "group": "team"},
        {"name": "next_step", "number": 10, "type": "text", "group": "next_step", "max_length": 500},
        {"name": "next_step_due", "number": 11, "type": "date", "group": "next_step"},
        {"name": "lead_source", "number": 12, "type": "enum", "members": ["web", "event", "referral", "campaign", "cold_call", "partner", "other"], "group": "lead"},
        {"name": "qualification", "number": 13, "type": "text", "group": "lead"},
        {"name": "solution", "number": 14, "type": "text", "group": "solution"},
        {"name": "tech_risk", "number": 15, "type": "enum", "members": ["low", "medium", "high"], "group": "solution"},
        {"name": "discount", "number": 16, "type": "decimal", "scale": 2, "group": "terms"},
        {"name": "loss_reason", "number": 17, "type": "enum", "members": ["price", "competitor", "no_budget", "no_decision", "timing", "product_fit", "other"], "group": "loss"},
        {"name": "onboarding", "number": 18, "type": "user", "group": "postsale"},
        {"name": "health", "number": 19, "type": "enum", "members": ["green", "yellow", "red"], "group": "postsale"},
        {"name": "renewal_date", "number": 20, "type": "date", "group": "postsale"},
        {"name": "approval_state", "number": 21, "type": "enum", "members": ["none", "pending", "approved", "rejected"], "group": "approval"},
        {"name": "campaign", "number": 22, "type": "text", "group": "lead"},
        {"name": "score", "number": 23, "type": "integer", "group": "lead"},
        {"name": "check_need", "number": 24, "type": "boolean", "group": "lead"},
        {"name": "check_budget", "number": 25, "type": "boolean", "group": "lead"},
        {"name": "check_timing", "number": 26, "type": "boolean", "group": "lead"},
        {"name": "check_contact", "number": 27, "type": "boolean", "group": "lead"},
        {"name": "handoff_reason", "number": 28, "type": "text", "group": "lead"},
        {"name": "needs", "number": 29, "type": "text", "group": "discovery"},
        {"name": "decision_makers", "number": 30, "type": "text", "group": "discovery"},
        {"name": "requirements", "number": 31, "type": "text", "group": "solution"},
        {"name": "quote_terms", "number": 32, "type": "text", "group": "terms"},
        {"name": "renewal_amount", "number": 33, "type": "decimal", "scale": 2, "group": "renewal"},
        {"name": "territory", "number": 34, "type": "text", "group": "lead", "max_length": 100},
        {"name": "stage_log", "number": 35, "type": "text", "group": "history"}
      ]
    },
    {
      "name": "account",
      "number": 2,
      "create": {"marketing": [], "sales": [], "success": [], "manager": []},
      "delete": ["manager"],
      "groups": {
        "account": {"marketing": "write", "sales": "write", "expert": "read", "success": "write", "manager": "override"}
      },
      "fields": [
        {"name": "name", "number": 1, "type": "text", "group": "account", "max_length": 200},
        {"name": "industry", "number": 2, "type": "text", "group": "account"},
        {"name": "website", "number": 3, "type": "text", "group": "account"},
        {"name": "territory", "number": 4, "type": "text", "group": "account", "max_length": 100}
      ]
    },
    {
      "name": "contact",
      "number": 3,
      "create": {"marketing": [], "sales": [], "success": [], "manager": []},
      "delete": ["manager"],
      "groups": {
        "contact": {"marketing": "write", "sales": "write", "expert": "read", "success": "write", "manager": "override"}
      },
      "fields": [
        {"name": "name", "number": 1, "type": "text", "group": "contact", "max_length": 200},
        {"name": "account", "number": 2, "type": "reference", "entity": "account", "group": "contact"},
        {"name": "email", "number": 3, "type": "text", "group": "contact"},
        {"name": "phone", "number": 4, "type": "text", "group": "contact"},
        {"name": "title", "number": 5, "type": "text", "group": "contact"}
      ]
    },
    {
      "name": "activity",
      "number": 4,
      "append_only": true,
      "visible_via": "opportunity",
      "create": {"marketing": [], "sales": [], "expert": [], "success": [], "manager": []},
      "groups": {
        "activity": {"marketing": "write if creator; read", "sales": "write if creator; read", "expert": "write if creator; read",
                     "success": "write if creator; read", "manager": "write if creator; read"}
      },
      "fields": [
        {"name": "opportunity", "number": 1, "type": "reference", "entity": "opportunity", "group": "activity"},
        {"name": "kind", "number": 2, "type": "enum", "members": ["call", "visit", "email", "meeting", "checkin", "note"], "group": "activity"},
        {"name": "note", "number": 3, "type": "text", "group": "activity"},
        {"name": "at", "number": 4, "type": "timestamp", "group": "activity"},
        {"name": "place", "number": 5, "type": "text", "group": "activity"},
        {"name": "clock_skew_s", "number": 6, "type": "integer", "group": "activity"}
      ]
    },
    {
      "name": "task",
      "number": 5,
      "visible_via": "opportunity",
      "create": {"marketing": [], "sales": [], "expert": [], "success": [], "manager": []},
      "delete": ["manager"],
      "groups": {
        "task": {"marketing": "write", "sales": "own if creator; write", "expert": "write", "success": "write", "manager": "override"}
      },
      "fields": [
        {"name": "opportunity", "number": 1, "type": "reference", "entity": "opportunity", "group": "task"},
        {"name": "text", "number": 2, "type": "text", "group": "task", "max_length": 500},
        {"name": "due", "number": 3, "type": "date", "group": "task"},
        {"name": "assignee", "number": 4, "type": "user", "group": "task"},
        {"name": "done", "number": 5, "type": "boolean", "group": "task"}
      ]
    },
    {
      "name": "approval",
      "number": 6,
      "visible_via": "opportunity",
      "create": {"marketing": [], "sales": [], "expert": [], "success": [], "manager": []},
      "groups": {
        "request": {"marketing": "write if creator; read", "sales": "write if creator; read", "expert": "write if creator; read",
                    "success": "write if creator; read", "manager": "read"},
        "request_value": {"marketing": "write if creator", "sales": "write if creator; read", "expert": "write if creator; read",
                          "success": "write if creator; read", "manager": "read"},
        "decision": {"marketing": "read", "sales": "read", "success": "read", "expert": "read", "manager": "own"}
      },
      "fields": [
        {"name": "opportunity", "number": 1, "type": "reference", "entity": "opportunity", "group": "request", "write_once": true},
        {"name": "kind", "number": 2, "type": "enum", "members": ["discount", "amount", "loss", "reopen", "team", "change"], "group": "request", "write_once": true},
        {"name": "requested", "number": 3, "type": "text", "group": "request_value", "write_once": true},
        {"name": "state", "number": 4, "type": "enum", "members": ["pending", "approved", "rejected"], "group": "decision"},
        {"name": "decided_by", "number": 5, "type": "user", "group": "decision"},
        {"name": "note", "number": 6, "type": "text", "group": "decision"},
        {"name": "target", "number": 7, "type": "text", "group": "request", "write_once": true},
        {"name": "field", "number": 8, "type": "text", "group": "request", "write_once": true},
        {"name": "value", "number": 9, "type": "text", "group": "request_value", "write_once": true},
        {"name": "with", "number": 10, "type": "text", "group": "request_value", "write_once": true}
      ]
    },
    {
      "name": "membership",
      "number": 7,
      "visible_via": "opportunity",
      "create": {"sales": [], "manager": []},
      "groups": {
        "membership": {"sales": "write if creator; read", "expert": "read", "success": "read", "manager": "own"},
        "membership_state": {"sales": "propose; read", "expert": "read", "success": "read", "manager": "own"}
      },
      "fields": [
        {"name": "opportunity", "number": 1, "type": "reference", "entity": "opportunity", "group": "membership", "write_once": true},
        {"name": "user", "number": 2, "type": "user", "group": "membership", "write_once": true},
        {"name": "role", "number": 3, "type": "enum", "members": ["sales", "expert", "success"], "group": "membership", "write_once": true},
        {"name": "state", "number": 4, "type": "enum", "members": ["requested", "active", "removed"], "group": "membership_state"}
      ]
    }
  ]
}
"""#

    /// The built-in default workspace, decoded.
    public static let `default`: Workspace = {
        do { return try Workspace.decode(defaultDocument) } catch { fatalError("built-in workspace is invalid: \(error)") }
    }()
}
