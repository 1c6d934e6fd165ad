// Generated from docs/default-workspace.json by Tools/embed-default-workspace.sh; a test
// checks the two are identical. Edit the JSON, then rerun the script.

extension Workspace {
    /// The text of the built-in default workspace (DOMAIN.md), as the operator would write it.
    public static let defaultDocument: String = #"""
{
  "format": "oppsync-workspace/1",
  "version": 12,
  "name": "default",
  "description": "The default pipeline of DOMAIN.md: five roles, eight stages, the ownership matrix.",
  "checkin_skew_minutes": 10, "stale_days": 14,
  "stage_history": "stage_log",
  "forecast": {"best_case_from": "solution", "commit_from": "negotiation"},
  "override_roles": ["manager"],
  "roles": [
    {"name": "marketing", "labels": {"zh-CN": "市场推广", "en": "marketing"}, "sees": ["creator"]},
    {"name": "sales", "labels": {"zh-CN": "销售顾问", "en": "sales rep"}, "sees": ["owner", "team"]},
    {"name": "expert", "labels": {"zh-CN": "产品专家", "en": "product expert"}, "sees": ["team"]},
    {"name": "success", "labels": {"zh-CN": "客户成功经理", "en": "customer success"}, "sees": ["stage:won"]},
    {"name": "manager", "labels": {"zh-CN": "销售管理者", "en": "sales manager"}, "sees": ["managed", "owner", "creator"]}
  ],
  "stages": [
    {"name": "lead", "labels": {"zh-CN": "线索"}, "leave_requires": ["lead_source", "account", "contact", "qualification"], "probability": 10},
    {"name": "qualified", "labels": {"zh-CN": "已验证"}, "leave_requires": ["owner", "check_need", "check_budget", "check_timing", "check_contact"], "probability": 20},
    {"name": "discovery", "labels": {"zh-CN": "需求挖掘"}, "leave_requires": ["needs", "decision_makers", "amount", "close_date"], "probability": 30},
    {"name": "solution", "labels": {"zh-CN": "方案"}, "leave_requires": ["solution", "tech_risk"], "probability": 50},
    {"name": "proposal", "labels": {"zh-CN": "报价"}, "leave_requires": ["quote_terms", "amount", "currency"], "probability": 60},
    {"name": "negotiation", "labels": {"zh-CN": "谈判"}, "leave_requires": ["amount", "quote_terms"], "probability": 80},
    {"name": "won", "labels": {"zh-CN": "赢单"}, "closed": true, "probability": 100},
    {"name": "lost", "labels": {"zh-CN": "输单"}, "closed": true, "from_any_open": true, "enter_requires": ["loss_reason"], "confirm_by": ["manager"], "probability": 0}
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
      "name": "opportunity", "labels": {"zh-CN": "商机"},
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
          "expert": "read",
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
      "group_labels": {
        "lead": {"zh-CN": "线索"},
        "identity": {"zh-CN": "基本信息"},
        "discovery": {"zh-CN": "需求"},
        "commercials": {"zh-CN": "商务"},
        "renewal": {"zh-CN": "续约"},
        "terms": {"zh-CN": "条款"},
        "solution": {"zh-CN": "方案"},
        "stage": {"zh-CN": "阶段"},
        "next_step": {"zh-CN": "下一步", "en": "next step"},
        "team": {"zh-CN": "负责人与团队", "en": "owner and team"},
        "loss": {"zh-CN": "输单"},
        "postsale": {"zh-CN": "售后", "en": "post-sale"},
        "approval": {"zh-CN": "审批"},
        "history": {"zh-CN": "历史"}
      },
      "fields": [
        {"name": "name", "number": 1, "labels": {"zh-CN": "名称"}, "type": "text", "group": "identity", "max_length": 200},
        {"name": "account", "number": 2, "labels": {"zh-CN": "客户"}, "type": "reference", "entity": "account", "group": "identity"},
        {"name": "contact", "number": 3, "labels": {"zh-CN": "联系人"}, "type": "reference", "entity": "contact", "group": "identity"},
        {"name": "amount", "number": 4, "labels": {"zh-CN": "金额"}, "type": "decimal", "scale": 2, "min": "0", "group": "commercials"},
        {"name": "currency", "number": 5, "labels": {"zh-CN": "币种"}, "type": "enum", "members": ["CNY", "USD", "EUR", "JPY", "HKD", "GBP"], "member_labels": {"CNY": {"zh-CN": "人民币"}, "USD": {"zh-CN": "美元"}, "EUR": {"zh-CN": "欧元"}, "JPY": {"zh-CN": "日元"}, "HKD": {"zh-CN": "港币"}, "GBP": {"zh-CN": "英镑"}}, "group": "commercials"},
        {"name": "probability", "number": 6, "labels": {"zh-CN": "赢率"}, "type": "integer", "min": 0, "max": 100, "unit": "percent", "group": "commercials"},
        {"name": "close_date", "number": 7, "labels": {"zh-CN": "预计成交日期"}, "type": "date", "group": "commercials"},
        {"name": "stage", "number": 8, "labels": {"zh-CN": "阶段"}, "type": "enum", "members": ["lead", "qualified", "discovery", "solution", "proposal", "negotiation", "won", "lost"], "group": "stage"},
        {"name": "owner", "number": 9, "labels": {"zh-CN": "负责人"}, "type": "user", "group": "team"},
        {"name": "next_step", "number": 10, "labels": {"zh-CN": "下一步"}, "type": "text", "group": "next_step", "max_length": 500},
        {"name": "next_step_due", "number": 11, "labels": {"zh-CN": "下一步截止"}, "type": "date", "group": "next_step"},
        {"name": "lead_source", "number": 12, "labels": {"zh-CN": "线索来源"}, "type": "enum", "members": ["web", "event", "referral", "campaign", "cold_call", "partner", "other"], "member_labels": {"web": {"zh-CN": "官网"}, "event": {"zh-CN": "展会活动"}, "referral": {"zh-CN": "转介绍"}, "campaign": {"zh-CN": "营销活动"}, "cold_call": {"zh-CN": "陌拜电话"}, "partner": {"zh-CN": "合作伙伴"}, "other": {"zh-CN": "其他"}}, "group": "lead"},
        {"name": "qualification", "number": 13, "labels": {"zh-CN": "资质说明"}, "type": "text", "group": "lead"},
        {"name": "solution", "number": 14, "labels": {"zh-CN": "解决方案"}, "type": "text", "group": "solution"},
        {"name": "tech_risk", "number": 15, "labels": {"zh-CN": "技术风险"}, "type": "enum", "members": ["low", "medium", "high"], "member_labels": {"low": {"zh-CN": "低"}, "medium": {"zh-CN": "中"}, "high": {"zh-CN": "高"}}, "group": "solution"},
        {"name": "discount", "number": 16, "labels": {"zh-CN": "折扣"}, "type": "decimal", "scale": 2, "min": "0", "max": "100", "unit": "percent", "group": "terms"},
        {"name": "loss_reason", "number": 17, "labels": {"zh-CN": "输单原因"}, "type": "enum", "members": ["price", "competitor", "no_budget", "no_decision", "timing", "product_fit", "other"], "member_labels": {"price": {"zh-CN": "价格"}, "competitor": {"zh-CN": "竞争对手"}, "no_budget": {"zh-CN": "无预算"}, "no_decision": {"zh-CN": "未决策"}, "timing": {"zh-CN": "时机不对"}, "product_fit": {"zh-CN": "产品不匹配"}, "other": {"zh-CN": "其他"}}, "group": "loss"},
        {"name": "onboarding", "number": 18, "labels": {"zh-CN": "实施负责人"}, "type": "user", "group": "postsale"},
        {"name": "health", "number": 19, "labels": {"zh-CN": "健康度"}, "type": "enum", "members": ["green", "yellow", "red"], "member_labels": {"green": {"zh-CN": "良好"}, "yellow": {"zh-CN": "关注"}, "red": {"zh-CN": "风险"}}, "group": "postsale"},
        {"name": "renewal_date", "number": 20, "labels": {"zh-CN": "续约日期"}, "type": "date", "group": "postsale"},
        {"name": "approval_state", "number": 21, "labels": {"zh-CN": "审批状态"}, "type": "enum", "members": ["none", "pending", "approved", "rejected"], "member_labels": {"none": {"zh-CN": "无"}, "pending": {"zh-CN": "待审批"}, "approved": {"zh-CN": "已批准"}, "rejected": {"zh-CN": "已驳回"}}, "group": "approval"},
        {"name": "campaign", "number": 22, "labels": {"zh-CN": "市场活动"}, "type": "text", "group": "lead"},
        {"name": "score", "number": 23, "labels": {"zh-CN": "线索评分"}, "type": "integer", "group": "lead"},
        {"name": "check_need", "number": 24, "labels": {"zh-CN": "需求确认"}, "type": "boolean", "group": "lead"},
        {"name": "check_budget", "number": 25, "labels": {"zh-CN": "预算确认"}, "type": "boolean", "group": "lead"},
        {"name": "check_timing", "number": 26, "labels": {"zh-CN": "时间确认"}, "type": "boolean", "group": "lead"},
        {"name": "check_contact", "number": 27, "labels": {"zh-CN": "联系人确认"}, "type": "boolean", "group": "lead"},
        {"name": "handoff_reason", "number": 28, "labels": {"zh-CN": "退回原因"}, "type": "text", "group": "lead"},
        {"name": "needs", "number": 29, "labels": {"zh-CN": "客户需求"}, "type": "text", "group": "discovery"},
        {"name": "decision_makers", "number": 30, "labels": {"zh-CN": "决策人"}, "type": "text", "group": "discovery"},
        {"name": "requirements", "number": 31, "labels": {"zh-CN": "技术要求"}, "type": "text", "group": "solution"},
        {"name": "quote_terms", "number": 32, "labels": {"zh-CN": "报价条款"}, "type": "text", "group": "terms"},
        {"name": "renewal_amount", "number": 33, "labels": {"zh-CN": "续约金额"}, "type": "decimal", "scale": 2, "min": "0", "group": "renewal"},
        {"name": "territory", "number": 34, "labels": {"zh-CN": "区域"}, "type": "text", "group": "lead", "max_length": 100},
        {"name": "stage_log", "number": 35, "labels": {"zh-CN": "阶段记录"}, "type": "text", "group": "history"}
      ]
    },
    {
      "name": "account", "labels": {"zh-CN": "客户"},
      "number": 2,
      "create": {"marketing": [], "sales": [], "success": [], "manager": []},
      "delete": ["manager"],
      "groups": {
        "account": {"marketing": "write", "sales": "write", "expert": "read", "success": "write", "manager": "override"}
      },
      "group_labels": {
        "account": {"zh-CN": "客户信息", "en": "account"}
      },
      "fields": [
        {"name": "name", "number": 1, "labels": {"zh-CN": "名称"}, "type": "text", "group": "account", "max_length": 200},
        {"name": "industry", "number": 2, "labels": {"zh-CN": "行业"}, "type": "text", "group": "account"},
        {"name": "website", "number": 3, "labels": {"zh-CN": "网站"}, "type": "text", "group": "account"},
        {"name": "territory", "number": 4, "labels": {"zh-CN": "区域"}, "type": "text", "group": "account", "max_length": 100}
      ]
    },
    {
      "name": "contact", "labels": {"zh-CN": "联系人"},
      "number": 3,
      "create": {"marketing": [], "sales": [], "success": [], "manager": []},
      "delete": ["manager"],
      "groups": {
        "contact": {"marketing": "write", "sales": "write", "expert": "read", "success": "write", "manager": "override"}
      },
      "group_labels": {
        "contact": {"zh-CN": "联系人信息", "en": "contact"}
      },
      "fields": [
        {"name": "name", "number": 1, "labels": {"zh-CN": "姓名"}, "type": "text", "group": "contact", "max_length": 200},
        {"name": "account", "number": 2, "labels": {"zh-CN": "客户"}, "type": "reference", "entity": "account", "group": "contact"},
        {"name": "email", "number": 3, "labels": {"zh-CN": "邮箱"}, "type": "text", "group": "contact"},
        {"name": "phone", "number": 4, "labels": {"zh-CN": "电话"}, "type": "text", "group": "contact"},
        {"name": "title", "number": 5, "labels": {"zh-CN": "职务"}, "type": "text", "group": "contact"}
      ]
    },
    {
      "name": "activity", "labels": {"zh-CN": "跟进记录"},
      "number": 4,
      "append_only": true,
      "visible_via": "opportunity",
      "create": {"marketing": [], "sales": [], "expert": [], "success": [], "manager": []},
      "groups": {
        "activity": {"marketing": "write if creator; read", "sales": "write if creator; read", "expert": "write if creator; read",
                     "success": "write if creator; read", "manager": "write if creator; read"}
      },
      "group_labels": {
        "activity": {"zh-CN": "跟进"}
      },
      "fields": [
        {"name": "opportunity", "number": 1, "labels": {"zh-CN": "商机"}, "type": "reference", "entity": "opportunity", "group": "activity"},
        {"name": "kind", "number": 2, "labels": {"zh-CN": "类型"}, "type": "enum", "members": ["call", "visit", "email", "meeting", "checkin", "note"], "member_labels": {"call": {"zh-CN": "电话"}, "visit": {"zh-CN": "拜访"}, "email": {"zh-CN": "邮件"}, "meeting": {"zh-CN": "会议"}, "checkin": {"zh-CN": "签到"}, "note": {"zh-CN": "备注"}}, "group": "activity"},
        {"name": "note", "number": 3, "labels": {"zh-CN": "内容"}, "type": "text", "group": "activity"},
        {"name": "at", "number": 4, "labels": {"zh-CN": "时间"}, "type": "timestamp", "group": "activity"},
        {"name": "place", "number": 5, "labels": {"zh-CN": "地点"}, "type": "text", "group": "activity"},
        {"name": "clock_skew_s", "number": 6, "labels": {"zh-CN": "时钟偏差秒"}, "type": "integer", "group": "activity"}
      ]
    },
    {
      "name": "task", "labels": {"zh-CN": "任务"},
      "number": 5,
      "visible_via": "opportunity",
      "assigned_to": "assignee",
      "create": {"marketing": [], "sales": [], "expert": [], "success": [], "manager": []},
      "delete": ["manager"],
      "groups": {
        "task": {"marketing": "write", "sales": "own if creator; write", "expert": "write if creator,assignee; read", "success": "write", "manager": "override"}
      },
      "group_labels": {
        "task": {"zh-CN": "任务"}
      },
      "fields": [
        {"name": "opportunity", "number": 1, "labels": {"zh-CN": "商机"}, "type": "reference", "entity": "opportunity", "group": "task"},
        {"name": "text", "number": 2, "labels": {"zh-CN": "内容"}, "type": "text", "group": "task", "max_length": 500},
        {"name": "due", "number": 3, "labels": {"zh-CN": "截止日期"}, "type": "date", "group": "task"},
        {"name": "assignee", "number": 4, "labels": {"zh-CN": "执行人"}, "type": "user", "group": "task"},
        {"name": "done", "number": 5, "labels": {"zh-CN": "已完成"}, "type": "boolean", "group": "task"}
      ]
    },
    {
      "name": "approval", "labels": {"zh-CN": "审批"},
      "number": 6,
      "visible_via": "opportunity",
      "create": {"marketing": [], "sales": [], "expert": [], "success": [], "manager": []},
      "groups": {
        "request": {"marketing": "write if creator", "sales": "write if creator; read", "expert": "write if creator",
                    "success": "write if creator; read", "manager": "read"},
        "request_value": {"marketing": "write if creator", "sales": "write if creator; read", "expert": "write if creator",
                          "success": "write if creator; read", "manager": "read"},
        "decision": {"marketing": "read if creator", "sales": "read", "success": "read if creator", "expert": "read if creator", "manager": "own"},
        "withdrawal": {"marketing": "write if creator", "sales": "write if creator; read", "expert": "write if creator",
                       "success": "write if creator; read", "manager": "write if creator; read"}
      },
      "group_labels": {
        "request": {"zh-CN": "申请"},
        "request_value": {"zh-CN": "申请值", "en": "requested value"},
        "decision": {"zh-CN": "审批结果"},
        "withdrawal": {"zh-CN": "撤回"}
      },
      "fields": [
        {"name": "opportunity", "number": 1, "labels": {"zh-CN": "商机"}, "type": "reference", "entity": "opportunity", "group": "request", "write_once": true},
        {"name": "kind", "number": 2, "labels": {"zh-CN": "类型"}, "type": "enum", "members": ["discount", "amount", "loss", "reopen", "team", "change"], "member_labels": {"discount": {"zh-CN": "折扣"}, "amount": {"zh-CN": "金额"}, "loss": {"zh-CN": "输单"}, "reopen": {"zh-CN": "重开"}, "team": {"zh-CN": "团队"}, "change": {"zh-CN": "变更"}}, "group": "request", "write_once": true},
        {"name": "requested", "number": 3, "labels": {"zh-CN": "申请内容"}, "type": "text", "group": "request_value", "write_once": true},
        {"name": "state", "number": 4, "labels": {"zh-CN": "状态"}, "type": "enum", "members": ["pending", "approved", "rejected", "withdrawn"], "member_labels": {"pending": {"zh-CN": "待审批"}, "approved": {"zh-CN": "已批准"}, "rejected": {"zh-CN": "已驳回"}, "withdrawn": {"zh-CN": "已撤回"}}, "group": "decision"},
        {"name": "decided_by", "number": 5, "labels": {"zh-CN": "审批人"}, "type": "user", "group": "decision"},
        {"name": "note", "number": 6, "labels": {"zh-CN": "审批意见"}, "type": "text", "group": "decision"},
        {"name": "target", "number": 7, "labels": {"zh-CN": "对象"}, "type": "text", "group": "request", "write_once": true},
        {"name": "field", "number": 8, "labels": {"zh-CN": "字段"}, "type": "text", "group": "request", "write_once": true},
        {"name": "value", "number": 9, "labels": {"zh-CN": "申请值"}, "type": "text", "group": "request_value", "write_once": true},
        {"name": "with", "number": 10, "labels": {"zh-CN": "一并申请"}, "type": "text", "group": "request_value", "write_once": true},
        {"name": "withdrawn", "number": 11, "labels": {"zh-CN": "撤回", "en": "withdrawal"}, "type": "boolean", "group": "withdrawal", "write_once": true}
      ]
    },
    {
      "name": "membership", "labels": {"zh-CN": "团队成员", "en": "team member"},
      "number": 7,
      "visible_via": "opportunity",
      "create": {"sales": [], "manager": []},
      "groups": {
        "membership": {"sales": "write if creator; read", "expert": "read if member", "success": "read if member", "manager": "own"},
        "membership_state": {"sales": "propose; read", "expert": "read if member", "success": "read if member", "manager": "own"}
      },
      "group_labels": {
        "membership": {"zh-CN": "成员"},
        "membership_state": {"zh-CN": "成员状态", "en": "membership state"}
      },
      "fields": [
        {"name": "opportunity", "number": 1, "labels": {"zh-CN": "商机"}, "type": "reference", "entity": "opportunity", "group": "membership", "write_once": true},
        {"name": "user", "number": 2, "labels": {"zh-CN": "成员"}, "type": "user", "group": "membership", "write_once": true},
        {"name": "role", "number": 3, "labels": {"zh-CN": "角色"}, "type": "enum", "members": ["sales", "expert", "success"], "member_labels": {"sales": {"zh-CN": "销售顾问"}, "expert": {"zh-CN": "产品专家"}, "success": {"zh-CN": "客户成功经理"}}, "group": "membership", "write_once": true},
        {"name": "state", "number": 4, "labels": {"zh-CN": "状态"}, "type": "enum", "members": ["requested", "active", "removed"], "member_labels": {"requested": {"zh-CN": "申请中"}, "active": {"zh-CN": "有效"}, "removed": {"zh-CN": "已移除"}}, "group": "membership_state"}
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
