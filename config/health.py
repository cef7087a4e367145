"""Liveness and readiness probes for load balancers and docker-compose."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    """The process answers. Touches nothing else."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request):
    """The database and the broker answer; 503 naming what does not. `outbox` tells how many
    deliveries are due and how long the oldest has waited (seconds): for monitoring, it does
    not affect readiness."""
    from config.celery_app import app

    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = f"error: {exc.__class__.__name__}"
    ready = all(value == "ok" for value in checks.values())
    answer = {"status": "ok" if ready else "unavailable", "checks": checks}
    if checks["database"] == "ok":
        # Information, not a check: a backlog does not make this process unready (restarting
        # web processes would not send a single message), so it never turns the answer 503.
        answer["outbox"] = _outbox_backlog()
    return JsonResponse(answer, status=200 if ready else 503)


def _outbox_backlog() -> dict:
    from notifications.observability import outbox_backlog

    try:
        return outbox_backlog()
    except Exception as exc:  # noqa: BLE001 - never fails readiness
        return {"error": exc.__class__.__name__}
