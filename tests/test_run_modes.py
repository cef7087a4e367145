"""The run-mode wiring: the embedded launcher (`make run`), its broker, and the production compose
file and .env.example kept in step with the settings."""

import json
import os
import re
import subprocess
import sys
import threading
from io import StringIO
from pathlib import Path

import pytest
import yaml
from kombu import Connection, Exchange, Queue

from config import run_embedded
from config.celery_app import app as celery_app
from config.run_embedded import WORKER_QUEUES, Child, Supervisor, build_commands

BASE_DIR = Path(__file__).resolve().parent.parent
PY = sys.executable


def test_build_commands():
    web, worker, beat = build_commands(port=8123, beat_schedule="/x/celerybeat-schedule", python=PY)
    assert web == Child("web", (PY, "manage.py", "runserver", "127.0.0.1:8123"))
    celery = (PY, "-m", "celery", "-A", "config.celery_app")
    assert worker == Child(
        "worker",
        (
            *celery,
            "worker",
            "-l",
            "info",
            "-Q",
            "default,reminders,rollups,outbound",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ),
    )
    assert beat == Child("beat", (*celery, "beat", "-l", "info", "-s", "/x/celerybeat-schedule"))


@pytest.mark.parametrize(
    ("environ", "port"), [({}, 8000), ({"PORT": ""}, 8000), ({"PORT": "9001"}, 9001)]
)
def test_port_from_env(environ, port):
    assert run_embedded.port_from_env(environ) == port


@pytest.mark.parametrize("value", ["http", "0", "70000"])
def test_port_from_env_refuses_nonsense(value):
    with pytest.raises(SystemExit):
        run_embedded.port_from_env({"PORT": value})


def test_child_env_defaults_to_local_settings():
    assert run_embedded.child_env({})["DJANGO_SETTINGS_MODULE"] == "config.settings.local"
    env = run_embedded.child_env({"DJANGO_SETTINGS_MODULE": "x.y", "A": "1"})
    assert env["DJANGO_SETTINGS_MODULE"] == "x.y" and env["A"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"


def test_banner_names_urls_and_logins():
    from agents.demo import DEMO_LOGINS

    text = run_embedded.banner(port=8000, logins=DEMO_LOGINS, org_slug="demo")
    for url in ("/api/docs/", "/admin/", "/api/schema/"):
        assert f"http://127.0.0.1:8000{url}" in text
    for login in DEMO_LOGINS:
        assert login.username in text and login.password in text


def test_every_routed_queue_is_consumed():
    celery_app.loader.import_default_modules()  # autodiscover the apps' tasks
    for name, task in celery_app.tasks.items():
        if name.startswith("celery."):
            continue
        queue = getattr(task, "queue", None) or celery_app.amqp.router.route({}, name)["queue"]
        queue = getattr(queue, "name", queue)
        assert queue in WORKER_QUEUES, f"{name} goes to {queue!r}, which no worker consumes"


def local_broker_settings(var_dir: Path) -> dict:
    """The embedded settings as a fresh process sees them with no servers configured."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.pop("CELERY_BROKER_URL", None)
    code = (
        "import json; from config.settings import local as s; "
        "print(json.dumps([s.CELERY_BROKER_URL, s.CELERY_BROKER_TRANSPORT_OPTIONS]))"
    )
    out = subprocess.run(
        [PY, "-c", code],
        cwd=BASE_DIR,
        env={**env, "VAR_DIR": str(var_dir)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    url, options = json.loads(out.strip().splitlines()[-1])
    return {"url": url, "options": options}


def test_embedded_broker_is_the_filesystem_under_var(tmp_path):
    broker = local_broker_settings(tmp_path)
    assert broker["url"].startswith("filesystem://")
    folders = run_embedded.ensure_broker_folders(broker["options"])
    assert folders and all(folder.is_dir() and tmp_path in folder.parents for folder in folders)

    # A message published to a worker queue comes back out: the folders and options work.
    queue = Queue("reminders", Exchange("reminders", type="direct"), routing_key="reminders")
    with Connection(broker["url"], transport_options=broker["options"]) as conn:
        conn.Producer().publish(
            {"hello": "worker"},
            exchange=queue.exchange,
            routing_key="reminders",
            declare=[queue],
            serializer="json",
        )
        message = conn.SimpleQueue(queue).get(timeout=5)
        assert message.payload == {"hello": "worker"}
        message.ack()


SLEEPER = (PY, "-c", "import time; time.sleep(60)")
# A child with a child of its own (as runserver's reloader and the worker's pool are).
PARENT_OF_SLEEPER = (
    PY,
    "-c",
    "import subprocess, sys, time; "
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)",
)


def test_supervisor_stops_the_others_when_one_dies(tmp_path):
    crasher = (PY, "-c", "import time; time.sleep(0.5); raise SystemExit(3)")
    supervisor = Supervisor(
        [Child("sleeper", PARENT_OF_SLEEPER), Child("crasher", crasher)],
        env=os.environ,
        cwd=tmp_path,
        out=StringIO(),
        stop_timeout=5,
    )
    assert supervisor.run() == 3
    assert all(process.poll() is not None for _, process in supervisor.processes)
    assert not any(run_embedded._group_alive(p.pid) for _, p in supervisor.processes)
    assert "crasher exited with code 3" in supervisor.out.getvalue()


def test_supervisor_stops_every_child_on_request(tmp_path):
    supervisor = Supervisor(
        [Child("a", PARENT_OF_SLEEPER), Child("b", SLEEPER)],
        env=os.environ,
        cwd=tmp_path,
        out=StringIO(),
        stop_timeout=5,
    )
    ready = threading.Event()
    threading.Timer(0.5, supervisor.request_stop).start()
    assert supervisor.run(ready=lambda: True, on_ready=ready.set) == 0
    assert ready.is_set()
    assert not any(run_embedded._group_alive(p.pid) for _, p in supervisor.processes)


def test_a_child_killed_by_a_signal_exits_like_a_shell(tmp_path):
    killed = (PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    supervisor = Supervisor(
        [Child("killed", killed)], env=os.environ, cwd=tmp_path, out=StringIO(), stop_timeout=5
    )
    assert supervisor.run() == 128 + 9


# --- Production: docker-compose.yml and .env.example against the settings --------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def command_of(service: dict) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else command.split()


def test_compose_services_and_health_checks(compose):
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("postgres", "redis", "web", "worker", "beat"):
        assert "healthcheck" in services[name], name
    assert command_of(services["web"])[:2] == ["gunicorn", "config.wsgi"]
    worker = command_of(services["worker"])
    assert worker[worker.index("-Q") + 1] == ",".join(WORKER_QUEUES)
    assert {"--without-gossip", "--without-mingle"} <= set(worker)
    assert "beat" in command_of(services["beat"])


def test_compose_app_services_get_production_settings(compose):
    anchors = compose["x-app"]["environment"]
    for name in (
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "EMAIL_URL",
        "DJANGO_SECURE_SSL_REDIRECT",
    ):
        assert name in anchors, name
    assert anchors["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    for name in ("web", "worker", "beat", "migrate"):
        assert compose["services"][name]["environment"] == anchors, name


# env.str("NAME", ...), env.db("NAME"), environ.Env().str("NAME", ...)
ENV_READ = r"""[Ee]nv(?:\(\))?(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]+)["']"""


def settings_env_vars() -> set[str]:
    names = set()
    for path in (BASE_DIR / "config" / "settings").glob("*.py"):
        text = path.read_text()
        names |= set(re.findall(ENV_READ, text))
        names |= set(re.findall(r"""environ\.get\(\s*["']([A-Z][A-Z0-9_]+)["']""", text))
    return names - {"PYTEST_XDIST_WORKER"}


def test_env_example_lists_every_variable_the_settings_read():
    names = settings_env_vars()
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= names
    listed = set(
        re.findall(
            r"^#?\s*([A-Z][A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(), flags=re.MULTILINE
        )
    )
    assert names - listed == set()
