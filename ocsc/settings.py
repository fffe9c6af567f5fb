"""OCSC settings: read from environment variables only, with safe embedded defaults.

Every variable is documented in `.env.example`. The embedded profile (SQLite, one
worker) needs none of them; production sets at least SECRET_KEY, ALLOWED_HOSTS and
DATABASE_URL.
"""

import importlib.util
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r}: expected one of 1/0, true/false, yes/no, on/off")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off: set SECRET_KEY to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), or DEBUG=1 locally."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "ocsc.accounts",
    "ocsc.catalog",
    "ocsc.notify",
    "ocsc.cases",
    "ocsc.clients",
    "ocsc.portal",
    "ocsc.insights",
    "ocsc.live",
]

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
]

ROOT_URLCONF = "ocsc.urls"
ASGI_APPLICATION = "ocsc.asgi.application"
WSGI_APPLICATION = "ocsc.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ocsc.portal.context.staff",
            ],
        },
    },
]

# The embedded profile keeps its SQLite file under var/; production sets DATABASE_URL.
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "var"))
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'ocsc.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; IMMEDIATE avoids
    # "database is locked" upgrades inside write transactions.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: OCSC's queries are short, index-driven reads, and compiling one that
    # crosses the JIT cost threshold took 100-500 ms longer than running it (bench/README.md).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    # Prepared statements: parameters bound by the server, and a statement run 5 times on a
    # connection is prepared there, so PostgreSQL stops planning it again. Planning the hot
    # reads' joins cost it more than running them (bench/README.md).
    if env_bool("DB_PREPARED_STATEMENTS", True):
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
# Connection pooling (PostgreSQL only; Django's pool, psycopg_pool): each process keeps
# DB_POOL_MIN_SIZE..DB_POOL_MAX_SIZE connections open and lends one to each request, waiting at
# most DB_POOL_TIMEOUT seconds for a free one. Off when DB_POOL_MAX_SIZE is 0 (the default).
# The pool keeps connections open itself, so DB_CONN_MAX_AGE stays 0. Sizing: docs/deploy.md.
DB_POOL_MAX_SIZE = int(os.environ.get("DB_POOL_MAX_SIZE", "0"))
if DB_POOL_MAX_SIZE > 0:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"DB_POOL_MAX_SIZE={DB_POOL_MAX_SIZE}: connection pooling needs PostgreSQL, but "
            f"DATABASE_URL is {DATABASES['default']['ENGINE']}. Unset DB_POOL_MAX_SIZE."
        )
    if DATABASES["default"]["CONN_MAX_AGE"]:
        raise ImproperlyConfigured(
            "DB_CONN_MAX_AGE must be 0 when DB_POOL_MAX_SIZE is set: the pool keeps "
            "connections open, and Django refuses persistent connections with a pool."
        )
    DB_POOL_MIN_SIZE = int(os.environ.get("DB_POOL_MIN_SIZE", str(min(2, DB_POOL_MAX_SIZE))))
    if not 0 <= DB_POOL_MIN_SIZE <= DB_POOL_MAX_SIZE:
        raise ImproperlyConfigured(
            f"DB_POOL_MIN_SIZE={DB_POOL_MIN_SIZE}: expected 0 to DB_POOL_MAX_SIZE "
            f"({DB_POOL_MAX_SIZE})."
        )
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": DB_POOL_MIN_SIZE,
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": float(os.environ.get("DB_POOL_TIMEOUT", "10")),
    }
# Threads per app server process for every request but live streams (ocsc/bridge.py): by
# default as many as the pool has connections, so that a thread never waits for one.
_threads = os.environ.get("APP_THREADS", "")
if _threads and not (_threads.isdigit() and int(_threads) > 0):
    raise ImproperlyConfigured(f"APP_THREADS={_threads!r}: expected a whole number above 0.")
APP_THREADS = int(_threads) if _threads else DB_POOL_MAX_SIZE or 8
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LOGIN_URL = "portal:sign_in"
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ur", "اردو"), ("ps", "پښتو")]
LANGUAGES_BIDI = ["ur", "ps"]  # Django's own list lacks Pashto, which is written right to left
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Karachi")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Uploaded documents are private: the app streams each one to those who may see its
# application (attachment.file.open), and hands out no address of the file itself.
# FILE_STORAGE=local keeps them under MEDIA_ROOT (one host, or a shared disk); s3 in an
# S3-compatible bucket through django-storages (`pip install 'ocsc[s3]'`), which reads the
# credentials AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the host's role) itself.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
FILE_STORAGE = os.environ.get("FILE_STORAGE", "local")
files_backend: dict[str, Any]  # lower case: not a setting of its own
if FILE_STORAGE == "local":
    files_backend = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif FILE_STORAGE == "s3":
    if importlib.util.find_spec("storages") is None:
        raise ImproperlyConfigured(
            "FILE_STORAGE=s3 needs django-storages with boto3: pip install 'ocsc[s3]'."
        )
    if not os.environ.get("AWS_STORAGE_BUCKET_NAME"):
        raise ImproperlyConfigured(
            "FILE_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME, the bucket that holds the files."
        )
    files_backend = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["AWS_STORAGE_BUCKET_NAME"],
            # Another S3-compatible service (MinIO, Ceph, …): its address; AWS: empty.
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "addressing_style": os.environ.get("AWS_S3_ADDRESSING_STYLE") or None,
            "location": os.environ.get("AWS_LOCATION", ""),  # a folder inside the bucket
            # Objects take the bucket's own access (keep the bucket private); any address
            # made for one is signed and expires.
            "default_acl": None,
            "querystring_auth": True,
            "custom_domain": None,
        },
    }
else:
    raise ImproperlyConfigured(f"FILE_STORAGE={FILE_STORAGE!r}: expected local or s3")
STORAGES = {
    "default": files_backend,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Background work: Django's Tasks API on the database (one worker in the embedded
# profile, several sharing the queue in production). Tests run tasks immediately.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "ocsc.taskqueue.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

MAILERS = {
    "default": {
        "BACKEND": os.environ.get(
            "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
        ),
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "OCSC <no-reply@localhost>")

# Uploaded documents: PDF, JPEG or PNG up to this size, held a day for the uploader.
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
UPLOAD_HOLD = timedelta(hours=24)
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # form fields; files stream to disk beyond this

# Live timelines (Server-Sent Events): a stream ends after this many seconds and the client
# reconnects; the database is polled this often for events from other processes.
LIVE_STREAM_SECONDS = int(os.environ.get("LIVE_STREAM_SECONDS", "300"))
LIVE_POLL_SECONDS = float(os.environ.get("LIVE_POLL_SECONDS", "3"))
LIVE_KEEPALIVE_SECONDS = float(os.environ.get("LIVE_KEEPALIVE_SECONDS", "15"))

# Sign-in by SMS code, and API tokens.
OTP_TTL_SECONDS = int(os.environ.get("OTP_TTL_SECONDS", "300"))
OTP_MAX_ATTEMPTS = int(os.environ.get("OTP_MAX_ATTEMPTS", "5"))
OTP_MAX_PER_PHONE = int(os.environ.get("OTP_MAX_PER_PHONE", "3"))  # per 15 minutes
OTP_MAX_PER_ADDRESS = int(os.environ.get("OTP_MAX_PER_ADDRESS", "20"))  # per hour
# Heads and administrators must use an authenticator app (two-factor) when this is on.
REQUIRE_2FA_FOR_HEADS = env_bool("REQUIRE_2FA_FOR_HEADS", False)
PASSWORD_MAX_FAILURES = int(os.environ.get("PASSWORD_MAX_FAILURES", "10"))  # per 15 minutes
# Proxies in front that append to X-Forwarded-For (nginx: 1). 0: use the peer address.
TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", "0"))
API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", "90"))

# Notifications (docs/notify.md). SMS through a gateway: the console by default, or an
# aggregator's HTTP API described by the SMS_HTTP_* settings.
SMS_GATEWAY = os.environ.get("SMS_GATEWAY", "ocsc.notify.sms.ConsoleGateway")
SMS_HTTP_URL = os.environ.get("SMS_HTTP_URL", "")
SMS_HTTP_METHOD = os.environ.get("SMS_HTTP_METHOD", "POST")
SMS_HTTP_PARAMS = os.environ.get(
    "SMS_HTTP_PARAMS", "to={msisdn}&text={text}&unicode={unicode}&reference={reference}"
)
SMS_HTTP_JSON = env_bool("SMS_HTTP_JSON", False)
SMS_HTTP_USERNAME = os.environ.get("SMS_HTTP_USERNAME", "")
SMS_HTTP_PASSWORD = os.environ.get("SMS_HTTP_PASSWORD", "")
SMS_HTTP_TOKEN = os.environ.get("SMS_HTTP_TOKEN", "")
SMS_HTTP_OK_MATCH = os.environ.get("SMS_HTTP_OK_MATCH", "")
SMS_HTTP_TIMEOUT = float(os.environ.get("SMS_HTTP_TIMEOUT", "10"))
SMS_MAX_SEGMENTS = int(os.environ.get("SMS_MAX_SEGMENTS", "2"))
SMS_INBOUND_SECRET = os.environ.get("SMS_INBOUND_SECRET", "")
SMS_OUTBOX_MAX_AGE_SECONDS = int(os.environ.get("SMS_OUTBOX_MAX_AGE_SECONDS", "600"))
# Web push to the installed app: `manage.py vapid_keys` makes the pair. Empty: no push.
VAPID_PUBLIC_KEY = os.environ.get("VAPID_PUBLIC_KEY", "")
VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", "")
VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "mailto:admin@localhost")
PUSH_SERVICE_HOSTS = env_list(
    "PUSH_SERVICE_HOSTS",
    "fcm.googleapis.com,push.services.mozilla.com,notify.windows.com,push.apple.com",
)
PUSH_TIMEOUT = float(os.environ.get("PUSH_TIMEOUT", "10"))
PUSH_TTL_SECONDS = int(os.environ.get("PUSH_TTL_SECONDS", str(24 * 3600)))
# Delivery: tries, and the wait after the n-th failure (base × 2^(n-1), up to the ceiling).
NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", "6"))
NOTIFY_RETRY_SECONDS = int(os.environ.get("NOTIFY_RETRY_SECONDS", "60"))
NOTIFY_RETRY_MAX_SECONDS = int(os.environ.get("NOTIFY_RETRY_MAX_SECONDS", str(6 * 3600)))
# The timers (`manage.py run_timers`): how often they run, when an undispatched Event, an
# unclaimed notification and an unfinished attempt count as lost, reminders' leads, and the
# hour (local time) of the heads' daily digest.
NOTIFY_TIMER_SECONDS = float(os.environ.get("NOTIFY_TIMER_SECONDS", "30"))
# Days the task queue keeps the rows of finished tasks (the timers delete older ones).
TASK_RESULTS_KEEP_DAYS = float(os.environ.get("TASK_RESULTS_KEEP_DAYS", "7"))
# At most this many waiting calls of a task that merges them (the notifications' dispatch) a
# worker runs together (ocsc/taskqueue.py); 1 runs each alone. A merged run sends its
# notifications one after another, so with a slow SMS gateway a smaller number spreads the
# sending over the workers.
_merge_max = os.environ.get("TASK_MERGE_MAX", "32")
if not (_merge_max.isdigit() and int(_merge_max) > 0):
    raise ImproperlyConfigured(f"TASK_MERGE_MAX={_merge_max!r}: expected a whole number above 0.")
TASK_MERGE_MAX = int(_merge_max)
# On PostgreSQL, a worker hears of each Event by NOTIFY and dispatches it, and actions queue
# no dispatch task (ocsc/notify/listen.py); off: a task per transaction, as on SQLite.
NOTIFY_DISPATCH_LISTEN = env_bool("NOTIFY_DISPATCH_LISTEN", True)
NOTIFY_SWEEP_AFTER_SECONDS = float(os.environ.get("NOTIFY_SWEEP_AFTER_SECONDS", "10"))
NOTIFY_LOST_AFTER_SECONDS = float(os.environ.get("NOTIFY_LOST_AFTER_SECONDS", "300"))
NOTIFY_SEND_LEASE_SECONDS = float(os.environ.get("NOTIFY_SEND_LEASE_SECONDS", "120"))
NOTIFY_REMINDER_LEAD_HOURS = float(os.environ.get("NOTIFY_REMINDER_LEAD_HOURS", "24"))
NOTIFY_CITIZEN_REMINDER_LEAD_HOURS = float(
    os.environ.get("NOTIFY_CITIZEN_REMINDER_LEAD_HOURS", "72")
)
NOTIFY_DIGEST_HOUR = int(os.environ.get("NOTIFY_DIGEST_HOUR", "8"))

SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
