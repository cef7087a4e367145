"""The default appraisal template a new (or the demo) organization starts from: the classic
criteria of an agent team's monthly appraisal.

Quantitative (65): sales, collection and profit against the member's targets (capped at 120%);
active customers and follow-ups on a straight line; minutes per follow-up and average daily
revenue in bands; new customers on a line; lost customers where fewer is better.
Qualitative (35): cooperation, enthusiasm, loyalty and responsibility, rated 1-5 by the reviewer.
Grades: A (90+) reward, B (75+) retain, C (60+) warn, D eliminate. Rules: an A with targets met
(attainment >= 100%) is a promotion, at most once every three cycles; a C three cycles in a row
is a demotion. The reviewer can choose another final outcome (a D member may get a warning).

`default_template_create(*, organization)` is idempotent: when the organization has the template
(by name), it is returned unchanged and nothing is created.
"""

from django.db import transaction

from agents.models import Organization

from .models import AppraisalTemplate, CriterionKind, Outcome, PeriodKind, ScoringMethod
from .services import appraisal_template_create

DEFAULT_TEMPLATE_NAME = "月度综合考核 Monthly appraisal"

Q = CriterionKind.QUANTITATIVE
QL = CriterionKind.QUALITATIVE


def _scale(descriptions: list[str]) -> dict:
    return {
        "levels": 5,
        "descriptions": {str(level): text for level, text in enumerate(descriptions, start=1)},
    }


DEFAULT_CRITERIA = [
    # name, kind, metric, weight, method, params
    ("销售额 Sales", Q, "sales_amount", 20, ScoringMethod.RATIO_TO_TARGET, {"cap": 120}),
    ("回款额 Collection", Q, "collected_amount", 10, ScoringMethod.RATIO_TO_TARGET, {"cap": 120}),
    ("毛利 Profit", Q, "profit", 10, ScoringMethod.RATIO_TO_TARGET, {"cap": 120}),
    (
        "活跃客户数 Active customers",
        Q,
        "active_customers",
        5,
        ScoringMethod.LINEAR,
        {"floor": 0, "ceiling": 30},
    ),
    ("跟进次数 Follow-ups", Q, "followups", 5, ScoringMethod.LINEAR, {"floor": 0, "ceiling": 88}),
    (
        "每次沟通时长 Minutes per follow-up",
        Q,
        "avg_minutes_per_followup",
        3,
        ScoringMethod.BANDS,
        {"bands": [[0, 0], [3, 60], [5, 80], [8, 100]]},
    ),
    (
        "日均营业额 Average daily revenue",
        Q,
        "avg_daily_revenue",
        5,
        ScoringMethod.BANDS,
        {"bands": [[0, 0], [500, 60], [1000, 80], [2000, 100]]},
    ),
    (
        "新增客户 New customers",
        Q,
        "new_customers",
        5,
        ScoringMethod.LINEAR,
        {"floor": 0, "ceiling": 10},
    ),
    (
        "流失客户 Lost customers",
        Q,
        "lost_customers",
        2,
        ScoringMethod.LOWER_IS_BETTER,
        {"best": 0, "worst": 5},
    ),
    (
        "合作性 Cooperation",
        QL,
        "",
        10,
        ScoringMethod.SCALE,
        _scale(
            [
                "很少与团队配合，经常推诿",
                "偶尔配合，需要督促",
                "能按要求与团队配合",
                "主动配合，乐于分享经验和客户资源",
                "团队协作的榜样，主动帮助他人达成目标",
            ]
        ),
    ),
    (
        "工作热情 Enthusiasm",
        QL,
        "",
        10,
        ScoringMethod.SCALE,
        _scale(
            [
                "工作消极，缺乏主动性",
                "热情不足，需要经常激励",
                "工作态度积极",
                "充满干劲，主动开拓市场",
                "始终保持高昂热情并带动团队",
            ]
        ),
    ),
    (
        "忠诚度 Loyalty",
        QL,
        "",
        5,
        ScoringMethod.SCALE,
        _scale(
            [
                "多次违反价格或渠道政策",
                "偶有违规，经提醒后改正",
                "遵守公司价格与渠道政策",
                "认同品牌，维护公司利益",
                "坚定维护品牌与团队利益，是团队的中坚力量",
            ]
        ),
    ),
    (
        "责任心 Responsibility",
        QL,
        "",
        10,
        ScoringMethod.SCALE,
        _scale(
            [
                "经常不按时提交日报或跟进客户",
                "责任心一般，需要提醒",
                "能按时完成本职工作",
                "认真负责，问题主动跟进到底",
                "高度负责，对结果负责并主动改进",
            ]
        ),
    ),
]

DEFAULT_GRADES = [
    ("A", 90, Outcome.REWARD),
    ("B", 75, Outcome.RETAIN),
    ("C", 60, Outcome.WARN),
    ("D", 0, Outcome.ELIMINATE),
]

DEFAULT_RULES = [
    {"if": {"grade": "A", "min_attainment": 100}, "then": "promote", "cooldown_cycles": 2},
    {"if": {"grade": "C", "consecutive": 3}, "then": "demote"},
]


@transaction.atomic
def default_template_create(*, organization: Organization) -> AppraisalTemplate:
    """The organization's default monthly template; created once (see the module docstring)."""
    existing = AppraisalTemplate.objects.filter(
        organization=organization, name=DEFAULT_TEMPLATE_NAME
    ).first()
    if existing is not None:
        return existing
    return appraisal_template_create(
        organization=organization,
        actor=None,
        data={
            "name": DEFAULT_TEMPLATE_NAME,
            "description": "销售、回款、利润、客户与过程指标（定量 65 分）加合作、热情、忠诚、"
            "责任心（定性 35 分）。",
            "period_kind": PeriodKind.MONTH,
            "rules": DEFAULT_RULES,
            "criteria": [
                {
                    "name": name,
                    "kind": kind,
                    "metric": metric,
                    "weight": weight,
                    "method": method,
                    "params": params,
                    "order": order,
                }
                for order, (name, kind, metric, weight, method, params) in enumerate(
                    DEFAULT_CRITERIA
                )
            ],
            "grades": [
                {"grade": grade, "min_score": min_score, "outcome": outcome}
                for grade, min_score, outcome in DEFAULT_GRADES
            ],
        },
    )
