"""Helpers of tests/test_faults.py that run in OTHER processes: a Celery worker (imported with
`celery worker -I tests.faults_support`, it installs the fault hook below) and short
`python -m tests.faults_support <command> <json>` calls that seed or inspect a database the test
process cannot open itself (a SQLite file, a private PostgreSQL cluster). Each command prints
one JSON line.

Fault hook: with FAULT_KILL_AT=cycle_results in the worker's environment, the appraisal scoring
pass SIGKILLs its own worker after the quantitative scores are written (inside the job's
transaction) and before the totals and ranks are: a crash mid roll-up at a known point, with no
timing luck involved."""

import json
import os
import signal
import sys

from celery.signals import task_prerun


@task_prerun.connect(weak=False)
def _install_fault_hook(**_kwargs):
    if os.environ.get("FAULT_KILL_AT") != "cycle_results":
        return
    from appraisals import evaluation

    if getattr(evaluation.cycle_results, "fault_hook", False):
        return

    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    killed.fault_hook = True
    evaluation.cycle_results = killed


# --- commands -----------------------------------------------------------------------------------


def seed_cycle(members: int) -> dict:
    """An organization with `members` agents, a March 2026 target and sales for each (amounts
    spread so that totals differ, with some ties), an open cycle, and the scoring job's run."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from agents.models import Role
    from notifications.models import JobRun
    from tests.agents.factories import MembershipFactory, OrganizationFactory, ProductFactory
    from tests.appraisals.factories import MARCH, cycle_open, template_create
    from tests.plans.factories import SalesPlanFactory, TargetFactory
    from tests.reports.factories import SalesEntryFactory

    organization = OrganizationFactory(slug="faults", name="Faults")
    leader = MembershipFactory(organization=organization, role=Role.LEADER)
    product = ProductFactory(organization=organization)
    plan = SalesPlanFactory(organization=organization, start=MARCH[0], end=MARCH[1])
    agents = [MembershipFactory(organization=organization, upline=leader) for _ in range(members)]
    for member in agents:
        TargetFactory(plan=plan, member=member, value=Decimal("1000.00"))
    cycle = cycle_open(template_create(organization))
    # The sales arrive after the cycle opened: the nightly pass has every score to change.
    for index, member in enumerate(agents):
        SalesEntryFactory(
            organization=organization,
            member=member,
            product=product,
            date=dt.date(2026, 3, 5),
            amount=Decimal(100 + 25 * (index % 30)),
        )
    run = JobRun.objects.create(
        organization=organization,
        job="appraisal_cycles_score",
        local_date=MARCH[1],
        enqueued_at=timezone.now(),
    )
    from appraisals.tasks import appraisal_cycles_score_task

    # The nightly job's task, published to the broker for the worker the test starts.
    appraisal_cycles_score_task.delay(run.pk)
    return {
        "cycle": cycle.pk,
        "job_run": run.pk,
        "appraisals": cycle.appraisals.count(),
        "before": check_cycle(cycle.pk),
    }


def sweep_and_wait(job_run: int, timeout: float = 60.0) -> dict:
    """The outbox sweeper's job part, run as if long after the run was enqueued and started;
    then wait for a worker to finish the run."""
    import time

    from django.utils import timezone

    from notifications import conf
    from notifications.models import JobRun
    from notifications.scheduling import RUNNING_AT_MOST, job_runs_sweep

    later = (
        timezone.now()
        + RUNNING_AT_MOST
        + timezone.timedelta(seconds=conf.get("NOTIFICATIONS_JOB_GRACE") + 60)
    )
    enqueued = job_runs_sweep(now=later)
    deadline = time.monotonic() + timeout
    while JobRun.objects.get(pk=job_run).status == "pending" and time.monotonic() < deadline:
        time.sleep(0.2)
    return {"enqueued": enqueued, **job_run_state(job_run)}


def job_run_state(job_run: int) -> dict:
    from notifications.models import JobRun

    run = JobRun.objects.get(pk=job_run)
    return {"status": run.status, "attempts": run.attempts}


def check_cycle(cycle: int, rescore: bool = False, job_run: int | None = None) -> dict:
    from django.db import transaction
    from django.db.models import Count

    from appraisals.models import Appraisal, AppraisalCycle, CriterionKind, CriterionScore
    from appraisals.services import appraisal_cycle_score

    cycle = AppraisalCycle.objects.get(pk=cycle)
    scores = CriterionScore.objects.filter(appraisal__cycle=cycle)
    quantitative = cycle.template.criteria.filter(kind=CriterionKind.QUANTITATIVE)
    appraisals = Appraisal.objects.filter(cycle=cycle)
    changed = None
    if rescore:  # scoring again must change nothing when the state is complete and right
        with transaction.atomic():
            changed = appraisal_cycle_score(cycle=cycle)
    return {
        "appraisals": appraisals.count(),
        "criteria": cycle.template.criteria.count(),
        "score_rows": scores.count(),
        "doubled": scores.values("appraisal", "criterion")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "quantitative_scored": scores.filter(
            criterion__in=quantitative, score__isnull=False
        ).count(),
        "quantitative_criteria": quantitative.count(),
        "totals_and_ranks": [
            [str(total) if total is not None else None, rank]
            for total, rank in appraisals.values_list("total_score", "rank")
        ],
        "rescore": changed,
        "job_run": job_run_state(job_run) if job_run else None,
    }


def seed_web() -> dict:
    """An agent of a new organization and an access token for them (the web process shares the
    SECRET_KEY of the test settings)."""
    from rest_framework_simplejwt.tokens import RefreshToken

    from tests.agents.factories import MembershipFactory, OrganizationFactory

    organization = OrganizationFactory(slug="outage", name="Outage")
    member = MembershipFactory(organization=organization)
    return {
        "org": organization.slug,
        "token": str(RefreshToken.for_user(member.user).access_token),
        "today": organization.local_today().isoformat(),
    }


COMMANDS = {
    "seed_cycle": seed_cycle,
    "sweep_and_wait": sweep_and_wait,
    "check_cycle": check_cycle,
    "seed_web": seed_web,
}


def main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    command, args = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    if args.pop("migrate", False):  # a fresh database: migrate it in the same process
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    print(json.dumps(COMMANDS[command](**args)))


if __name__ == "__main__":
    main(sys.argv[1:])
