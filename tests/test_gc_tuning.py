"""Web workers and Celery pool processes run with the garbage-collector settings of
config/gc_tuning.py (issue 7: about a quarter of a whole organization's attainment went to full
collections walking the objects every process holds from start-up)."""

import json
import os
import subprocess
import sys

import pytest

from config.gc_tuning import THRESHOLDS

PROBE = """
import gc, json, sys
{setup}
print(json.dumps({{"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}}))
"""


def _run(setup: str) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", PROBE.format(setup=setup)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "setup",
    [
        "import config.wsgi",
        "from config.celery_app import app\n"
        "from celery.signals import worker_process_init\n"
        "worker_process_init.send(sender=None)",
    ],
    ids=["web", "celery"],
)
def test_long_running_processes_freeze_start_up_objects(setup):
    state = _run(setup)
    assert tuple(state["threshold"]) == THRESHOLDS
    # Django and the project's modules: far more than a bare interpreter holds.
    assert state["frozen"] > 20_000


def test_a_bare_interpreter_keeps_the_defaults():
    state = _run("")
    assert tuple(state["threshold"]) != THRESHOLDS and state["frozen"] == 0
