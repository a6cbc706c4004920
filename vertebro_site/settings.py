"""Settings for Vertebro, read from the environment.

With nothing configured the product runs on SQLite and an embedded (file-system) Celery broker on
one machine. Set DATABASE_URL and CELERY_BROKER_URL to run on PostgreSQL and Redis.
"""

import re
from datetime import date, timedelta
from pathlib import Path

import environ
from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured

from vertebro_site.logging_sentry import sentry_init
from vertebro_site.logging_setup import logging_config
from vertebro_site.production import DEVELOPMENT_SECRET_KEY, refuse_unsafe_production

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# "production" turns on the hardening at the end of this file (see README.md).
DJANGO_ENV = env("DJANGO_ENV", default="development")
DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
# Keys replaced by a new DJANGO_SECRET_KEY: signatures made with them (patient links already sent,
# sessions) still verify. Drop an old key once its links have expired (14 days after the last
# procedure day they name).
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "auditlog",
    "axes",
    "csp",
    # After "axes": its lockout receiver runs after axes' own (api/lockout.py).
    "api",
    "scheduling",
    "notifications",
    "audit",
    "fhir",
    "hl7v2",
]

MIDDLEWARE = [
    # First, so its duration covers the whole request (vertebro_site/logging_middleware.py).
    "vertebro_site.logging_middleware.RequestLogMiddleware",
    # Outside the others, so their own answers (a CSRF failure, a lockout) are not kept either.
    "vertebro_site.cache_control.NoStoreMiddleware",
    # Before anything reads the body: one over DATA_UPLOAD_MAX_MEMORY_SIZE answers 413.
    "vertebro_site.body_size.BodySizeMiddleware",
    # An admin address holding a NUL byte answers 400 before the admin's lists query with it.
    "vertebro_site.admin_query.AdminQueryMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "audit.middleware.AuditActorMiddleware",
    "audit.middleware.AccessLogMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "vertebro_site.urls"

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

WSGI_APPLICATION = "vertebro_site.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes SQLite's write lock when a transaction begins, so two bookings cannot both
    # read a bay as free and then both write it: the second waits for the first to commit.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )

# Behind PgBouncer in transaction pooling mode a server-side cursor (QuerySet.iterator()) would
# outlive the transaction that opened it on a server connection other clients share. The
# dispatcher holds no session-level lock, so nothing else needs to change.
DATABASE_POOLER = env.str("DATABASE_POOLER", default="")
if DATABASE_POOLER not in ("", "transaction"):
    raise ImproperlyConfigured("DATABASE_POOLER must be empty or 'transaction'.")
if DATABASE_POOLER:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
# What a patient can read: English, and each language with a catalogue under locale/ (its
# pages' strings in locale/<code>/LC_MESSAGES/django.po, its messages' templates under
# templates/notifications/). A language is added by adding those files.
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGES = [
    (code, LANG_INFO[code]["name_local"])
    for code in ["en", *sorted(p.name for p in LOCALE_PATHS[0].iterdir() if p.is_dir())]
]
USE_TZ = True

# Phone numbers typed without a country code are read as numbers of this region.
PHONE_REGION = env("PHONE_REGION", default="US")

# The days the unit works with (scheduling/horizon.py): cases are booked up to this many days
# ahead, and pages, lists and reports show days from EARLIEST_DAY_SHOWN up to the same horizon.
BOOKING_HORIZON_DAYS = env.int("BOOKING_HORIZON_DAYS", default=730)
if not 1 <= BOOKING_HORIZON_DAYS <= 3660:
    raise ImproperlyConfigured(
        f"BOOKING_HORIZON_DAYS is {BOOKING_HORIZON_DAYS}: give a number of days from 1 to 3660."
    )
try:
    EARLIEST_DAY_SHOWN = date.fromisoformat(env("EARLIEST_DAY_SHOWN", default="1900-01-01"))
except ValueError:
    raise ImproperlyConfigured("EARLIEST_DAY_SHOWN must be a date, YYYY-MM-DD.") from None

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out login before any password is checked; logs nobody in itself.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's, refusing a key it never issues (a NUL byte) before the lookup.
        "api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["scheduling.api.permissions.IsStaffMember"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.handlers.exception_handler",
    # The API takes JSON only, as docs/api-errors.md says (a form post answers 415), so the schema
    # lists one request format. The token endpoint keeps DRF's own form parsers for `curl -d`.
    # DRF's JSON parser, refusing bodies nested too deep (`invalid_json`).
    "DEFAULT_PARSER_CLASSES": ["api.json_input.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Vertebro API",
    "DESCRIPTION": (
        "Book and read vertebroplasty and kyphoplasty cases. Errors are JSON objects "
        '`{"code", "detail", "errors"}`; the codes are listed in docs/api-errors.md.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs hold no patient data; integrators and tools read them before login.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Deep links would put a link inside each operation's toggle button, which a screen reader
    # cannot reach (axe-core: nested-interactive).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.schema_document_shared_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "scheduling.models.Channel",
        "CaseStatusEnum": "scheduling.models.CaseStatus",
        "StageKindEnum": "scheduling.models.StageKind",
        "ResourceKindEnum": "scheduling.models.ResourceKind",
        "MessageKindEnum": "notifications.models.MessageKind",
        "ReminderStatusEnum": "notifications.models.ReminderStatus",
        "InboundKindEnum": "notifications.models.InboundKind",
    },
}

# The reverse proxies in front of the app (README.md, "Security"). Each appends the address it got
# the request from to X-Forwarded-For; limits.client.client_ip reads the entry this many
# places from the right. 0: no proxy, REMOTE_ADDR is the client.
PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=1 if DJANGO_ENV == "production" else 0)

# The cache holds the rate limits' counts, so every web server must share it: Redis in production
# (CACHE_URL, e.g. redis://redis.internal:6379/1), this process's memory in the embedded default.
CACHE_URL = env("CACHE_URL", default="")
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            "CACHE_URL must be a Redis address (redis://, rediss:// or unix://), "
            f"not {CACHE_URL!r}."
        )
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Rate limits (limits/rates.py), as a count per second, minute, hour or day; empty: no
# limit. The family board refreshes every 15 seconds, 4 requests a minute per screen.
RATE_LIMITS = {
    # per manager: each proposal runs the solver for up to 20 seconds
    "plan": env("RATE_LIMIT_PLAN", default="10/min"),
    # per client address
    "token": env("RATE_LIMIT_TOKEN", default="10/min"),
    "patient_link": env("RATE_LIMIT_PATIENT_LINK", default="30/min"),
    "family_board": env("RATE_LIMIT_FAMILY_BOARD", default="30/min"),
}
for _scope, _rate in RATE_LIMITS.items():
    if _rate and not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", _rate):
        raise ImproperlyConfigured(
            f"RATE_LIMIT_{_scope.upper()} is {_rate!r}: write a count per second, minute, hour "
            "or day, e.g. 10/min, or leave it empty for no limit."
        )

# Failed logins (django-axes): 5 failures for one username from one address lock that pair out for
# 15 minutes, whatever the password. Pages, the admin and the API token endpoint all count.
AXES_FAILURE_LIMIT = env.int("DJANGO_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("DJANGO_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Not django-ipware's AXES_IPWARE_PROXY_COUNT: see the docstring of limits.client.
AXES_CLIENT_IP_CALLABLE = "limits.client.client_ip"
AXES_LOCKOUT_CALLABLE = "api.lockout.lockout_response"

# Sessions end after DJANGO_SESSION_IDLE_MINUTES without a request: the cookie and the stored
# session both expire that long after the last request, which saves the session again.
SESSION_COOKIE_AGE = 60 * env.int("DJANGO_SESSION_IDLE_MINUTES", default=15)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# CSRF_COOKIE_HTTPONLY stays False (Django's default): a script that could read the cookie already
# runs on this origin and can read the token from any form, so it would protect nothing.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Patient links carry a signed token in their path: never send it to another site. Not
# "no-referrer": with it a browser sends `Origin: null` on the page's own form posts, which the
# CSRF check refuses; with "same-origin" they carry the page's origin (CSRF_TRUSTED_ORIGINS is
# needed only for another origin, such as a proxy that rewrites the host).
SECURE_REFERRER_POLICY = "same-origin"
# A failed check on a patient's page is a page the patient understands, not Django's.
CSRF_FAILURE_VIEW = "notifications.views.csrf_failure"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp 4): no inline or third-party scripts anywhere. Inline
# <style> blocks and style attributes are allowed; they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
    },
}

# The audit trail (audit app): every create, change and delete of these rows, with who and from
# where; views of records are audit.AccessLog rows.
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    "scheduling.Patient",
    {"model": "scheduling.Case", "exclude_fields": ["updated_at"]},
    "scheduling.Stage",
    "scheduling.CaseMedication",
)

# Celery. The embedded default is kombu's file-system transport: the web server, the worker and
# beat share a folder on this machine, and nothing else needs to run. Every folder it writes is
# under var/broker/, the exchange tables too (kombu's default "control" folder is relative to the
# working directory, so a worker started from the checkout would write into it).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = BASE_DIR / "var" / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A broker blip must not cancel a dispatcher in the middle of a batch (Celery 6's default).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False

# Patient and driver messages (notifications app).
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
NOTIFICATIONS_SMS_BACKEND = env(
    "NOTIFICATIONS_SMS_BACKEND", default="notifications.backends.console.ConsoleBackend"
)
NOTIFICATIONS_EMAIL_BACKEND = env(
    "NOTIFICATIONS_EMAIL_BACKEND", default="notifications.backends.email.DjangoEmailBackend"
)
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Vertebro <noreply@localhost>")
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")

# The FHIR interface (fhir app): the URIs it names identifiers and codes under. Set the MRN system
# to the hospital record's own; the others default under VERTEBRO_FHIR_BASE.
VERTEBRO_FHIR_BASE = env("VERTEBRO_FHIR_BASE", default="https://vertebro.org/fhir")
VERTEBRO_FHIR_MRN_SYSTEM = env("VERTEBRO_FHIR_MRN_SYSTEM", default=f"{VERTEBRO_FHIR_BASE}/sid/mrn")
VERTEBRO_FHIR_PROCEDURE_SYSTEM = env(
    "VERTEBRO_FHIR_PROCEDURE_SYSTEM", default=f"{VERTEBRO_FHIR_BASE}/CodeSystem/procedure-type"
)
# How long Appointment/$hold keeps a time for a booking, in minutes.
VERTEBRO_FHIR_HOLD_MINUTES = env.int("VERTEBRO_FHIR_HOLD_MINUTES", default=10)
VERTEBRO_FHIR_SURGEON_SYSTEM = env(
    "VERTEBRO_FHIR_SURGEON_SYSTEM", default=f"{VERTEBRO_FHIR_BASE}/sid/surgeon"
)

# HL7 v2 (hl7v2/): where SIU messages go, as name=host:port pairs (none: no messages are
# written), the names this unit signs them with (MSH-3/4) and the receiver's (MSH-5/6), and
# where the ADT listener (manage.py hl7_listen) takes messages in.
HL7_ENDPOINTS = env.dict("HL7_ENDPOINTS", default={})
HL7_SENDING_APPLICATION = env("HL7_SENDING_APPLICATION", default="VERTEBRO")
HL7_SENDING_FACILITY = env("HL7_SENDING_FACILITY", default="SPINE_UNIT")
HL7_RECEIVING_APPLICATION = env("HL7_RECEIVING_APPLICATION", default="ENGINE")
HL7_RECEIVING_FACILITY = env("HL7_RECEIVING_FACILITY", default="HOSPITAL")
HL7_LISTEN = env("HL7_LISTEN", default="127.0.0.1:2575")

# Logs carry ids, codes and paths, never request bodies, query strings or patient details; SQL is
# not logged even at LOG_LEVEL=DEBUG (vertebro_site/logging_setup.py). JSON lines in production.
LOG_FORMAT = env("DJANGO_LOG_FORMAT", default="json" if DJANGO_ENV == "production" else "text")
LOGGING = logging_config(level=env("LOG_LEVEL", default="INFO"), log_format=LOG_FORMAT)

# /healthz fails when a due message has waited longer than this unsent (vertebro_site/health.py).
HEALTH_REMINDER_MAX_WAIT_SECONDS = env.int("HEALTH_REMINDER_MAX_WAIT_SECONDS", default=600)

# Errors to Sentry, only when a DSN is given; nothing naming a patient is sent.
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    sentry_init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default=DJANGO_ENV),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# Production hardening, switched on with DJANGO_ENV=production (see README.md).
if DJANGO_ENV == "production":
    refuse_unsafe_production(
        secret_key=SECRET_KEY,
        database_engine=DATABASES["default"]["ENGINE"],
        broker_url=CELERY_BROKER_URL,
    )
    DEBUG = False
    if PROXY_COUNT > 0:
        # Only a proxy we run may say the request came over HTTPS.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # A load balancer probes the app over plain HTTP on the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
