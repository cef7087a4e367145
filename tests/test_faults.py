"""Fault tests (issue 8) against PRIVATE throwaway servers started here, never the machine's
shared PostgreSQL and Redis:

- Redis (the broker) down while an agent files critical feedback: the request succeeds, the
  outbox keeps the deliveries; Redis back, the sweeper sends each exactly once.
- A Celery worker SIGKILLed in the middle of the nightly appraisal roll-up (a fault hook in
  tests/faults_support.py kills it after the scores are written, before the ranks): nothing
  half-written survives; the job-run sweeper re-enqueues the run and a new worker completes it:
  every appraisal scored once, no doubled score rows, ranks right.
- PostgreSQL restarted under a running web process: API requests answer 503 JSON with
  Retry-After quickly, /readyz 503; the database back, the same process answers 200 again.

Skipped when redis-server or the PostgreSQL binaries are missing, unless REQUIRE_FAULT_TESTS=1
(CI), where that is a failure."""

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.core import mail
from django.db import connection

from notifications import services as notification_services
from notifications.models import Delivery, DeliveryStatus, Notification
from reports.models import DailyReport, MarketFeedback

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
REQUIRED = os.environ.get("REQUIRE_FAULT_TESTS") == "1"


def _require(found, what: str):
    if not found:
        message = f"{what} not found"
        if REQUIRED:
            pytest.fail(f"{message}, and REQUIRE_FAULT_TESTS=1")
        pytest.skip(message)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            value = predicate()
            if value:
                return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def _child_env(**overrides) -> dict:
    """The environment of a helper process: test settings, this checkout, and only the servers
    named here (never the shared ones of the surrounding run)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DJANGO_", "CELERY_", "DATABASE_", "REDIS_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        PYTHONPATH=str(ROOT),
        REDIS_URL="",
        CELERY_BROKER_URL="memory://",
        LOG_LEVEL="WARNING",
    )
    env.update(overrides)
    return env


def _support(command: str, env: dict, **args) -> dict:
    done = subprocess.run(
        [PYTHON, "-m", "tests.faults_support", command, json.dumps(args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- a private Redis ----------------------------------------------------------------------------


class PrivateRedis:
    def __init__(self, binary: str, workdir: Path):
        self.binary, self.workdir, self.port = binary, workdir, _free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(lambda: self.client().ping(), timeout=10, what="the private redis-server")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory):
    binary = _require(shutil.which("redis-server"), "redis-server")
    server = PrivateRedis(binary, tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def broker_on(private_redis):
    """The project's Celery app publishes to the private Redis for the test."""
    from config.celery_app import app

    saved = app.conf.broker_url, app.conf.broker_transport_options

    def reset_pools():
        # kombu keeps its pools per broker URL: forgetting the app's references is enough.
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.broker_url, app.conf.broker_transport_options = private_redis.url, {}
    reset_pools()
    yield app
    app.conf.broker_url, app.conf.broker_transport_options = saved
    reset_pools()


def _drain(app, queue: str) -> int:
    """Consume what is queued on `queue` in the private Redis and run each task here, until the
    queue stays empty (a task may enqueue more). Returns the number of tasks run."""
    ran = 0
    with app.connection_for_read() as conn:
        simple = conn.SimpleQueue(queue)
        try:
            while True:
                try:
                    message = simple.get(block=True, timeout=0.5)
                except simple.Empty:
                    return ran
                args, kwargs, _embed = message.decode()
                app.tasks[message.headers["task"]].apply(args=args, kwargs=kwargs)
                message.ack()
                ran += 1
        finally:
            simple.close()


# --- 1. Redis down: the request succeeds, the outbox sends later, once ----------------------------


def test_broker_down_the_request_succeeds_and_the_sweeper_sends_once(
    transactional_db, world, client_for, private_redis, broker_on, settings
):
    client = client_for(world.agent)
    private_redis.stop()
    try:
        started = time.monotonic()
        response = client.post(
            "/api/v1/orgs/acme/feedback/",
            {
                "category": "product_issue",
                "title": "Batch 42 leaks",
                "body": "Three returns.",
                "urgency": "critical",
            },
        )
        assert response.status_code == 201, response.content
        report = client.put(
            f"/api/v1/orgs/acme/me/daily-reports/{world.org.local_today().isoformat()}/",
            {"followups": 2, "summary": "Filed while the broker was down."},
        )
        assert report.status_code == 201, report.content
        assert time.monotonic() - started < 10
    finally:
        private_redis.start()

    assert MarketFeedback.objects.filter(pk=response.json()["id"]).exists()
    assert DailyReport.objects.filter(member=world.agent).exists()
    pending = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True)
    )
    assert pending, "the outbox keeps what could not be enqueued"
    assert Notification.objects.filter(recipient=world.leader).count() == 1  # the inbox at once
    assert mail.outbox == []

    # The sweeper takes what stayed pending longer than its grace period (none here).
    settings.NOTIFICATIONS_SWEEP_GRACE = 0
    assert notification_services.deliveries_sweep() == len(pending)
    assert private_redis.client().llen("outbound") >= 1  # really published to the broker
    assert _drain(broker_on, "outbound") >= 1
    assert Delivery.objects.filter(pk__in=pending, status=DeliveryStatus.SENT).count() == len(
        pending
    )
    sent = len(mail.outbox)
    assert sent == len(pending)
    assert world.leader.user.email in {message.to[0] for message in mail.outbox}

    # Sweeping and draining again sends nothing twice.
    assert notification_services.deliveries_sweep() == 0
    assert _drain(broker_on, "outbound") == 0
    assert notification_services.deliveries_send(delivery_ids=pending).sent == []
    assert len(mail.outbox) == sent


# --- 2. A worker killed mid roll-up ---------------------------------------------------------


@pytest.fixture
def worker_database(transactional_db, tmp_path):
    """A database a worker process can reach: the test database itself on PostgreSQL; on SQLite
    (whose test database lives in this process's memory) a file, migrated when seeded.
    Returns (url, needs_migrate)."""
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        user = quote(s["USER"] or "") + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
        host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
        return f"postgres://{user}@{host}/{s['NAME']}", False
    return f"sqlite:///{tmp_path / 'worker.sqlite3'}", True


def _start_worker(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config.celery_app",
            "worker",
            "-P",
            "solo",
            "-Q",
            "rollups",
            "-I",
            "tests.faults_support",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _competition_ranks(totals: list) -> list[int]:
    return [1 + sum(other > total for other in totals) for total in totals]


def test_a_worker_killed_mid_rollup_leaves_nothing_half_done_and_a_rerun_completes(
    private_redis, worker_database, tmp_path
):
    url, needs_migrate = worker_database
    env = _child_env(
        DATABASE_URL=url, REDIS_URL=private_redis.url, CELERY_BROKER_URL=private_redis.url
    )
    log = tmp_path / "worker.log"
    members = 40
    # Seeding also publishes the nightly scoring task of the cycle's organization.
    seeded = _support("seed_cycle", env, members=members, migrate=needs_migrate)
    assert seeded["appraisals"] == members + 1  # and their leader
    appraised, run = seeded["appraisals"], seeded["job_run"]

    doomed = _start_worker({**env, "FAULT_KILL_AT": "cycle_results"}, log)
    try:
        assert doomed.wait(timeout=60) == -signal.SIGKILL, log.read_text()[-3000:]
    finally:
        _stop(doomed)

    # The scores were written in the job's transaction: the kill rolled all of it back, and
    # the run is still pending, started once.
    crashed = _support("check_cycle", env, cycle=seeded["cycle"], job_run=run)
    assert crashed.pop("job_run") == {"status": "pending", "attempts": 1}
    assert crashed == {key: value for key, value in seeded["before"].items() if key != "job_run"}

    worker = _start_worker(env, log)
    try:
        recovered = _support("sweep_and_wait", env, job_run=run)
    finally:
        _stop(worker)
    assert recovered["enqueued"] == 1, recovered
    assert recovered["status"] == "done", (recovered, log.read_text()[-3000:])

    final = _support("check_cycle", env, cycle=seeded["cycle"], rescore=True)
    assert final["appraisals"] == appraised
    assert final["doubled"] == 0
    assert final["score_rows"] == appraised * final["criteria"]
    assert final["quantitative_scored"] == appraised * final["quantitative_criteria"]
    # Complete and right: a full scoring pass over the same facts changes nothing.
    assert final["rescore"] == {"scores_changed": 0, "appraisals_changed": 0}
    totals = [float(total) for total, _rank in final["totals_and_ranks"]]
    ranks = [rank for _total, rank in final["totals_and_ranks"]]
    before = [float(total) for total, _rank in seeded["before"]["totals_and_ranks"]]
    assert len(set(totals)) > 1 and totals != before  # the roll-up really changed the scores
    assert ranks == _competition_ranks(totals)


# --- 3. PostgreSQL restarted under a running web process ------------------------------------


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """A throwaway cluster in its own directory on its own port. PostgreSQL refuses to run as
    root: as root (a container), it runs as the `postgres` system user."""

    def __init__(self, bindir: Path, workdir: Path):
        self.bindir, self.data, self.port = bindir, workdir / "data", _free_port()
        self.log = workdir / "postgres.log"
        self.socket_dir = workdir
        self.prefix = []
        if os.geteuid() == 0:
            import pwd

            user = pwd.getpwnam("postgres")
            os.chown(workdir, user.pw_uid, user.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        subprocess.run(
            [
                *self.prefix,
                self.bindir / "initdb",
                "-D",
                self.data,
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def pg_ctl(self, *args) -> None:
        subprocess.run(
            [
                *self.prefix,
                self.bindir / "pg_ctl",
                "-D",
                self.data,
                "-l",
                self.log,
                "-w",
                "-t",
                "60",
                *args,
            ],
            check=True,
            capture_output=True,
            timeout=90,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off"
        )
        self.pg_ctl("-o", options, "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")


@pytest.fixture
def private_postgres():
    bindir = _require(_postgres_bin(), "PostgreSQL binaries (/usr/lib/postgresql/*/bin)")
    if os.geteuid() == 0:
        _require(shutil.which("runuser") and _has_user("postgres"), "runuser and a postgres user")
    # Not under pytest's tmp_path: its parents are private to the user running the tests.
    workdir = Path(tempfile.mkdtemp(prefix="agentteams-faults-pg-"))
    server = PrivatePostgres(bindir, workdir)
    try:
        server.init()
        server.start()
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _http(method: str, url: str, *, token: str | None = None, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, headers, payload = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, payload = error.code, error.headers, error.read()
    return status, headers, json.loads(payload or b"null"), time.monotonic() - started


def test_postgres_restart_answers_503_then_recovers_without_a_restart(private_postgres, tmp_path):
    env = _child_env(DATABASE_URL=private_postgres.url, CONN_MAX_AGE="60")
    seeded = _support("seed_web", env, migrate=True)
    port = _free_port()
    log = tmp_path / "web.log"
    web = subprocess.Popen(
        [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    token = seeded["token"]
    report_url = f"{base}/api/v1/orgs/{seeded['org']}/me/daily-reports/{seeded['today']}/"
    try:
        _wait(lambda: _http("GET", f"{base}/healthz")[0] == 200, timeout=30, what="runserver")
        assert _http("GET", f"{base}/api/v1/me/", token=token)[0] == 200
        assert _http("PUT", report_url, token=token, body={"followups": 1})[0] == 201

        private_postgres.stop()
        for method, url, body in (
            ("GET", f"{base}/api/v1/me/", None),
            ("PUT", report_url, {"followups": 2}),
        ):
            status, headers, payload, elapsed = _http(method, url, token=token, body=body)
            assert status == 503, (method, url, status, payload, log.read_text()[-2000:])
            assert payload["detail"]
            assert int(headers["Retry-After"]) > 0
            assert elapsed < 5
        status, _headers, payload, _elapsed = _http("GET", f"{base}/readyz")
        assert status == 503 and payload["checks"]["database"].startswith("error")
        assert _http("GET", f"{base}/healthz")[0] == 200  # the process itself is alive

        private_postgres.start()
        status, _headers, payload, _elapsed = _http("GET", f"{base}/api/v1/me/", token=token)
        assert status == 200, payload
        assert _http("PUT", report_url, token=token, body={"followups": 3})[0] == 200
        assert _http("GET", f"{base}/readyz")[0] == 200
        assert web.poll() is None  # the same process, never restarted
        assert "database unavailable" in log.read_text()  # the outage was logged

        # Restarted while nobody asked: the persistent connection is dead, the health check
        # reads the server's goodbye on its socket (config/db/postgresql/base.py), and the
        # next requests are answered on a new connection, not with a 503.
        private_postgres.stop()
        private_postgres.start()
        assert _http("GET", f"{base}/api/v1/me/", token=token)[0] == 200
        assert _http("PUT", report_url, token=token, body={"followups": 4})[0] == 200
    finally:
        _stop(web)
