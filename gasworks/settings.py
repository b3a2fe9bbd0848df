"""Gasworks settings: everything that differs between a laptop and production comes from the environment."""

from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from gasworks.env import env_bool, env_int, env_list, env_str, object_storage_origins, read_or_create_secret

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("GASWORKS_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# Without SECRET_KEY a random key is made once and kept under var/, so no install shares a known key.
SECRET_KEY = env_str("SECRET_KEY") or read_or_create_secret(VAR_DIR / "secret_key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "gasworks.accounts.apps.AccountsConfig",
    "gasworks.system.apps.SystemConfig",
    "gasworks.customers.apps.CustomersConfig",
    "gasworks.metering.apps.MeteringConfig",
    "gasworks.billing.apps.BillingConfig",
    "gasworks.payments.apps.PaymentsConfig",
    "gasworks.cylinders.apps.CylindersConfig",
    "gasworks.safety.apps.SafetyConfig",
    "gasworks.notifications.apps.NotificationsConfig",
    "gasworks.service.apps.ServiceConfig",
    "gasworks.reports.apps.ReportsConfig",
    "gasworks.web",
    "gasworks.top.apps.TopConfig",  # last: loads gasworks/subscriptions.py
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
    "csp.middleware.CSPMiddleware",
    "gasworks.system.middleware.AuditActorMiddleware",
    "gasworks.lib.replicas.FreshRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gasworks.urls"
WSGI_APPLICATION = "gasworks.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "gasworks" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "gasworks.web.context_processors.navigation",
            ],
            # |money, |balance and |choice_label everywhere (gasworks.web.templatetags.display).
            "builtins": ["gasworks.web.templatetags.display"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'gasworks.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_PREPARED_STATEMENTS"):
    # Server-side parameter binding, and a statement run 5 times on a connection is prepared: the
    # server parses and plans it once (a counter payment: about 45 % less PostgreSQL CPU). Off by
    # default: not behind a pooler in transaction mode (pgbouncer), and a prepared statement may
    # settle on a generic plan, which a search by LIKE prefix should be checked against first.
    DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while a writer commits; IMMEDIATE avoids lock upgrades mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# Read replicas (PostgreSQL hot standbys) for reports and exports: gasworks/lib/replicas.py.
for _n, _url in enumerate(env_str("DATABASE_REPLICA_URLS").split(",")):
    if _url.strip():
        DATABASES[f"replica_{_n + 1}"] = {
            **dj_database_url.parse(_url.strip(), conn_max_age=env_int("DB_CONN_MAX_AGE", 60)),
            "OPTIONS": DATABASES["default"].get("OPTIONS", {}),
            "TEST": {"MIRROR": "default"},  # tests that do not start a standby read the primary
        }
DATABASE_ROUTERS = ["gasworks.lib.replicas.Router"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "gasworks.accounts.validators.RoleMinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Staff sessions expire after this many idle seconds: every request pushes the expiry forward.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True

# Brute-force lockout (django-axes) for the login page and the API token endpoint.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "gasworks.accounts.lockout.lockout_response"
AXES_VERBOSE = False

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "gasworks" / "locale"]
# One date format per language (gasworks/formats/<locale>/formats.py).
FORMAT_MODULE_PATH = ["gasworks.formats"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
NODE_MODULES = BASE_DIR / "node_modules"
# Front-end packages come from npm (package-lock.json) and are served from here: no CDN.
STATICFILES_DIRS = [
    BASE_DIR / "gasworks" / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
]
# Photos and generated files (background exports): in an S3-compatible object store (MinIO,
# Aliyun OSS, Tencent COS, AWS) when a bucket is named, which every web node and worker shares;
# else under var/media/ on this machine. Either way no file has a public address: each is handed
# out by a view that checks who asks (gasworks.lib.media), from the store as a link presigned for
# OBJECT_STORAGE_URL_EXPIRY seconds. Credentials left empty fall to boto3's own chain (AWS_*
# variables, an instance role).
OBJECT_STORAGE_BUCKET = env_str("OBJECT_STORAGE_BUCKET")
OBJECT_STORAGE = {
    "bucket_name": OBJECT_STORAGE_BUCKET,
    "endpoint_url": env_str("OBJECT_STORAGE_ENDPOINT_URL")
    or None,  # e.g. https://oss-cn-beijing.aliyuncs.com
    "region_name": env_str("OBJECT_STORAGE_REGION") or None,
    "access_key": env_str("OBJECT_STORAGE_ACCESS_KEY_ID") or None,
    "secret_key": env_str("OBJECT_STORAGE_SECRET_ACCESS_KEY") or None,
    # Where browsers reach the store when not at the endpoint above (a custom domain in front of it).
    "public_endpoint_url": env_str("OBJECT_STORAGE_PUBLIC_URL") or None,
    "addressing_style": env_str("OBJECT_STORAGE_ADDRESSING_STYLE") or None,  # "path" (MinIO) or "virtual"
    "location": env_str("OBJECT_STORAGE_PREFIX"),  # a folder of the bucket, when it is shared
    "querystring_expire": env_int("OBJECT_STORAGE_URL_EXPIRY", 300),
}
STORAGES = {
    "default": {"BACKEND": "gasworks.lib.storage.ObjectStorage", "OPTIONS": OBJECT_STORAGE}
    if OBJECT_STORAGE_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "gasworks@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "gasworks.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "gasworks.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "gasworks.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "gasworks.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "gasworks.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/minute"),
        "user": env_str("API_THROTTLE_USER", "6000/minute"),
        "token": env_str("API_THROTTLE_TOKEN", "20/minute"),
    },
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Gasworks API",
    "DESCRIPTION": "REST API v1 of Gasworks, the gas station management system.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "HazardLevelEnum": "gasworks.safety.models.HazardLevel",
        "RefundStatusEnum": "gasworks.payments.models.RefundStatus",
        "ServiceRequestKindEnum": "gasworks.service.desk.models.RequestKind",
    },
}

# Content-Security-Policy on every response (django-csp): scripts, styles, fonts and images only
# from this site (plus data: images: QR codes, Bootstrap's icons in its CSS). No inline script,
# handler or style attribute: pages declare data-* attributes that gasworks/app.js acts on.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # A photo's view redirects to the object store: its address must be allowed too.
        "img-src": [SELF, "data:", *object_storage_origins(OBJECT_STORAGE)]
        if OBJECT_STORAGE_BUCKET
        else [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    },
}

REDIS_URL = env_str("REDIS_URL")
# With Redis the cache is shared by every worker process: throttle counts, and the parameters'
# 5-second cache (a changed limit then applies everywhere at once, not per process). Its keys
# carry the database's name: stations (or parallel test runs) on one Redis with databases of
# their own never read each other's parameters or counts.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", str(DATABASES["default"]["NAME"])),
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
MQTT_URL = env_str("MQTT_URL", "mqtt://127.0.0.1:1883")
# mqtt_ingest processes that share one subscription (MQTT 5 $share/<group>/...); "" = not shared.
MQTT_SHARE_GROUP = env_str("MQTT_SHARE_GROUP", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# Every task is acknowledged when done, not when taken, and goes back to the queue when the
# process running it dies: so each task must be idempotent (they are: chunk rows, unique keys).
# A worker reserves one task at a time, so a killed worker strands at most the one it runs.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis hands an unacknowledged task to another worker after this many seconds; it must exceed
# the longest task (a report refresh, a large export). A billing chunk left by a dead worker is
# sent again sooner by billing.resume_stalled (parameter billing_chunk_stall_seconds).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # Messages that waited (quiet hours, backoff, a provider down) and interruption reminders.
    "send-notifications": {"task": "gasworks.notifications.tasks.send_notifications", "schedule": 60.0},
    "remind-supply-interruptions": {
        "task": "gasworks.notifications.tasks.remind_supply_interruptions",
        "schedule": 900.0,
    },
    "tell-supply-restored": {"task": "gasworks.notifications.tasks.tell_supply_restored", "schedule": 900.0},
}
# Send notifications right after the commit that queued them: on Celery workers when REDIS_URL
# is set, in-process when this is on (the demo); otherwise `manage.py send_notifications --loop`.
NOTIFY_SEND_INLINE = env_bool("NOTIFY_SEND_INLINE", DEBUG)
# The landing page's 12-month trend charts (fetched after load).
DASHBOARD_TRENDS = env_bool("DASHBOARD_TRENDS", True)

# The sandbox payment gateway (its pay page credits an account with money nobody paid) is offered
# only in DEBUG or when this is set: a test or staging server. `check --deploy` warns about it.
PAYMENTS_SANDBOX = env_bool("PAYMENTS_SANDBOX", False)

# Money: amounts round half-up to 0.01 CNY; unit prices keep 4 places (gasworks.lib.money).
CURRENCY = "CNY"
STATION_CODE = env_str("STATION_CODE", "01")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
