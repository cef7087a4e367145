"""The benchmarks of issue 7, run against the organization bench/seed.py built.

    DJANGO_SETTINGS_MODULE=config.settings.local DATABASE_URL=postgres://... python -m bench.run

Each benchmark times the product and a hand-written SQL statement over the same facts in the same
run (median of --repeat runs), checks first that both give the same answer, and prints one line:
name, measured ratio, bound, absolute times, PASS/FAIL. Exits 1 if any line FAILs.
`checks(organization)` runs only the correctness checks (tests/test_bench_smoke.py).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from dataclasses import dataclass, field
from decimal import Decimal
from http.client import HTTPConnection
from typing import NamedTuple

import django

if __name__ == "__main__":  # pragma: no cover - only when run as a script
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    # Measured as production runs: with DEBUG on, Django keeps a log of every query (formatting
    # each statement with its parameters), which taxes the product's queries and not much else.
    # The gunicorn of benchmark 4 inherits it.
    os.environ.setdefault("DJANGO_DEBUG", "false")
    # Connections kept as production keeps them (config/settings/production.py): the roll-up's
    # second connection (appraisals.selectors.OwnFactsAhead) lasts from one run to the next.
    os.environ.setdefault("CONN_MAX_AGE", "60")
    django.setup()
    # The web workers' garbage-collector settings (config/wsgi.py), for what runs in-process.
    from config.gc_tuning import tune

    tune()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

CENT = Decimal("0.01")


class Rollback(Exception):
    """Raised to undo a benchmark's writes."""


@dataclass
class Result:
    name: str
    ratio: float | None = None
    bound: str = ""
    times: str = ""
    ok: bool = True
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        ratio = "-" if self.ratio is None else f"{self.ratio:.2f}"
        verdict = "PASS" if self.ok else "FAIL"
        extra = f"  [{'; '.join(self.notes)}]" if self.notes else ""
        head = f"{self.name:<38} ratio {ratio:>6}  bound {self.bound:<12}"
        return f"{head} {self.times}  {verdict}{extra}"


def money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def sql(query: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def median_time(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


class Paired(NamedTuple):
    product_s: float
    product: object
    reference_s: float
    reference: object
    ratio: float


def paired_times(product, reference, repeat: int) -> Paired:
    """`product` and `reference` run alternately, `repeat` rounds, so that both sample the same
    stretches of the machine's time (a shared host's speed drifts, and two blocks timed one
    after the other measured the drift): the median time of each, each one's last result, and
    the median of the rounds' ratios, which is the figure the bound applies to."""
    product_times, reference_times, ratios = [], [], []
    product_result = reference_result = None
    for _ in range(max(repeat, 1)):
        started = time.perf_counter()
        product_result = product()
        middle = time.perf_counter()
        reference_result = reference()
        ended = time.perf_counter()
        product_times.append(middle - started)
        reference_times.append(ended - middle)
        ratios.append(product_times[-1] / reference_times[-1])
    return Paired(
        statistics.median(product_times),
        product_result,
        statistics.median(reference_times),
        reference_result,
        statistics.median(ratios),
    )


def in_rollback(fn):
    """Run fn in a transaction that is rolled back; return its result."""
    box = {}
    try:
        with transaction.atomic():
            box["value"] = fn()
            raise Rollback
    except Rollback:
        pass
    return box["value"]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}ms"


# --- The bench context ---------------------------------------------------------------------


@dataclass
class Context:
    organization: object
    owner: object
    plan: object
    cycle: object
    first: dt.date
    end: dt.date

    @classmethod
    def load(cls, organization) -> Context:
        from agents.models import Membership, Role
        from appraisals.models import AppraisalCycle
        from plans.models import SalesPlan

        size = organization.policies["bench_seed"]
        first = dt.date.fromisoformat(size["first"])
        end = first + dt.timedelta(days=size["days"] - 1)
        return cls(
            organization=organization,
            owner=Membership.objects.select_related("user").get(
                organization=organization, role=Role.OWNER
            ),
            plan=SalesPlan.objects.get(organization=organization),
            cycle=AppraisalCycle.objects.get(organization=organization),
            first=first,
            end=end,
        )

    def client(self, user=None):
        from rest_framework.test import APIClient

        client = APIClient(HTTP_HOST="localhost")
        client.force_authenticate(user=user or self.owner.user)
        return client

    def url(self, tail: str) -> str:
        return f"/api/v1/orgs/{self.organization.slug}/{tail}"


def _respond(client, url, params=None):
    """The product's side of a GET: the request handled and its JSON body rendered."""
    response = client.get(url, params or {})
    if response.status_code != 200:
        raise AssertionError(f"GET {url} {params}: {response.status_code} {response.content[:300]}")
    return response


def _get(client, url, params=None):
    return _respond(client, url, params).json()


def _timed_get(client, url, params, repeat: int) -> tuple[float, object]:
    """The median time of the request alone (what the server spends; reading the answer back
    is the client's work and stays out of the timing), and the answer, parsed."""
    seconds, response = median_time(lambda: _respond(client, url, params), repeat)
    return seconds, response.json()


# --- 1. Appraisal roll-up ------------------------------------------------------------------


ROLLUP_SQL = """
SELECT COALESCE(s.member_id, r.member_id), s.amount, s.collected, s.profit, s.customers,
       r.followups, r.minutes, r.reports
FROM (
    SELECT member_id, SUM(amount) AS amount, SUM(collected) AS collected, SUM(profit) AS profit,
           COUNT(DISTINCT customer_id) AS customers
    FROM reports_salesentry WHERE organization_id = %s AND date BETWEEN %s AND %s
    GROUP BY member_id
) s
FULL JOIN (
    SELECT member_id, SUM(followups) AS followups, SUM(communication_minutes) AS minutes,
           COUNT(*) AS reports
    FROM reports_dailyreport WHERE organization_id = %s AND date BETWEEN %s AND %s
    GROUP BY member_id
) r ON r.member_id = s.member_id
"""


def rollup(ctx: Context, repeat: int) -> Result:
    from appraisals.models import CriterionScore
    from appraisals.services import appraisal_cycle_score

    cycle = ctx.cycle
    params = (ctx.organization.pk, cycle.start, cycle.end) * 2
    paired = paired_times(
        lambda: appraisal_cycle_score(cycle=cycle), lambda: sql(ROLLUP_SQL, params), repeat
    )
    product_s, sql_s, rows = paired.product_s, paired.reference_s, paired.reference
    expected = {member_id: money(amount) for member_id, amount, *_ in rows}
    stored = {
        member_id: money(raw)
        for member_id, raw in CriterionScore.objects.filter(
            organization=ctx.organization, appraisal__cycle=cycle, criterion__metric="sales_amount"
        ).values_list("appraisal__member_id", "raw_value")
    }
    wrong = [m for m, value in stored.items() if value != expected.get(m, money(0))]
    result = Result("1 appraisal roll-up", paired.ratio, "<= 3x")
    result.times = f"product {ms(product_s)} sql {ms(sql_s)} ({len(stored)} appraisals)"
    result.ok = not wrong and bool(stored) and result.ratio <= 3
    if wrong:
        result.notes.append(f"{len(wrong)} sales_amount raw values differ from SQL")
    return result


def rollup_memory(ctx: Context) -> str:
    from appraisals.services import appraisal_cycle_score

    tracemalloc.start()
    appraisal_cycle_score(cycle=ctx.cycle)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return f"{peak / 2**20:.1f} MiB"


# --- 2. Attainment -------------------------------------------------------------------------


ATTAINMENT_MEMBER_SQL = """
SELECT t.member_id, SUM(t.value), COALESCE(SUM(s.total), 0)
FROM plans_target t
LEFT JOIN (
    SELECT member_id, SUM(amount) AS total FROM reports_salesentry
    WHERE organization_id = %s AND date BETWEEN %s AND %s GROUP BY member_id
) s ON s.member_id = t.member_id
WHERE t.plan_id = %s AND t.metric = 'sales_amount' AND t.tier = 'base'
  AND t.member_id IS NOT NULL AND t.product_id IS NULL AND t.customer_id IS NULL
GROUP BY t.member_id
"""

ATTAINMENT_REGION_SQL = """
SELECT t.region_id, t.value, COALESCE(SUM(s.total), 0)
FROM plans_target t
JOIN agents_region r ON r.id = t.region_id
LEFT JOIN agents_region sr ON sr.organization_id = r.organization_id AND sr.path LIKE r.path || '%%'
LEFT JOIN (
    SELECT region_id, SUM(amount) AS total FROM reports_salesentry
    WHERE organization_id = %s AND date BETWEEN %s AND %s GROUP BY region_id
) s ON s.region_id = sr.id
WHERE t.plan_id = %s AND t.metric = 'sales_amount' AND t.tier = 'base'
  AND t.region_id IS NOT NULL AND t.member_id IS NULL AND t.product_id IS NULL
  AND t.customer_id IS NULL
GROUP BY t.region_id, t.value
"""


def attainment(ctx: Context, repeat: int, group_by: str) -> Result:
    from agents.models import Membership, Role

    client = ctx.client()
    params = {
        "plan": ctx.plan.pk,
        "metric": "sales_amount",
        "group_by": group_by,
        "date": ctx.end.isoformat(),
    }
    url = ctx.url("attainment/")
    query = ATTAINMENT_MEMBER_SQL if group_by == "member" else ATTAINMENT_REGION_SQL
    sql_params = (ctx.organization.pk, ctx.plan.start, ctx.end, ctx.plan.pk)
    paired = paired_times(
        lambda: _respond(client, url, params), lambda: sql(query, sql_params), repeat
    )
    product_s, rows = paired.product_s, paired.product.json()
    sql_s, expected_rows = paired.reference_s, paired.reference
    got = {row["key"]: (money(row["target"]), money(row["actual"])) for row in rows}
    expected = {key: (money(target), money(actual)) for key, target, actual in expected_rows}
    # Query count must not grow with the data: the whole organization against one leader's
    # subtree (a fraction of the rows) must take the same number of queries.
    with CaptureQueriesContext(connection) as whole:
        _get(client, url, params)
    leader = (
        Membership.objects.filter(organization=ctx.organization, role=Role.LEADER)
        .select_related("user")
        .order_by("depth", "id")
        .first()
    )
    with CaptureQueriesContext(connection) as part:
        part_rows = _get(ctx.client(leader.user), url, params)
    result = Result(f"2 attainment group_by={group_by}", paired.ratio, "<= 3x")
    result.times = (
        f"product {ms(product_s)} sql {ms(sql_s)} ({len(got)} rows; queries "
        f"{len(whole)} whole org, {len(part)} for a {len(part_rows)}-row subtree)"
    )
    result.ok = got == expected and bool(got) and len(whole) == len(part) and result.ratio <= 3
    if got != expected:
        diff = [k for k in set(got) | set(expected) if got.get(k) != expected.get(k)]
        result.notes.append(f"{len(diff)} rows differ from SQL, e.g. {diff[:3]}")
    if len(whole) != len(part):
        result.notes.append("query count depends on the size")
    return result


# --- 3. Target progress --------------------------------------------------------------------


# What a hand-written daily progress report reads, in one statement: the organization's calendar
# exceptions over the target's period (the other days are decided by its working weekdays) and
# the agent's sales by day up to the as-of date. The working days are what the target is
# decomposed over, so a report with a daily target series cannot do without them.
PROGRESS_SQL = """
SELECT date, MAX(workday), SUM(amount) FROM (
  SELECT date, CASE WHEN is_workday THEN 1 ELSE 0 END AS workday, 0 AS amount
  FROM agents_calendarday
  WHERE organization_id = %(org)s AND date BETWEEN %(start)s AND %(end)s
  UNION ALL
  SELECT date, NULL, amount FROM reports_salesentry
  WHERE organization_id = %(org)s AND member_id = %(member)s
    AND date BETWEEN %(start)s AND %(as_of)s
) AS facts
GROUP BY date ORDER BY date
"""


def progress(ctx: Context, repeat: int) -> Result:
    """The ratio is the product's progress selector (plans.progress.target_progress: the
    facts, the working calendar, the daily decomposition, pace) against the hand-written
    statement reading the same facts and calendar (PROGRESS_SQL). The whole request through the
    API is timed too and printed next to it, with its query count (bound: < 20) and its own
    ratio: a DRF request's fixed cost (middleware, authentication, the membership and the scoped
    target lookups, rendering; about 5-10 ms here) is many times a 0.4 ms statement, so 3x
    cannot hold for the HTTP time (bench/README.md). Both answers, the daily actuals and the
    working days the target is spread over, are checked against the SQL."""
    from agents.calendar import iter_dates
    from plans.models import Target
    from plans.progress import target_progress

    target = (
        Target.objects.filter(plan=ctx.plan, member__isnull=False, include_downline=False)
        .order_by("-member__depth", "id")
        .first()
    )
    loaded = Target.objects.select_related("plan", "member", "region", "product", "customer")
    loaded = loaded.get(pk=target.pk)  # as the API's scoped lookup loads it
    client = ctx.client()
    url = ctx.url(f"targets/{target.pk}/progress/")
    params = {"date": ctx.end.isoformat()}
    http_s, answer = _timed_get(client, url, params, repeat)
    sql_params = {
        "org": ctx.organization.pk,
        "member": target.member_id,
        "start": target.start,
        "end": target.end,
        "as_of": ctx.end,
    }
    paired = paired_times(
        lambda: target_progress(organization=ctx.organization, target=loaded, as_of=ctx.end),
        lambda: sql(PROGRESS_SQL, sql_params),
        repeat,
    )
    selector_s, found = paired.product_s, paired.product
    sql_s, rows = paired.reference_s, paired.reference
    with CaptureQueriesContext(connection) as queries:
        _get(client, url, params)
    workdays = set(ctx.organization.workdays)
    exceptions = {str(day): workday for day, workday, _amount in rows if workday is not None}
    sql_working_days = {
        str(day)
        for day in iter_dates(target.start, target.end)
        if exceptions.get(str(day), day.isoweekday() in workdays)
    }
    expected = {str(day): money(total) for day, _workday, total in rows if total}
    got = {
        day["date"]: money(day["actual"]) for day in answer["daily"] if day["actual"] is not None
    }
    got = {day: value for day, value in got.items() if value or day in expected}
    by_selector = {
        str(day.date): money(day.actual)
        for day in found.daily
        if day.actual is not None and (day.actual or str(day.date) in expected)
    }
    # The target is spread over the working days only (large enough here for every one of them
    # to get a share): the days with a daily target are the SQL's working days.
    days_with_target = {str(day.date) for day in found.daily if day.target > 0}
    result = Result("3 target progress (daily)", paired.ratio, "<= 3x, <20q")
    result.times = (
        f"selector {ms(selector_s)} sql {ms(sql_s)}; through the API {ms(http_s)} "
        f"({http_s / sql_s:.1f}x, {len(queries)} queries)"
    )
    total = sum(expected.values(), money(0))
    same = (
        got == expected
        and by_selector == expected
        and days_with_target == sql_working_days
        and money(answer["actual"]) == total
        and money(found.actual) == total
    )
    result.ok = same and len(queries) < 20 and result.ratio <= 3
    if not same:
        result.notes.append("daily series or working days differ from SQL")
    return result


# --- 4. Daily-report PUT through gunicorn --------------------------------------------------


def _report_payload(products, customer_id, quantity: int = 2) -> dict:
    return {
        "followups": 3,
        "communication_minutes": 45,
        "orders": 3,
        "summary": "bench",
        "lines": [
            {
                "product": p.pk,
                "customer": customer_id,
                "quantity": quantity,
                "amount": str(p.price * quantity),
            }
            for p in products
        ],
    }


def _agents_with_customer(ctx: Context, count: int):
    from agents.models import Customer

    rows = (
        Customer.objects.filter(organization=ctx.organization, owner__role="agent")
        .select_related("owner__user")
        .order_by("owner_id", "id")
        .distinct("owner_id")
        if connection.vendor == "postgresql"
        else None
    )
    if rows is None:
        seen, rows = set(), []
        for customer in (
            Customer.objects.filter(organization=ctx.organization, owner__role="agent")
            .select_related("owner__user")
            .order_by("owner_id", "id")
        ):
            if customer.owner_id not in seen:
                seen.add(customer.owner_id)
                rows.append(customer)
    return list(rows[:count])


def daily_report_check(ctx: Context) -> bool:
    """PUT a report with three lines through the API, then again with other quantities: the
    stored lines are the last ones sent, three of them (replaced, never doubled)."""
    from agents.models import Product

    customer = _agents_with_customer(ctx, 1)[0]
    products = list(Product.objects.filter(organization=ctx.organization).order_by("id")[:3])
    today = ctx.organization.local_today()
    client = ctx.client(customer.owner.user)

    def put(quantity):
        url = ctx.url(f"me/daily-reports/{today.isoformat()}/")
        response = client.put(url, _report_payload(products, customer.pk, quantity), format="json")
        if response.status_code not in (200, 201):
            raise AssertionError(f"PUT {url}: {response.status_code} {response.content[:300]}")
        return sql(
            "SELECT s.product_id, s.quantity, s.amount FROM reports_salesentry s "
            "JOIN reports_dailyreport r ON r.id = s.daily_report_id "
            "WHERE r.organization_id = %s AND r.member_id = %s AND r.date = %s "
            "ORDER BY s.product_id",
            (ctx.organization.pk, customer.owner_id, today),
        )

    rows = in_rollback(lambda: (put(2), put(3), put(3))[2])
    return [(p, q, money(a)) for p, q, a in rows] == [
        (p.pk, 3, money(p.price * 3)) for p in products
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _load(port, jobs: list[tuple[str, str, bytes | None, dict]], threads: int):
    """Run the (method, path, body, headers) jobs over `threads` keep-alive connections; return
    (seconds, latencies, errors)."""
    latencies, errors = [], []
    lock = threading.Lock()
    chunks = [jobs[i::threads] for i in range(threads)]

    def worker(chunk):
        conn = HTTPConnection("127.0.0.1", port, timeout=30)
        for method, path, body, headers in chunk:
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError as exc:
                conn.close()
                conn = HTTPConnection("127.0.0.1", port, timeout=30)
                status = str(exc)
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if status not in (200, 201):
                    errors.append(status)
        conn.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started, latencies, errors


@contextlib.contextmanager
def gunicorn(ctx: Context, extra_args=()):
    """Benchmark 4's server: gunicorn -w 2 on a free loopback port, as production runs it
    (`CONN_MAX_AGE=60`), throttles raised; yields (port, process). On the way out it stops and
    removes the reports filed today, so the data set stays as seeded."""
    port = _free_port()
    env = {
        **os.environ,
        "THROTTLE_USER": "1000000/min",
        "THROTTLE_ANON": "1000000/min",
        "CONN_MAX_AGE": "60",  # what config/settings/production.py uses
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local"),
    }
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn, loopback only
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            *extra_args,
        ],
        env=env,
    )
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        yield port, server
    finally:
        server.terminate()
        server.wait(timeout=30)
        from reports.models import DailyReport, SalesEntry

        ids = list(
            DailyReport.objects.filter(
                organization=ctx.organization, date=ctx.organization.local_today()
            ).values_list("pk", flat=True)
        )
        SalesEntry.objects.filter(daily_report_id__in=ids).delete()
        DailyReport.objects.filter(pk__in=ids).delete()


def http_jobs(ctx: Context, requests: int, clients: int = 8) -> dict[str, list]:
    """Benchmark 4's loads, `requests` each: `put` (today's report with three lines, other
    quantities at each PUT, by `clients * 4` agents with their bearer tokens), `healthz`, and
    `me` (GET /api/v1/me/ with the same tokens, the simplest authenticated request: JWT, the user
    and their memberships, one small serializer; printed for reference, no bound)."""
    import json

    from rest_framework_simplejwt.tokens import AccessToken

    from agents.models import Product

    customers = _agents_with_customer(ctx, clients * 4)
    products = list(Product.objects.filter(organization=ctx.organization).order_by("id")[:3])
    today = ctx.organization.local_today().isoformat()
    put_jobs = []
    for i in range(requests):
        customer = customers[i % len(customers)]
        token = str(AccessToken.for_user(customer.owner.user))
        put_jobs.append(
            (
                "PUT",
                ctx.url(f"me/daily-reports/{today}/"),
                # An agent's successive PUTs change every line (1-5 of each product): the
                # filing writes them all, as an agent correcting the day's figures makes it.
                json.dumps(_report_payload(products, customer.pk, 1 + i % 5)).encode(),
                {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
        )
    return {
        "healthz": [("GET", "/healthz", None, {})] * requests,
        "me": [
            ("GET", "/api/v1/me/", None, {"Authorization": h["Authorization"]})
            for _m, _p, _b, h in put_jobs
        ],
        "put": put_jobs,
    }


SLICES = 4


def daily_report_http(
    ctx: Context, requests: int = 400, threads: int = 8, repeat: int = 1
) -> Result:
    """`repeat` rounds in one server, each `requests` of /healthz and of the PUT in alternating
    slices, then `requests` of GET me/ (for reference); the ratio is the median of the rounds'
    ratios. A machine whose speed drifts (a shared host) moves both sides of each ratio."""
    result = Result("4 daily-report PUT / healthz RPS", None, ">= 0.25x")
    correct = daily_report_check(ctx)
    rounds, put_lat, health_lat, errors = [], [], [], []
    with gunicorn(ctx) as (port, _server):
        jobs = http_jobs(ctx, requests, threads)
        _load(port, jobs["healthz"][: threads * 5], threads)  # warm-up
        for _round in range(max(repeat, 1)):
            # The two loads in alternating slices, so that both sample the same stretches of
            # the machine's time.
            health_s = put_s = 0.0
            for part in range(SLICES):
                seconds, latencies, health_err = _load(port, jobs["healthz"][part::SLICES], threads)
                health_s, health_lat, errors = (
                    health_s + seconds,
                    health_lat + latencies,
                    errors + health_err,
                )
                seconds, latencies, put_err = _load(port, jobs["put"][part::SLICES], threads)
                put_s, put_lat, errors = put_s + seconds, put_lat + latencies, errors + put_err
            me_s, _me_lat, me_err = _load(port, jobs["me"], threads)
            errors += me_err
            rounds.append((requests / put_s, requests / health_s, requests / me_s))
    ratios = sorted(put / health for put, health, _me in rounds)
    put_rps, health_rps, me_rps = (statistics.median(side) for side in zip(*rounds, strict=True))
    p99 = statistics.quantiles(put_lat, n=100)[98]
    result.ratio = statistics.median(ratios)
    result.times = (
        f"PUT {put_rps:.0f} rps (p99 {ms(p99)}), healthz {health_rps:.0f} rps "
        f"(p99 {ms(statistics.quantiles(health_lat, n=100)[98])}); {requests} requests each, "
        f"{threads} clients, gunicorn -w 2; "
        + (f"{len(rounds)} rounds, ratios {ratios[0]:.2f}-{ratios[-1]:.2f}; " if repeat > 1 else "")
        + f"for reference GET me/ {me_rps:.0f} rps ({me_rps / health_rps:.2f}x)"
    )
    result.ok = correct and not errors and result.ratio >= 0.25
    if errors:
        result.notes.append(f"{len(errors)} errors, e.g. {errors[:3]}")
    if not correct:
        result.notes.append("stored lines differ from those sent")
    return result


# --- 5. Reminder fan-out -------------------------------------------------------------------


MISSING_SQL = """
SELECT m.id FROM agents_membership m
WHERE m.organization_id = %s AND m.role IN ('agent', 'leader')
  AND m.status IN ('probation', 'active') AND m.joined_on <= %s
  AND NOT EXISTS (SELECT 1 FROM reports_dailyreport r
                  WHERE r.organization_id = m.organization_id AND r.member_id = m.id
                    AND r.date = %s)
"""


def fanout(ctx: Context, repeat: int) -> Result:
    from agents.calendar import is_working_day
    from notifications.models import Notification
    from reports.tasks import daily_report_reminders_send

    organization = ctx.organization
    day = organization.local_today()
    while not is_working_day(organization=organization, day=day):
        day += dt.timedelta(days=1)
    missing = [row[0] for row in sql(MISSING_SQL, (organization.pk, day, day))]

    def product():
        def run():
            created = daily_report_reminders_send(organization=organization, local_date=day)
            recipients = set(
                Notification.objects.filter(
                    organization=organization, dedupe_key__startswith="daily-report-reminder:"
                ).values_list("recipient_id", flat=True)
            )
            return created, recipients

        return in_rollback(run)

    def baseline():
        def run():
            Notification.objects.bulk_create(
                Notification(
                    organization=organization,
                    recipient_id=member_id,
                    kind="daily_report_reminder",
                    title="Daily report",
                    body="Please file today's report.",
                    dedupe_key=f"bench:{day}:{member_id}",
                )
                for member_id in missing
            )

        return in_rollback(run)

    paired = paired_times(product, baseline, repeat)
    product_s, (created, recipients), sql_s = paired.product_s, paired.product, paired.reference_s
    result = Result("5 reminder fan-out", paired.ratio, "<= 3x")
    result.times = f"product {ms(product_s)} bulk insert {ms(sql_s)} ({len(missing)} members)"
    correct = created == len(missing) and recipients == set(missing)
    result.ok = correct and bool(missing) and result.ratio <= 3
    if not correct:
        result.notes.append(f"notified {created}, SQL says {len(missing)} are missing")
    return result


# --- 6. List endpoints ---------------------------------------------------------------------


LISTS = {
    "daily-reports/": "SELECT id FROM reports_dailyreport WHERE organization_id = %s "
    "ORDER BY date DESC, member_id LIMIT %s",
    "sales/": "SELECT id FROM reports_salesentry WHERE organization_id = %s "
    "ORDER BY date DESC, id DESC LIMIT %s",
}


def lists(ctx: Context, repeat: int) -> list[Result]:
    client = ctx.client()
    results = []
    for tail, query in LISTS.items():
        url = ctx.url(tail)
        timings, counts, correct = {10: [], 200: []}, {}, True
        for size in timings:
            _respond(client, url, {"page_size": size})  # warm-up
        # The two sizes alternately, so that both sample the same stretches of the machine's
        # time; the medians of each.
        for _ in range(repeat):
            for size in timings:
                started = time.perf_counter()
                _respond(client, url, {"page_size": size})
                timings[size].append(time.perf_counter() - started)
        for size in timings:
            params = {"page_size": size}
            with CaptureQueriesContext(connection) as queries:
                answer = _get(client, url, params)
            timings[size], counts[size] = statistics.median(timings[size]), len(queries)
            expected = [row[0] for row in sql(query, (ctx.organization.pk, size))]
            correct = correct and [row["id"] for row in answer["results"]] == expected
        result = Result(f"6 list {tail} per page 200/10", timings[200] / timings[10], "<= 2x")
        result.times = (
            f"page 200 {ms(timings[200])} page 10 {ms(timings[10])} "
            f"(queries {counts[200]} / {counts[10]})"
        )
        result.ok = correct and counts[200] == counts[10] and result.ratio <= 2
        if not correct:
            result.notes.append("page differs from SQL")
        if counts[200] != counts[10]:
            result.notes.append("query count depends on the page size")
        results.append(result)
    return results


# --- Import memory -------------------------------------------------------------------------


def import_memory(ctx: Context, rows: int = 50_000) -> str:
    from agents.models import Membership, Product
    from reports.imports import sales_import_file

    codes = list(
        Membership.objects.filter(organization=ctx.organization, role="agent")
        .order_by("id")
        .values_list("code", flat=True)[:500]
    )
    skus = list(
        Product.objects.filter(organization=ctx.organization)
        .order_by("id")
        .values_list("sku", flat=True)
    )
    lines = ["date,member,product,quantity,amount"]
    for i in range(rows):
        lines.append(f"{ctx.end.isoformat()},{codes[i % len(codes)]},{skus[i % len(skus)]},1,10.00")
    data = ("\n".join(lines) + "\n").encode()

    def run():
        tracemalloc.start()
        start = time.perf_counter()
        created = sales_import_file(
            organization=ctx.organization, actor=None, data=data, filename="bench.csv"
        )
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return created, seconds, peak

    created, seconds, peak = in_rollback(run)
    return f"{peak / 2**20:.1f} MiB peak, {created} rows in {seconds:.1f}s"


# --- Entry points --------------------------------------------------------------------------


def checks(organization) -> dict[str, bool]:
    """Correctness only (no timing bounds): product answer == hand-written SQL answer."""
    ctx = Context.load(organization)
    found = {}
    for result in [
        rollup(ctx, 1),
        attainment(ctx, 1, "member"),
        attainment(ctx, 1, "region"),
        progress(ctx, 1),
        fanout(ctx, 1),
        *lists(ctx, 1),
    ]:
        found[result.name] = not any(
            "differ" in note or "notified" in note for note in result.notes
        )
    found["4 daily-report PUT"] = daily_report_check(ctx)
    return found


def main(argv=None) -> int:
    from agents.models import Organization
    from bench.seed import SLUG

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--no-http", action="store_true", help="skip the gunicorn benchmark")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["1", "2", "3", "4", "5", "6", "mem"],
        help="run only these benchmarks (by number; mem = the peak memory lines)",
    )
    args = parser.parse_args(argv)
    chosen = set(args.only or ["1", "2", "3", "4", "5", "6", "mem"])
    if args.no_http:
        chosen.discard("4")
    organization = Organization.objects.get(slug=SLUG)
    ctx = Context.load(organization)
    from django.conf import settings

    if connection.vendor == "postgresql":
        # The tables as autovacuum keeps them in production, whatever the last run left:
        # statistics, and the visibility map that lets a list's count read only the index
        # (without it, page 10 of a list counted from the table and flattered the page-size
        # ratios). Quick when nothing changed.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    print(
        f"bench organization: {organization.policies['bench_seed']}, {connection.vendor}, "
        f"DEBUG={settings.DEBUG}"
    )
    steps = [
        ("1", lambda: [rollup(ctx, args.repeat)]),
        ("2", lambda: [attainment(ctx, args.repeat, "member")]),
        ("2", lambda: [attainment(ctx, args.repeat, "region")]),
        ("3", lambda: [progress(ctx, args.repeat)]),
        ("4", lambda: [daily_report_http(ctx, args.requests, repeat=args.repeat)]),
        ("5", lambda: [fanout(ctx, args.repeat)]),
        ("6", lambda: lists(ctx, args.repeat)),
    ]
    failed = False
    for number, step in steps:
        if number not in chosen:
            continue
        for result in step():
            print(result.line(), flush=True)
            failed = failed or not result.ok
    if "mem" in chosen:
        print(f"peak memory: appraisal roll-up {rollup_memory(ctx)}", flush=True)
        print(f"peak memory: 50,000-row spreadsheet import {import_memory(ctx)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
