"""Where benchmark 4's machine time goes: CPU per request of each process (Linux).

    DJANGO_SETTINGS_MODULE=config.settings.local DATABASE_URL=postgres://... \\
        python -m bench.cpu [--requests 3000] [--rounds 2] [-- extra gunicorn arguments]

Starts the gunicorn of benchmark 4 (bench.run.gunicorn), runs its loads (`/healthz`, `GET me/`,
the daily-report PUT) from this process with 8 clients, and reads the CPU time (user + system)
of every process of each group from /proc/<pid>/stat before and after each load: the web
workers, PostgreSQL (every `postgres` process: the backends, the WAL writer, the checkpointer),
Redis, and this process (the load generator). Prints, per load, the requests per second, each
group's CPU per request, their total, and the wall time of the two cores per request (how much
of the machine a request took; the difference to the total is time nobody could use, such as
waiting for the disk). The figures of bench/README.md's per-process tables come from here.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import django

if __name__ == "__main__":  # pragma: no cover - only when run as a script
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    django.setup()

from bench.run import Context, _load, gunicorn, http_jobs  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _named(command: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == command:
                    pids.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return pids


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(child) for child in (task / "children").read_text().split()]
    return children


def main(argv=None) -> int:
    from agents.models import Organization
    from bench.seed import SLUG

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("gunicorn_args", nargs="*", help="after --: more gunicorn arguments")
    args = parser.parse_args(argv)
    ctx = Context.load(Organization.objects.get(slug=SLUG))
    with gunicorn(ctx, args.gunicorn_args) as (port, server):
        jobs = http_jobs(ctx, args.requests, args.clients)
        _load(port, jobs["healthz"][:200], args.clients)  # warm-up: imports, connections
        _load(port, jobs["put"][:200], args.clients)
        groups = {
            "web workers": [server.pid, *_children(server.pid)],
            "PostgreSQL": _named("postgres"),
            "Redis": _named("redis-server"),
            "load generator": [os.getpid()],
        }
        print(f"{'load':8} {'rps':>6}  " + "  ".join(f"{name:>14}" for name in groups), end="")
        print(f"  {'total':>8}  {'machine':>8}  (ms of CPU per request)")
        for _round in range(args.rounds):
            for name in ("healthz", "me", "put"):
                before = {g: sum(map(_cpu_seconds, pids)) for g, pids in groups.items()}
                seconds, _latencies, errors = _load(port, jobs[name], args.clients)
                after = {g: sum(map(_cpu_seconds, pids)) for g, pids in groups.items()}
                count = len(jobs[name])
                per = {g: (after[g] - before[g]) / count * 1000 for g in groups}
                print(
                    f"{name:8} {count / seconds:6.0f}  "
                    + "  ".join(f"{per[g]:14.2f}" for g in groups)
                    + f"  {sum(per.values()):8.2f}  {CORES * seconds / count * 1000:8.2f}"
                    + (f"  {len(errors)} errors" if errors else "")
                )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
