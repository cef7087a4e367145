"""Garbage-collector settings for the long-running processes: web workers (config/wsgi.py) and
Celery pool processes (config/celery_app.py). Issue 7, bench/README.md.

A worker holds a few hundred thousand objects that live as long as it does (Django, the URL
configuration, the apps' modules). CPython's full collections walk all of them, and answers that
build thousands of rows (attainment of a whole organization, a 200-row page) set off several
full collections each: about a quarter of such an answer's time. `tune()` moves what exists at
start-up into the permanent generation (gc.freeze, never scanned again; also keeps the pages of
a preloaded master shared after fork) and lets the youngest generation fill up to 10,000
allocations before a collection instead of 700. Reference cycles are still collected; garbage
that is not a cycle never waited for the collector anyway.
"""

import gc

THRESHOLDS = (10_000, 20, 20)


def tune() -> None:
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
