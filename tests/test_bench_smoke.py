"""The benchmark harness cannot rot: seed a tiny organization with the generator and run every
benchmark's correctness check (product answer == hand-written SQL answer), without timings."""

import pytest
from django.core.management import call_command

from agents.models import Membership, Organization
from bench import run
from bench.seed import SLUG, seed, seeded_size
from reports.models import DailyReport, SalesEntry


@pytest.mark.django_db(transaction=False)
def test_bench_seed_and_checks():
    organization = seed(agents=30, days=4, seed=7, quiet=True)
    assert seeded_size(organization)["agents"] == 30
    members = Membership.objects.filter(organization=organization)
    assert members.count() == 31  # the owner and 30 others
    assert members.order_by("-depth").first().depth == 5  # six levels, owner at 0
    assert all(m.path.endswith(f"/{m.pk}/") for m in members)
    assert DailyReport.objects.filter(organization=organization).exists()
    assert SalesEntry.objects.filter(organization=organization).exists()

    results = run.checks(organization)
    assert results and all(results.values()), results


@pytest.mark.django_db
def test_bench_seed_command_is_deterministic_and_skips_when_seeded(capsys):
    call_command("bench_seed", agents=12, days=2, seed=3)
    organization = Organization.objects.get(slug=SLUG)
    first = sorted(
        SalesEntry.objects.filter(organization=organization).values_list("quantity", "amount")
    )
    call_command("bench_seed", agents=12, days=2, seed=3, if_needed=True)
    assert "already seeded" in capsys.readouterr().out
    call_command("bench_seed", agents=12, days=2, seed=3)  # replaces it: same data again
    organization = Organization.objects.get(slug=SLUG)
    again = sorted(
        SalesEntry.objects.filter(organization=organization).values_list("quantity", "amount")
    )
    assert first == again
