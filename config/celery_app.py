import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("agentteams")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _tune_garbage_collector(**_kwargs):
    """The web workers' garbage-collector settings (config/gc_tuning.py) in each pool process:
    a roll-up or a fan-out builds tens of thousands of rows, as the largest answers do."""
    from config.gc_tuning import tune

    tune()
