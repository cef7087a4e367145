"""The organization's plan rules, read from Organization.policies with sensible defaults. The
policies are JSON an administrator edits: anything malformed falls back to the default rather
than breaking a dashboard.

- `pace_thresholds`: {"on_track": 1.0, "at_risk": 0.9}: actual over expected-to-date from which a
  target is on track, or at risk (below: behind). Fractions; numbers above 2 are read as
  percentages (100, 90).
- `budget_overrun`: "refuse" (default: an expense beyond its budget line is a 400) or "allow"
  (it is recorded and flagged over budget).
- `weekday_weights`: see plans/decomposition.py.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from agents.models import Organization

DEFAULT_ON_TRACK = Decimal("1.00")
DEFAULT_AT_RISK = Decimal("0.90")
OVERRUN_REFUSE = "refuse"
OVERRUN_ALLOW = "allow"


@dataclass(frozen=True)
class PaceThresholds:
    on_track: Decimal = DEFAULT_ON_TRACK
    at_risk: Decimal = DEFAULT_AT_RISK


def _fraction(raw, default: Decimal) -> Decimal:
    try:
        value = Decimal(str(raw))
    except (TypeError, ValueError, InvalidOperation):
        return default
    if not value.is_finite() or value < 0:
        return default
    return value / 100 if value > 2 else value


def pace_thresholds(organization: Organization) -> PaceThresholds:
    raw = (organization.policies or {}).get("pace_thresholds")
    if not isinstance(raw, dict):
        return PaceThresholds()
    on_track = _fraction(raw.get("on_track", DEFAULT_ON_TRACK), DEFAULT_ON_TRACK)
    at_risk = _fraction(raw.get("at_risk", DEFAULT_AT_RISK), DEFAULT_AT_RISK)
    return PaceThresholds(on_track=on_track, at_risk=min(at_risk, on_track))


def budget_overrun(organization: Organization) -> str:
    raw = (organization.policies or {}).get("budget_overrun", OVERRUN_REFUSE)
    return OVERRUN_ALLOW if raw == OVERRUN_ALLOW else OVERRUN_REFUSE
