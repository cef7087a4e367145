"""The embedded run mode behind `make run`: the Django web server, a Celery worker and Celery
beat as children of this one process, on SQLite and kombu's filesystem broker, so that a machine
with only Python runs the whole product, reminders included.

    python -m config.run_embedded      (after `manage.py migrate` and `manage.py demo_load`)

Each child runs in its own process group and its output is prefixed with its name. Ctrl-C
(SIGINT), SIGTERM or SIGHUP stops every child and exits 0; a second Ctrl-C kills at once. If a
child dies on its own, the others are stopped and the launcher exits non-zero.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

BASE_DIR = Path(__file__).resolve().parent.parent
SETTINGS_MODULE = "config.settings.local"
HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Every queue tasks are routed to. The production worker (docker-compose.yml) consumes the same.
WORKER_QUEUES = ("default", "reminders", "rollups", "outbound")
# Seconds a child gets after SIGTERM (the worker finishes its running tasks) before SIGKILL.
STOP_TIMEOUT = 15.0
POLL_INTERVAL = 0.3


@dataclass(frozen=True)
class Child:
    name: str
    argv: tuple[str, ...]


def build_commands(*, port: int, beat_schedule: str, python: str = sys.executable) -> list[Child]:
    """The three processes of the embedded mode. Celery runs as `python -m celery` so that it is
    the venv's Celery whatever PATH says."""
    celery = (python, "-m", "celery", "-A", "config.celery_app")
    return [
        Child("web", (python, "manage.py", "runserver", f"{HOST}:{port}")),
        Child(
            "worker",
            (
                *celery,
                "worker",
                "-l",
                "info",
                "-Q",
                ",".join(WORKER_QUEUES),
                "--concurrency",
                "2",
                # The filesystem transport has no server to hold fan-out state: gossip and
                # heartbeats would write event files that nothing reads, and mingle would wait
                # for replies at every start. Tasks and remote control work without them.
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ),
        ),
        Child("beat", (*celery, "beat", "-l", "info", "-s", beat_schedule)),
    ]


def port_from_env(environ: Mapping[str, str]) -> int:
    raw = environ.get("PORT", "").strip()
    if not raw:
        return DEFAULT_PORT
    try:
        port = int(raw)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise SystemExit(f"PORT must be a TCP port number, not {raw!r}.")
    return port


def child_env(environ: Mapping[str, str]) -> dict[str, str]:
    env = dict(environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    env["PYTHONUNBUFFERED"] = "1"  # logs appear as they happen, not when a buffer fills
    return env


def ensure_broker_folders(transport_options: Mapping[str, object]) -> list[Path]:
    """kombu's filesystem transport expects its folders to exist."""
    folders = []
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if transport_options.get(key):
            folder = Path(str(transport_options[key]))
            folder.mkdir(parents=True, exist_ok=True)
            folders.append(folder)
    return folders


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def banner(*, port: int, logins: Iterable, org_slug: str) -> str:
    base = f"http://{HOST}:{port}"
    lines = [
        "",
        "Agent Teams is running (embedded mode: SQLite, Celery on the filesystem broker in var/).",
        f"  API docs   {base}/api/docs/",
        f"  Admin      {base}/admin/",
        f"  Schema     {base}/api/schema/",
        f"  Health     {base}/healthz",
        f"Demo logins (organization '{org_slug}', API paths /api/v1/orgs/{org_slug}/...):",
        *(f"  {login.username:<12} {login.password:<13} {login.description}" for login in logins),
        "Press Ctrl-C to stop the web server, the worker and beat.",
        "",
    ]
    return "\n".join(lines)


def _group_alive(pgid: int) -> bool:
    """Whether a process group still has a live member. Zombies do not count: an orphaned
    grandchild is reaped by init, not by us, and that may take a while."""
    proc = Path("/proc")
    if proc.is_dir():
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                # "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


class Supervisor:
    """Starts the children, relays their output, and stops them all together."""

    def __init__(
        self,
        children: list[Child],
        *,
        env: Mapping[str, str],
        cwd: Path,
        out: TextIO = sys.stdout,
        stop_timeout: float = STOP_TIMEOUT,
    ):
        self.children = children
        self.env = dict(env)
        self.cwd = cwd
        self.out = out
        self.stop_timeout = stop_timeout
        self.stop_requested = threading.Event()
        self.kill_now = threading.Event()
        self.processes: list[tuple[Child, subprocess.Popen]] = []
        self._pumps: list[threading.Thread] = []
        self._out_lock = threading.Lock()

    def say(self, text: str) -> None:
        with self._out_lock:
            self.out.write(text + "\n")
            self.out.flush()

    def request_stop(self, signum=None, frame=None) -> None:
        if self.stop_requested.is_set():
            self.kill_now.set()  # a second Ctrl-C: no more waiting
        self.stop_requested.set()

    def run(
        self,
        *,
        ready: Callable[[], bool] | None = None,
        on_ready: Callable[[], None] | None = None,
    ) -> int:
        """Run until a stop is requested (exit 0) or a child exits (its code, at least 1)."""
        try:
            self._start()
            return self._watch(ready=ready, on_ready=on_ready)
        finally:
            self.stop()

    def _start(self) -> None:
        width = max(len(child.name) for child in self.children)
        for child in self.children:
            process = subprocess.Popen(  # noqa: S603 - argv built by build_commands, no shell
                child.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                bufsize=1,
                # Its own process group: the terminal's Ctrl-C reaches only this launcher, which
                # stops the children in order, and a child's own children (runserver's reloaded
                # server, the worker's pool) can be stopped with it.
                start_new_session=True,
            )
            self.processes.append((child, process))
            pump = threading.Thread(
                target=self._pump, args=(child.name.ljust(width), process), daemon=True
            )
            pump.start()
            self._pumps.append(pump)
            self.say(f"started {child.name} (pid {process.pid}): {' '.join(child.argv)}")

    def _pump(self, prefix: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            with self._out_lock:
                self.out.write(f"{prefix} | {line}")
                self.out.flush()

    def _watch(self, *, ready, on_ready) -> int:
        announced = ready is None
        while not self.stop_requested.is_set():
            for child, process in self.processes:
                code = process.poll()
                if code is not None:
                    self.say(f"{child.name} exited with code {code}; stopping the others.")
                    # A child killed by a signal reports -N; exit as a shell would (128 + N).
                    return 128 - code if code < 0 else code or 1
            if not announced and ready():
                announced = True
                if on_ready is not None:
                    on_ready()
            self.stop_requested.wait(POLL_INTERVAL)
        return 0

    def stop(self) -> None:
        """SIGTERM each child's main process and wait for it; then clear out whatever is left of
        its process group (SIGTERM, then SIGKILL)."""
        running = [(child, p) for child, p in self.processes if p.poll() is None]
        if running:
            self.say("stopping " + ", ".join(child.name for child, _ in running) + " ...")
        for _, process in running:
            _signal_group_leader(process)
        deadline = time.monotonic() + self.stop_timeout
        while time.monotonic() < deadline and not self.kill_now.is_set():
            if all(p.poll() is not None for _, p in running):
                break
            time.sleep(0.1)
        for _, process in self.processes:
            if process.poll() is None:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
            else:
                _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(_group_alive(p.pid) for _, p in self.processes):
            time.sleep(0.1)
        for _, process in self.processes:
            _signal_group(process.pid, signal.SIGKILL)
        for pump in self._pumps:
            pump.join(timeout=2)
        if running:
            self.say("stopped.")


def _signal_group_leader(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    os.chdir(BASE_DIR)
    import django

    django.setup()
    from django.conf import settings

    from agents.demo import DEMO_LOGINS, DEMO_ORG_SLUG

    port = port_from_env(os.environ)
    if not port_is_free(HOST, port):
        print(f"Port {port} on {HOST} is in use; stop what uses it or run with PORT=<another>.")
        return 1
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        ensure_broker_folders(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    children = build_commands(port=port, beat_schedule=settings.CELERY_BEAT_SCHEDULE_FILENAME)
    supervisor = Supervisor(children, env=child_env(os.environ), cwd=BASE_DIR)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, supervisor.request_stop)
    return supervisor.run(
        ready=lambda: port_answers(HOST, port),
        on_ready=lambda: supervisor.say(
            banner(port=port, logins=DEMO_LOGINS, org_slug=DEMO_ORG_SLUG)
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
