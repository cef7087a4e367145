"""Settings shared by every run mode. Everything that differs between machines comes from the
environment (12-factor), read through django-environ."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(str(BASE_DIR / ".env"), overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- Apps -----------------------------------------------------------------------------------
DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework_simplejwt",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
]
LOCAL_APPS = [
    "agents",
    "reports",
    "plans",
    "appraisals",
    "notifications",
    "console",  # the admin dashboard: composes every app above, imported by none
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

AUTH_USER_MODEL = "agents.User"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A database outage outside the API (admin, plain views): 503 JSON, not a 500.
    "config.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: turns a locked-out admin login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data -----------------------------------------------------------------------------------
# The embedded default is SQLite in var/; production sets DATABASE_URL to PostgreSQL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# A persistent connection that broke (the database restarted) is replaced at the next request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable database fails a request in seconds (503, config/middleware.py), not after
    # the operating system's TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        # Parameters are bound by the server, and a statement a connection runs again and again
        # (the membership lookup, a report's write) is parsed and planned once per connection
        # after `prepare_threshold` runs: less CPU for PostgreSQL and for the web worker, which
        # no longer quotes every value into the SQL text (issue 7, bench/README.md). Set
        # DATABASE_PREPARED_STATEMENTS=false behind a pooler in transaction mode that cannot
        # keep prepared statements (PgBouncer before 1.21, or without max_prepared_statements).
        DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
        DATABASES["default"]["OPTIONS"].setdefault(
            "prepare_threshold", env.int("DATABASE_PREPARE_THRESHOLD", default=5)
        )
    # The same backend, with a health check that polls the socket instead of a round trip
    # (config/db/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "config.db.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat share one SQLite file without "database is
    # locked" errors under light concurrency; the timeout covers the rest.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            # Writers take the lock when their transaction begins, so a second writer waits
            # (up to the timeout) instead of failing with "database is locked" mid-transaction.
            "transaction_mode": "IMMEDIATE",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="agentteams"),
        }
    }
else:
    # Throttle counters must be shared by every process (runserver or gunicorn workers, the
    # Celery worker): a local-memory cache is per process, so the embedded mode keeps its cache
    # in files under var/.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# Login lockout (django-axes; agents/api/lockout.py): 5 failures of one username from one address
# lock that pair for 15 minutes (every further failure restarts the 15 minutes); a successful
# login resets the count. Counted in the database, so every process shares it and admins see the
# attempts in the admin. The address is the one DRF's throttles use (NUM_PROXIES, below).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "agents.api.lockout.client_ip"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False

# --- I18N -----------------------------------------------------------------------------------
LANGUAGE_CODE = env.str("DJANGO_LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"  # stored times are UTC; each organization's own timezone is applied on top
USE_I18N = True
USE_TZ = True

# --- Static ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve app static files without collectstatic in dev and tests

# --- Request limits -------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
# Rows an XLSX export may hold; more is a 400 asking to narrow the filters (agents/xlsx.py).
EXPORT_MAX_ROWS = env.int("EXPORT_MAX_ROWS", default=100_000)

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON in and out (../shared/API.md); the sales import declares its own multipart parsers.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "agents.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "agents.api.filtering.StrictFilterBackend",
        "agents.api.filtering.StrictSearchFilter",
        "agents.api.filtering.StrictOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "agents.api.schema.AgentTeamsAutoSchema",
    "EXCEPTION_HANDLER": "agents.api.exceptions.exception_handler",
    # DRF's anon/user throttles: one Redis round trip, failing open (agents/api/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "agents.api.throttling.AnonRateThrottle",
        "agents.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="60/min"),
        "user": env.str("THROTTLE_USER", default="1200/min"),
        "auth": env.str("THROTTLE_AUTH", default="20/min"),
        # The token endpoint per user name, from any address (agents/api/throttling.py).
        "auth_user": env.str("THROTTLE_AUTH_USER", default="10/min"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# The daily-report PUT's fast path (reports/api/fast_put.py); false sends every PUT through the
# DRF view.
REPORTS_FAST_PUT = env.bool("REPORTS_FAST_PUT", default=True)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=30)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    # The token view sends Django's `user_logged_in` (agents/api/lockout.py), whose receiver
    # updates last_login: simplejwt's own update would write it twice.
    "UPDATE_LAST_LOGIN": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Agent Teams API",
    "DESCRIPTION": (
        "Sales plans, daily reports, market feedback and appraisals for teams of sales agents. "
        "Every organization-scoped path starts with /api/v1/orgs/{org_slug}/."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Assets are served from drf-spectacular-sidecar so the docs work without internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "agents.models.Role.choices",
        "MemberStatusEnum": "agents.models.MemberStatus.choices",
        "CustomerStatusEnum": "agents.models.CustomerStatus.choices",
        "CustomerKindEnum": "agents.models.CustomerKind.choices",
    },
}

# --- Celery ---------------------------------------------------------------------------------
# The embedded default uses kombu's filesystem transport (no server); production uses Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Longer than the longest task's hard time limit, so a late-acked task is not redelivered
    # while it still runs.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 5 * 60
CELERY_TASK_TIME_LIMIT = 10 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
# The worker logs through LOGGING below (one format, LOG_FORMAT, for every process) instead of
# replacing the root logger's handlers with its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@agentteams.local")

# --- Logging --------------------------------------------------------------------------------
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # One JSON object per line, with the records' extra fields (organization, task, ids).
        "json": {"()": "config.log_format.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own console handler would print every line a second time through the root.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
}

ADMIN_SITE_HEADER = env.str("ADMIN_SITE_HEADER", default="Agent Teams")

# --- Invitations (agents/invitations.py) --------------------------------------------------------
# The link an invitee receives: {token} is replaced by the invitation token (the front end's page
# calls GET /api/v1/invitations/{token}/ and then accept/ or register/).
FRONTEND_INVITE_URL = env.str(
    "FRONTEND_INVITE_URL", default="http://localhost:8000/api/v1/invitations/{token}/"
)
INVITATION_EXPIRY_DAYS = env.int("INVITATION_EXPIRY_DAYS", default=7)

# --- Notifications and scheduled jobs (notifications/; see notifications/conf.py) -------------
NOTIFICATIONS_WEBHOOK_TIMEOUT = env.float("NOTIFICATIONS_WEBHOOK_TIMEOUT", default=5.0)
# Webhooks to loopback/private addresses are refused (the URL is a tenant's input) unless true.
NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = env.bool("NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE", default=False)
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=8)
NOTIFICATIONS_RETRY_BACKOFF = env.float("NOTIFICATIONS_RETRY_BACKOFF", default=30.0)
NOTIFICATIONS_RETRY_BACKOFF_MAX = env.float("NOTIFICATIONS_RETRY_BACKOFF_MAX", default=3600.0)
NOTIFICATIONS_EMAIL_ENABLED = env.bool("NOTIFICATIONS_EMAIL_ENABLED", default=True)
NOTIFICATIONS_SITE_URL = env.str("NOTIFICATIONS_SITE_URL", default="")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# Retention (notifications/retention.py): days to keep sent/failed deliveries, read
# notifications, unread notifications and finished job runs; never less than 7 days (the dedupe
# window), never anything pending.
RETENTION_DELIVERIES_DAYS = env.int("RETENTION_DELIVERIES_DAYS", default=30)
RETENTION_NOTIFICATIONS_DAYS = env.int("RETENTION_NOTIFICATIONS_DAYS", default=90)
RETENTION_UNREAD_NOTIFICATIONS_DAYS = env.int("RETENTION_UNREAD_NOTIFICATIONS_DAYS", default=365)
RETENTION_JOBRUNS_DAYS = env.int("RETENTION_JOBRUNS_DAYS", default=90)
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=5000)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["NotificationKindEnum"] = (
    "notifications.models.NotificationKind.choices"
)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["OutcomeEnum"] = "appraisals.models.Outcome.choices"
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["InvitationStatusEnum"] = (
    "agents.models.InvitationStatus.choices"
)
# One beat entry per job. A daily job's entry runs the dispatcher every minute, which starts the
# job in every organization whose local time has just passed the job's time of day (read from the
# organization each time: a settings change needs no restart). `expires` drops ticks that a
# backed-up worker could only run late: the next tick does the same work.
# Queues by kind (the worker consumes all four; scale them apart by running workers with -Q).
CELERY_TASK_ROUTES = {
    "notifications.tasks.delivery_dispatch_task": {"queue": "outbound"},
    "notifications.tasks.notifications_purge_task": {"queue": "rollups"},
    "reports.tasks.*": {"queue": "reminders"},
    "plans.tasks.*": {"queue": "reminders"},
    "appraisals.tasks.appraisal_review_reminders_task": {"queue": "reminders"},
    "appraisals.tasks.*": {"queue": "rollups"},
}
NOTIFICATIONS_DAILY_JOBS = (
    "daily_report_reminder",  # at the organization's reminder_time
    "daily_report_missing_summary",  # at its report_cutoff
    "appraisal_cycles_open",  # 00:10 local
    "appraisal_cycles_score",  # 01:00 local
    "appraisal_review_reminder",  # 09:00 local
)
CELERY_BEAT_SCHEDULE.update(
    {
        job.replace("_", "-"): {
            "task": "notifications.tasks.scheduled_jobs_dispatch_task",
            "args": (job,),
            "schedule": 60.0,
            "options": {"expires": 55},
        }
        for job in NOTIFICATIONS_DAILY_JOBS
    }
)
CELERY_BEAT_SCHEDULE.update(
    {
        "outbox-sweep": {
            "task": "notifications.tasks.outbox_sweep_task",
            "schedule": 60.0,
            "options": {"expires": 55},
        },
        "feedback-escalation": {
            "task": "reports.tasks.market_feedback_escalate_task",
            "schedule": 5 * 60.0,
            "options": {"expires": 4 * 60},
        },
        "plan-task-reminders": {
            "task": "plans.tasks.plan_task_reminders_task",
            "schedule": 15 * 60.0,
            "options": {"expires": 14 * 60},
        },
        # Nightly retention purge (notifications/retention.py), at a quiet hour in China.
        "notifications-purge": {
            "task": "notifications.tasks.notifications_purge_task",
            "schedule": crontab(hour=19, minute=30),  # 03:30 Asia/Shanghai
            "options": {"expires": 6 * 3600},
        },
    }
)
