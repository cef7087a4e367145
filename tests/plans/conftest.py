import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from agents.services import calendar_prefill
from tests.plans.factories import SalesPlanFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
P = "/api/v1/orgs/acme/"


class Clock:
    """Stops time at a local moment of the organization's timezone (Asia/Shanghai)."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def set(self, local: str) -> dt.datetime:
        moment = dt.datetime.fromisoformat(local).replace(tzinfo=SHANGHAI)
        utc = moment.astimezone(dt.UTC)
        self.monkeypatch.setattr(timezone, "now", lambda: utc)
        return utc


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def calendar_2026(world):
    """The acme calendar with China's 2026 statutory holidays and make-up working days."""
    calendar_prefill(organization=world.org, year=2026)
    return world.org


@pytest.fixture
def plan_2026(world):
    return SalesPlanFactory(organization=world.org, name="2026")
