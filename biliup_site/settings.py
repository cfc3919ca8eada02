"""Settings for biliup-site: one module, every knob a BILIUP_* environment variable.

With nothing set, the site runs embedded: SQLite files under BILIUP_DATA_DIR, the django-q2
ORM broker and a SQLite channel layer, no other server. BILIUP_DB=postgres and BILIUP_REDIS_URL
switch the same code to PostgreSQL, the django-q2 Redis broker and channels-redis.
"""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VERSION = "0.1.0"


def envstr(name: str, default: str) -> str:
    return os.getenv(name, default)


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default)
    if value not in ("", "True", "False"):
        raise ImproperlyConfigured(
            f"Unexpected value {name}={value}, use 'True' or 'False'"
        )
    return value == "True"


def envint(name: str, default: str, minimum: int = 0) -> int:
    value = os.getenv(name, default)
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"Unexpected value {name}={value}, use a whole number"
        ) from None
    if number < minimum:
        raise ImproperlyConfigured(
            f"Unexpected value {name}={value}, use at least {minimum}"
        )
    return number


def envfloat(name: str, default: str) -> float:
    value = os.getenv(name, default)
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"Unexpected value {name}={value}, use a number"
        ) from None
    if number <= 0:
        raise ImproperlyConfigured(
            f"Unexpected value {name}={value}, use a positive number"
        )
    return number


def envlist(name: str, default: str) -> list[str]:
    return [
        item.strip() for item in os.getenv(name, default).split(",") if item.strip()
    ]


def envurl(name: str, default: str) -> str:
    value = os.getenv(name, default).rstrip("/")
    if not value.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"Unexpected value {name}={value}, use an http:// or https:// URL"
        )
    return value


DATA_DIR = Path(envstr("BILIUP_DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
RECORDINGS_DIR = Path(
    envstr("BILIUP_RECORDINGS_DIR", str(DATA_DIR / "recordings"))
).resolve()


def _secret_key() -> str:
    # A self-hosted box should not need a hand-made secret: make one on first start and keep it
    # in the data folder, readable by its owner only.
    if key := os.getenv("BILIUP_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = envbool("BILIUP_DEBUG", "False")
PORT = envint("BILIUP_PORT", "19159", minimum=1)
# A self-hosted admin is reached by LAN address, hostname or tunnel; list them to lock it down.
ALLOWED_HOSTS = envlist("BILIUP_ALLOWED_HOSTS", "*")
CSRF_TRUSTED_ORIGINS = envlist("BILIUP_CSRF_TRUSTED_ORIGINS", "")
# A WebSocket opens from a page of the site's own host (the Host header), a CSRF-trusted origin,
# or one of these, e.g. https://admin.example (biliup_site/ws_origin.py).
WS_ALLOWED_ORIGINS = envlist("BILIUP_WS_ALLOWED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "channels",
    "django_q",
    "biliup_site",
    "accounts",
    "recorder",
    "uploads",
    "creators",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "biliup_site.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "biliup_site.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "biliup_site.urls"
ASGI_APPLICATION = "biliup_site.asgi.application"
WSGI_APPLICATION = None

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
                "biliup_site.context_processors.site",
            ],
        },
    },
]

# Databases. SQLite in IMMEDIATE mode takes the write lock at BEGIN, so two writers queue on
# busy_timeout instead of failing with "database is locked" half-way through a transaction.
DB = envstr("BILIUP_DB", "sqlite")
_SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
    "transaction_mode": "IMMEDIATE",
}
if DB == "sqlite":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "biliup.sqlite3",
            "OPTIONS": _SQLITE_OPTIONS,
            # A file, as in production: the in-memory test database locks whole tables between
            # threads ("database table is locked"), which busy_timeout does not wait out.
            "TEST": {"NAME": DATA_DIR / "test_biliup.sqlite3"},
        },
    }
elif DB == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": envstr("BILIUP_DB_NAME", "biliup"),
            "HOST": envstr("BILIUP_DB_HOST", "127.0.0.1"),
            "PORT": envint("BILIUP_DB_PORT", "5432", minimum=1),
            "USER": envstr("BILIUP_DB_USER", "postgres"),
            "PASSWORD": envstr("BILIUP_DB_PASSWORD", ""),
            "CONN_MAX_AGE": envint("BILIUP_DB_CONN_MAX_AGE", "0"),
            "CONN_HEALTH_CHECKS": True,
            "TEST": {"NAME": envstr("BILIUP_DB_TEST_NAME", "test_biliup")},
        },
    }
else:
    raise ImproperlyConfigured(
        f"Unexpected value BILIUP_DB={DB}, use 'sqlite' or 'postgres'"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Live progress: workers (django-q2 processes) must reach the WebSocket consumers in daphne.
# Django's in-memory layer cannot cross processes, so the embedded default uses channels-lite,
# a channel layer stored in SQLite. Its messages go to a separate file so their churn never takes
# the main database's write lock; daphne polls it every 100 ms (one poller per process, not per
# socket). Measured worker→browser latency: see bench/ws_latency.py. The alternative, consumers
# polling job rows, needs a query per socket per tick and a second code path beside group_send.
REDIS_URL = envstr("BILIUP_REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 reads with a 5 s socket timeout by default, the same 5 s that
                # channels-redis blocks for a message: a socket idle that long lost the race
                # and its consumer died with TimeoutError (close 1011). Give reads room.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "prefix": envstr("BILIUP_REDIS_PREFIX", "biliup"),
            },
        },
    }
else:
    INSTALLED_APPS.append("channels_lite")
    DATABASES["channels"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "channels.sqlite3",
        "OPTIONS": {"init_command": _SQLITE_OPTIONS["init_command"]},
        "TEST": {"NAME": DATA_DIR / "test_channels.sqlite3"},
    }
    DATABASE_ROUTERS = ["biliup_site.routers.ChannelLayerRouter"]
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_lite.layers.core.SQLiteChannelLayer",
            "CONFIG": {"database": "channels", "expiry": 60, "polling_interval": 0.1},
        },
    }

# Background jobs. The jobs cluster (`qcluster`) runs uploads, checks and catalogs. Recordings
# last hours, longer than any sane task timeout, and one worker process per recording would cost
# ~100 MB each: so record jobs go to a queue of their own (RECORDER_CLUSTER), which the recorder
# service takes them from, one thread per recording. Jobs claim their rows in the database (see
# UploadJob.claim, recorder/lease.py: claim), so a re-delivered task is a no-op. download_limit and
# upload_limit are enforced at claim time, so they can change while everything runs.
# Sites sharing one Redis need different queue names: django-q2 names its keys after them.
QUEUE_NAME = envstr("BILIUP_QUEUE_NAME", "biliup")
if not QUEUE_NAME.replace("-", "").replace("_", "").isalnum():
    raise ImproperlyConfigured(
        f"Unexpected value BILIUP_QUEUE_NAME={QUEUE_NAME}, use letters, digits, '-' and '_'"
    )
# The queue of record jobs: the recorder service (`manage.py recorder`, recorder/pool.py) takes
# them and runs every recording of its machine as a thread of its own, however long a live lasts;
# no qcluster works on it. Its own timeout and retry are for django-q2's bookkeeping only.
RECORDER_CLUSTER = f"{QUEUE_NAME}-recorder"
# A recording whose heartbeat is older than this lost its recorder (killed, or its machine is
# gone): another recorder takes it over. On the recorder's own machine a dead pid tells at once.
RECORDER_STALE_SECONDS = envint("BILIUP_RECORDER_STALE_SECONDS", "60", minimum=3)
# This machine's name in the "host:pid" a job's owner is recorded as; two machines must differ.
HOSTNAME = envstr("BILIUP_HOSTNAME", socket.gethostname())
Q_CLUSTER = {
    "name": QUEUE_NAME,
    "workers": envint("BILIUP_WORKERS", "3", minimum=1),
    "timeout": 6 * 3600,
    "retry": 6 * 3600 + 600,
    "max_attempts": 3,
    "catch_up": False,
    "ack_failures": True,
    "label": "Jobs",
    "sync": envbool("BILIUP_TASKS_SYNC", "False"),
    "ALT_CLUSTERS": {
        RECORDER_CLUSTER: {
            "workers": 1,
            "timeout": 7 * 86400,
            "retry": 7 * 86400 + 3600,
            "max_attempts": 1,
        },
    },
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.5

# Sessions and auth.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
SESSION_COOKIE_NAME = "biliup.sid"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = envint("BILIUP_SESSION_DAYS", "14", minimum=1) * 86400
SESSION_COOKIE_SECURE = envbool("BILIUP_SECURE_COOKIES", "False")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_SAMESITE = "Lax"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGIN_MAX_FAILURES = envint("BILIUP_LOGIN_MAX_FAILURES", "5", minimum=1)
LOGIN_LOCKOUT_SECONDS = envint("BILIUP_LOGIN_LOCKOUT_SECONDS", "900", minimum=1)
# How long POST login_by_qrcode waits for the phone to confirm (biliup: 300 s), polling Bilibili
# every BILIUP_QR_POLL_SECONDS. The wait is async: it holds no worker thread.
QR_WAIT_SECONDS = envfloat("BILIUP_QR_WAIT_SECONDS", "300")
QR_POLL_SECONDS = envfloat("BILIUP_QR_POLL_SECONDS", "1")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# The pages speak the browser's language when it is one of these (any Chinese → zh-hans), English
# when it names only others, and BILIUP_LANGUAGE when it names none; a person can pick one on any
# page (a cookie). Each is listed in its own name, as the language menu shows it. The JSON API
# always answers in English: scripts match on it.
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LANGUAGE_CODE = envstr("BILIUP_LANGUAGE", "zh-hans")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"Unexpected value BILIUP_LANGUAGE={LANGUAGE_CODE}, use 'zh-hans' or 'en'"
    )
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "biliup.lang"
TIME_ZONE = envstr("BILIUP_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

# Bilibili. Every host is a setting so tests and the demo can aim them at the fake Bilibili.
BILIBILI_API_URL = envurl("BILIUP_BILIBILI_API_URL", "https://api.bilibili.com")
BILIBILI_PASSPORT_URL = envurl(
    "BILIUP_BILIBILI_PASSPORT_URL", "https://passport.bilibili.com"
)
BILIBILI_MEMBER_URL = envurl(
    "BILIUP_BILIBILI_MEMBER_URL", "https://member.bilibili.com"
)
BILIBILI_LIVE_API_URL = envurl(
    "BILIUP_BILIBILI_LIVE_API_URL", "https://api.live.bilibili.com"
)
BILIBILI_APP_API_URL = envurl("BILIUP_BILIBILI_APP_API_URL", "https://app.bilibili.com")
# UPOS hands out scheme-less endpoints ("//upos-cs-upcdnbda2.bilivideo.com"); clients add https.
BILIBILI_UPOS_SCHEME = envstr("BILIUP_BILIBILI_UPOS_SCHEME", "https")
# Set, every UPOS host preupload names is reached under this base instead, the host kept as the
# first path segment (<base>/upos-cs-upcdnbda2.bilivideo.com/ugcfx2lf/…): a stand-in on one port
# then sees which line was chosen. Empty (the default): the real hosts.
BILIBILI_UPOS_URL = (
    envurl("BILIUP_BILIBILI_UPOS_URL", "")
    if os.getenv("BILIUP_BILIBILI_UPOS_URL")
    else ""
)
BILIBILI_OPENUPOS_URL = envurl(
    "BILIUP_BILIBILI_OPENUPOS_URL", "https://openupos.bilivideo.com"
)
# The live chat socket's scheme: the site serves wss (getDanmuInfo's wss_port); ws (its
# ws_port) is for a stand-in without TLS, such as the fake Bilibili.
BILIBILI_CHAT_SCHEME = envstr("BILIUP_BILIBILI_CHAT_SCHEME", "wss")
if BILIBILI_CHAT_SCHEME not in ("ws", "wss"):
    raise ImproperlyConfigured(
        f"Unexpected value BILIUP_BILIBILI_CHAT_SCHEME={BILIBILI_CHAT_SCHEME}, use 'wss' or 'ws'"
    )

# Uploads: the first wait of each backoff (doubling, jittered, capped). Tests shorten them.
UPLOAD_RETRY_SECONDS = envfloat("BILIUP_UPLOAD_RETRY_SECONDS", "2")
# The least an account pauses when Bilibili says it uploads too fast (601 / HTTP 406).
UPLOAD_RATE_LIMIT_SECONDS = envfloat("BILIUP_UPLOAD_RATE_LIMIT_SECONDS", "300")
SUBMIT_RETRY_SECONDS = envfloat("BILIUP_SUBMIT_RETRY_SECONDS", "30")
# A chunk PUT may take this long to be answered (biliup: 240 s).
UPLOAD_CHUNK_TIMEOUT = envfloat("BILIUP_UPLOAD_CHUNK_TIMEOUT", "240")
# Adaptive concurrency, the connection ceilings and the rate caps are the configuration's
# (Settings, PUT /api/v1/configuration): they change while uploads run.

# Webhooks and notifications: the first wait before a failed delivery is tried again (doubling,
# at most an hour, 10 attempts in all). Tests shorten it.
HOOK_RETRY_SECONDS = envfloat("BILIUP_HOOK_RETRY_SECONDS", "10")

# Creator catalogs. JustOneAPI's two environments (its "Environment Guide"): prod-global, and
# prod-cn for users in mainland China.
JUSTONEAPI_GLOBAL_URL = envurl(
    "BILIUP_JUSTONEAPI_GLOBAL_URL", "https://api.justoneapi.com"
)
JUSTONEAPI_CN_URL = envurl("BILIUP_JUSTONEAPI_CN_URL", "http://47.117.133.51:30015")
# Refreshes running at once, over every machine: each is a few requests to one provider.
CATALOG_CONCURRENCY = envint("BILIUP_CATALOG_CONCURRENCY", "2", minimum=1)
# The first waits of the backoffs (doubling, capped): JustOneAPI's 301 "collection failed" is
# retried within a refresh; its 302 rate limit and other failures push the next refresh back.
CATALOG_RETRY_SECONDS = envfloat("BILIUP_CATALOG_RETRY_SECONDS", "5")
# The pace of calls to one Bilibili host that risk control counts (bilibili/pace.py): a gap of at
# least this many seconds, plus a random jitter of up to BILIBILI_PACE_JITTER.
BILIBILI_PACE_SECONDS = envfloat("BILIUP_BILIBILI_PACE_SECONDS", "0.35")
BILIBILI_PACE_JITTER = envfloat("BILIUP_BILIBILI_PACE_JITTER", "0.25")
CATALOG_BACKOFF_SECONDS = envfloat("BILIUP_CATALOG_BACKOFF_SECONDS", "300")
# While an uploaded archive is not yet seen in its account's catalog, that catalog is refreshed
# this often (seconds), for at most CATALOG_VERIFY_DAYS.
CATALOG_VERIFY_SECONDS = envint("BILIUP_CATALOG_VERIFY_SECONDS", "120", minimum=1)
CATALOG_VERIFY_DAYS = envint("BILIUP_CATALOG_VERIFY_DAYS", "7", minimum=1)
# Incremental refreshes read only new videos (and the page they are on); a full walk this often
# updates every older video's plays too.
CATALOG_FULL_SYNC_HOURS = envint("BILIUP_CATALOG_FULL_SYNC_HOURS", "24", minimum=1)
# A submitted archive's review is polled (uploads/review.py) first after this many seconds, then
# less often as it ages (a tenth of its age), at most every REVIEW_POLL_MAX_SECONDS, for at most
# REVIEW_WATCH_DAYS.
REVIEW_POLL_SECONDS = envint("BILIUP_REVIEW_POLL_SECONDS", "60", minimum=1)
REVIEW_POLL_MAX_SECONDS = envint("BILIUP_REVIEW_POLL_MAX_SECONDS", "600", minimum=1)
REVIEW_WATCH_DAYS = envint("BILIUP_REVIEW_WATCH_DAYS", "14", minimum=1)

# /api/v1/proxy fetches avatars and covers for the pages, from these hosts only.
PROXY_ALLOWED_HOSTS = envlist("BILIUP_PROXY_ALLOWED_HOSTS", "*.hdslb.com,*.biliimg.com")
# Only for a fake Bilibili on this machine: lets the proxy reach loopback/private addresses.
PROXY_ALLOW_PRIVATE = envbool("BILIUP_PROXY_ALLOW_PRIVATE", "False")
PROXY_MAX_BYTES = envint("BILIUP_PROXY_MAX_BYTES", str(5 * 1024 * 1024), minimum=1)
PROXY_TIMEOUT = envfloat("BILIUP_PROXY_TIMEOUT", "10")
# Days a fetched image (a room's cover, a face) is kept under BILIUP_DATA_DIR/cache/images and
# in the browser; 0: fetched every time.
PROXY_CACHE_DAYS = envint("BILIUP_PROXY_CACHE_DAYS", "7", minimum=0)
# The recorder fetches streams from public addresses only (no loopback, LAN or metadata service):
# hosts named here (fnmatch patterns of names or addresses, or networks like 192.168.0.0/16) may
# be private, for recording from a camera or a server on the LAN.
RECORD_ALLOWED_HOSTS = envlist("BILIUP_RECORD_ALLOWED_HOSTS", "")

# The site's log files, beside the console: the log page and biliup's log viewer (/v1/ws/logs)
# read them. biliup.log has everything; download.log the recorder, upload.log the uploads (the
# names biliup's viewer asks for). Every process appends to them; WatchedFileHandler reopens a
# file that was moved away, so an outside rotation (logrotate) works. serve rotates big ones.
LOG_DIR = Path(envstr("BILIUP_LOG_DIR", str(DATA_DIR / "logs"))).resolve()
LOG_DIR.mkdir(parents=True, exist_ok=True)
LOG_MAX_BYTES = envint("BILIUP_LOG_MAX_MB", "20", minimum=1) * 1024 * 1024


def _log_file(name: str) -> dict[str, object]:
    return {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": str(LOG_DIR / name),
        "formatter": "plain",
        "encoding": "utf-8",
        "delay": True,
    }


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "biliup_log": _log_file("biliup.log"),
        "download_log": _log_file("download.log"),
        "upload_log": _log_file("upload.log"),
    },
    "root": {
        "handlers": ["console", "biliup_log"],
        "level": envstr("BILIUP_LOG_LEVEL", "INFO"),
    },
    "loggers": {
        "recorder": {"handlers": ["download_log"]},
        "uploads": {"handlers": ["upload_log"]},
        "django.db.backends": {"level": "INFO"},
        # At DEBUG urllib3 prints each request line, query string included: JustOneAPI's token
        # travels there.
        "urllib3": {"level": "INFO"},
    },
}
