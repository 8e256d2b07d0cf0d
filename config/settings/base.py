"""Settings shared by every environment; each value comes from the environment.

See docs/configuration.md for the table of variables.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.admin_app.CreditLineAdminConfig",  # django.contrib.admin with our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    # Customer API tokens: stored as digests, shown once, expiring (accounts/apis.py).
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_fsm_log",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts",
    "credit",
    "credit.servicing",
    "credit.risk",
    "notifications",
    "appeals",
]

MIDDLEWARE = [
    # First: the API's JSON 404 and 503 also under DEBUG (config/api_errors.py).
    "config.api_errors.ApiContractMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks a request whose session passed the second factor (`request.user.is_verified()`).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.PreferredLanguageMiddleware",
    "accounts.middleware.DeviceIdMiddleware",
    "accounts.middleware.AdminSecondFactorMiddleware",
    # Axes must be last: it turns a locked-out login into a clear page, not a 500.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread_notifications",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/creditline"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Credit accounts write their own StateLog rows, dated at the injected instant
# (credit.transitions.state_log_write).
DJANGO_FSM_LOG_IGNORED_MODELS = ["credit.models.accounts.CreditAccount"]

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first so a locked-out login is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Salt for national-ID hashes (HMAC key); rotate only with a re-hash migration.
NATIONAL_ID_HASH_KEY = env("NATIONAL_ID_HASH_KEY", default=SECRET_KEY)

# Set when a trusted proxy in front of us writes X-Forwarded-For (login events record the IP).
TRUST_X_FORWARDED_FOR = env.bool("TRUST_X_FORWARDED_FOR", default=False)

# django-axes: 5 failures lock the phone number for 15 minutes.
# Staff need a TOTP code (django-otp) on top of the password for every admin page.
ADMIN_REQUIRE_OTP = env.bool("ADMIN_REQUIRE_OTP", default=False)
OTP_TOTP_ISSUER = "Creditline"
# The device admin (auditors read every model) never shows a key or its QR code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
# A number is locked after 5 failures; so is an address trying many numbers.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_USERNAME_CALLABLE = "accounts.phone.axes_username"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Private files (appeal attachments) live outside any served path; views stream them.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "var" / "private"))
        },
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Cache (Redis) --------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Nothing on the money path reads the cache, so purchases and repayments go on with Redis down.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}
# CACHE_URL (django-environ syntax) replaces the Redis cache: `locmemcache://` (what `make run`
# sets when Redis does not answer), `dummycache://`, `redis://host:port/db`.
if env("CACHE_URL", default=""):
    CACHES = {"default": env.cache("CACHE_URL")}
# Keeps two deployments (or test runs) sharing one Redis apart: rate-limit counts included.
CACHES["default"]["KEY_PREFIX"] = env("CACHE_KEY_PREFIX", default="")

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
# Our tasks write their outcome to the database; only probes (ping) keep a result.
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
# Our tasks are idempotent, so a task is acknowledged only after it ran: a worker that
# dies mid-task leaves the message to be redelivered instead of losing it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers an unacknowledged message after this many seconds. It must exceed the
# longest task (the time limit above), or a slow task would run twice at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int(
        "CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 600
    ),
}
# kombu's filesystem transport (`make run` without a broker URL): messages are files; one
# folder is both the producers' out-box and the workers' in-box. scripts/run.py creates them.
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_folder = Path(env("CELERY_BROKER_FOLDER", default=str(BASE_DIR / "var" / "broker")))
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "data_folder_in": str(_broker_folder / "queue"),
        "data_folder_out": str(_broker_folder / "queue"),
        "control_folder": str(_broker_folder / "control"),
        "processed_folder": str(_broker_folder / "processed"),
    }
# Publishing must not hang a web request when the broker is down (readyz, on_commit).
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
# The worker and beat outlive a broker outage of any length (docs/operations.md): they wait
# for the broker at start and retry for ever after losing it (Celery's default gives up
# after 100 attempts, about 50 minutes, and the worker exits).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A task running when the connection drops finishes; its acknowledgement is lost, so Redis
# redelivers it and it runs again, which our idempotent tasks allow (a dispatch finds its
# rows SENT). Cancelling it instead (Celery 6's default) would stop a dispatch between a
# send and its record; said explicitly, which also silences Celery 5's warning about it.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # kombu's Redis transport with a guard against a crash on reconnect (config/broker.py).
    CELERY_BROKER_TRANSPORT = "config.broker:GuardedRedisTransport"
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        # Find a dead connection (a restarted Redis, a dropped NAT entry) within 30 s
        # rather than when the next command times out.
        "health_check_interval": 30,
        "socket_keepalive": True,
        "retry_on_timeout": True,
    }
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- DRF ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.CustomerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Customers only, unless a view says otherwise (merchant views, token issuing).
    "DEFAULT_PERMISSION_CLASSES": ["credit.apis.auth.IsCustomer"],
    # Documents the error answers ({code, detail}) of every operation once.
    "DEFAULT_SCHEMA_CLASS": "config.api_schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "config.api_pagination.ApiPagination",
    "PAGE_SIZE": 50,
}
# Largest page any API list answers; a larger `?limit=` is clamped to it.
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=200)
# Customer API tokens (django-rest-knox): `Authorization: Token <token>`; the database keeps
# a SHA-512 digest and the first 15 characters; a token ends API_TOKEN_TTL_DAYS after issue.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
# Rate limits (core/throttles.py), "<requests>/<second|minute|hour|day>", counted in the
# default cache (Redis); over the limit: 429 with Retry-After. With the cache down, no limit.
THROTTLE_TOKEN_PER_IP = env("THROTTLE_TOKEN_PER_IP", default="30/hour")
THROTTLE_TOKEN_PER_PHONE = env("THROTTLE_TOKEN_PER_PHONE", default="10/hour")
THROTTLE_LOGIN_PER_IP = env("THROTTLE_LOGIN_PER_IP", default="30/hour")
THROTTLE_PAYMENT_CODES = env("THROTTLE_PAYMENT_CODES", default="10/minute")
THROTTLE_REPAYMENTS = env("THROTTLE_REPAYMENTS", default="10/minute")
THROTTLE_APPEALS = env("THROTTLE_APPEALS", default="10/hour")
THROTTLE_FAILED_API_KEYS = env("THROTTLE_FAILED_API_KEYS", default="20/hour")
SPECTACULAR_SETTINGS = {
    "TITLE": "Credit line API",
    "DESCRIPTION": "Customer and merchant API of the consumer credit-line platform.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `status`; name each enum after its model (credit API).
    "ENUM_NAME_OVERRIDES": {
        "AccountStatusEnum": "credit.models.AccountStatus",
        "GrantStatusEnum": "credit.models.GrantStatus",
        "PurchaseStatusEnum": "credit.models.PurchaseStatus",
        "PlanStatusEnum": "credit.models.PlanStatus",
        "InstallmentStatusEnum": "credit.models.InstallmentStatus",
    },
}

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="noreply@creditline.example")

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# --- Credit -------------------------------------------------------------------------------
CREDIT_SINGLE_PURCHASE_MAX = env("CREDIT_SINGLE_PURCHASE_MAX", default="50000.00")
# A repayment may exceed what is owed now by at most this (CNY); the excess becomes credit
# balance. Small, so the credit line never turns into a deposit account.
CREDIT_PREPAYMENT_ALLOWANCE = env(
    "CREDIT_PREPAYMENT_ALLOWANCE", cast=Decimal, default=Decimal("1000.00")
)
# The legal cap on every charge, annualised (installment fees as IRR, penalty and revolving
# daily rates × 365). Set by deployment, not by whoever activates a fee schedule.
CREDIT_ANNUAL_RATE_CAP = env("CREDIT_ANNUAL_RATE_CAP", cast=Decimal, default=Decimal("0.24"))
# The appeal link in a LIMIT_CUT notice (every cut can be appealed, an immediate one too).
CREDIT_LIMIT_CUT_APPEAL_PATH = env(
    "CREDIT_LIMIT_CUT_APPEAL_PATH",
    default="/appeals/new/?kind=limit_change&target={limit_change_id}",
)
# Write APIs remember an Idempotency-Key this long (Stripe keeps them 24 hours).
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=48)
# A customer's one-time payment code for in-store purchases lives this long.
CREDIT_PAYMENT_CODE_TTL_SECONDS = env.int("CREDIT_PAYMENT_CODE_TTL_SECONDS", default=300)
# Four eyes on exposure (docs/back-office.md): a staff raise of the base limit to more than
# APPROVAL_LIMIT_ABOVE, or by more than APPROVAL_LIMIT_RAISE_PERCENT, a temporary grant above
# APPROVAL_GRANT_ABOVE, and every activation or rule change wait for a second person;
# a request not decided within APPROVAL_TTL_HOURS expires.
APPROVAL_LIMIT_ABOVE = env("APPROVAL_LIMIT_ABOVE", cast=Decimal, default=Decimal("20000.00"))
APPROVAL_LIMIT_RAISE_PERCENT = env(
    "APPROVAL_LIMIT_RAISE_PERCENT", cast=Decimal, default=Decimal("50")
)
APPROVAL_GRANT_ABOVE = env("APPROVAL_GRANT_ABOVE", cast=Decimal, default=Decimal("10000.00"))
APPROVAL_TTL_HOURS = env.int("APPROVAL_TTL_HOURS", default=72)

# --- Servicing (the business day) ----------------------------------------------------------
# Freeze with reason OVERDUE at this many days past due.
SERVICING_FREEZE_DAYS_PAST_DUE = env.int("SERVICING_FREEZE_DAYS_PAST_DUE", default=7)
# Usable limit at restoration, × the pre-incident limit.
SERVICING_PROBATION_CAP_RATIO = env(
    "SERVICING_PROBATION_CAP_RATIO", cast=Decimal, default=Decimal("0.50")
)
# Clean days after which the whole limit comes back / a RESTORED account is ACTIVE again.
SERVICING_PROBATION_FULL_LIMIT_DAYS = env.int("SERVICING_PROBATION_FULL_LIMIT_DAYS", default=30)
SERVICING_PROBATION_DAYS = env.int("SERVICING_PROBATION_DAYS", default=90)
# Notice this many days before a temporary limit ends.
SERVICING_GRANT_ENDING_NOTICE_DAYS = env.int("SERVICING_GRANT_ENDING_NOTICE_DAYS", default=3)
# An acceleration makes everything due in this many days; an extension moves a due date by
# at most this much.
SERVICING_ACCELERATION_DAYS = env.int("SERVICING_ACCELERATION_DAYS", default=15)
SERVICING_EXTENSION_MAX_DAYS = env.int("SERVICING_EXTENSION_MAX_DAYS", default=30)

# --- Risk engine ---------------------------------------------------------------------------
# An automated cut deeper than this % of the base limit waits out the cooling-off (hours)
# before a run or staff may confirm it.
RISK_COOLING_OFF_CUT_PERCENT = env(
    "RISK_COOLING_OFF_CUT_PERCENT", cast=Decimal, default=Decimal("30")
)
RISK_COOLING_OFF_HOURS = env.int("RISK_COOLING_OFF_HOURS", default=72)
# A run that would cut more than this % of the scored accounts, or move the mean score by more
# than this many points against the last applied run, stops for approval.
RISK_BREAKER_CUT_PERCENT = env("RISK_BREAKER_CUT_PERCENT", cast=Decimal, default=Decimal("5"))
RISK_BREAKER_MEAN_SHIFT = env.int("RISK_BREAKER_MEAN_SHIFT", default=25)
# Accounts per chunk (by id range), one transaction each; a chunk that failed this many
# times fails its run.
RISK_CHUNK_SIZE = env.int("RISK_CHUNK_SIZE", default=50_000)
RISK_RUN_MAX_ATTEMPTS = env.int("RISK_RUN_MAX_ATTEMPTS", default=3)
# The appeal link sent with a pending decrease.
RISK_APPEAL_PATH = env(
    "RISK_APPEAL_PATH", default="/appeals/new/?type=LIMIT_DECREASE&pending={pending_id}"
)
# Reason codes kept per decision (the largest losses).
RISK_REASONS_SHOWN = env.int("RISK_REASONS_SHOWN", default=3)
# A behaviour-only risk signal asks the customer to verify with an SMS code (not a freeze):
# hours to verify before the account is frozen, wrong codes allowed, and the largest
# purchase (¥) that goes through meanwhile.
RISK_VERIFICATION_HOURS = env.int("RISK_VERIFICATION_HOURS", default=24)
RISK_VERIFICATION_MAX_ATTEMPTS = env.int("RISK_VERIFICATION_MAX_ATTEMPTS", default=5)
RISK_VERIFICATION_PURCHASE_MAX = env(
    "RISK_VERIFICATION_PURCHASE_MAX", cast=Decimal, default=Decimal("500.00")
)

# --- Appeals -------------------------------------------------------------------------------
# Hours from submission to the decision deadline.
APPEALS_SLA_HOURS = env.int("APPEALS_SLA_HOURS", default=48)
# New appeals a customer may submit in 24 hours.
APPEALS_MAX_NEW_PER_24H = env.int("APPEALS_MAX_NEW_PER_24H", default=3)
# Characters a RESTORATION reason needs at least.
APPEALS_RESTORATION_MIN_REASON = env.int("APPEALS_RESTORATION_MIN_REASON", default=20)
# Files per appeal over its whole life, and bytes per file.
APPEALS_MAX_ATTACHMENTS = env.int("APPEALS_MAX_ATTACHMENTS", default=5)
APPEALS_MAX_ATTACHMENT_BYTES = env.int("APPEALS_MAX_ATTACHMENT_BYTES", default=5 * 1024 * 1024)
# Usable limit an approval may give back alone; more needs a second risk manager.
APPEALS_SECOND_APPROVAL_ABOVE = env(
    "APPEALS_SECOND_APPROVAL_ABOVE", cast=Decimal, default=Decimal("20000.00")
)
# Days a REPAYMENT_EXTENSION moves a due date when the decision names none.
APPEALS_DEFAULT_EXTENSION_DAYS = env.int("APPEALS_DEFAULT_EXTENSION_DAYS", default=30)

# --- Notifications --------------------------------------------------------------------------
# See docs/notifications.md. SMS waits out the quiet hours (local time, start > end
# wraps past midnight); login codes do not.
NOTIFICATIONS_QUIET_HOURS = (
    env("NOTIFICATIONS_QUIET_START", default="22:00"),
    env("NOTIFICATIONS_QUIET_END", default="08:00"),
)
NOTIFICATIONS_TIME_ZONE = env("NOTIFICATIONS_TIME_ZONE", default="Asia/Shanghai")
# SMS per customer per local day; beyond it the in-app copy carries the notice.
NOTIFICATIONS_SMS_DAILY_CAP = env.int("NOTIFICATIONS_SMS_DAILY_CAP", default=5)
# Room in that cap kept for the more important classes (notifications.catalogue.Priority): of
# the 5, the last 2 only for account-state changes, the one before them also for reminders,
# so confirmations and marketing use at most 2 a day and cannot crowd out a freeze at 18:00.
NOTIFICATIONS_SMS_CAP_RESERVED = {
    "ACCOUNT_STATE": env.int("NOTIFICATIONS_SMS_CAP_RESERVED_ACCOUNT_STATE", default=2),
    "REMINDER": env.int("NOTIFICATIONS_SMS_CAP_RESERVED_REMINDER", default=1),
}
# A confirmation (purchase, repayment, refund …) still unsent after this many hours (quiet
# hours, retries, a backlog) goes in-app only: an SMS or email about it would mislead.
NOTIFICATIONS_CONFIRMATION_MAX_AGE_HOURS = env.int(
    "NOTIFICATIONS_CONFIRMATION_MAX_AGE_HOURS", default=6
)
NOTIFICATIONS_SMS_PROVIDER = env(
    "NOTIFICATIONS_SMS_PROVIDER", default="notifications.providers.sandbox.SandboxSmsProvider"
)
NOTIFICATIONS_EMAIL_PROVIDER = env(
    "NOTIFICATIONS_EMAIL_PROVIDER", default="notifications.providers.email.DjangoEmailProvider"
)
NOTIFICATIONS_SMS_GATEWAY_URL = env("NOTIFICATIONS_SMS_GATEWAY_URL", default="")
NOTIFICATIONS_SMS_GATEWAY_SECRET = env("NOTIFICATIONS_SMS_GATEWAY_SECRET", default="")
NOTIFICATIONS_SMS_GATEWAY_TIMEOUT = env.float("NOTIFICATIONS_SMS_GATEWAY_TIMEOUT", default=5.0)
# Sandbox only: seconds each SMS takes, to let fault tests kill a worker mid-batch.
NOTIFICATIONS_SANDBOX_DELAY_SECONDS = env.float("NOTIFICATIONS_SANDBOX_DELAY_SECONDS", default=0.0)
# Retries: base × 2^(attempt-1), at most the cap; DEAD after the last attempt.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=6)
NOTIFICATIONS_RETRY_BASE_SECONDS = env.int("NOTIFICATIONS_RETRY_BASE_SECONDS", default=60)
NOTIFICATIONS_RETRY_MAX_SECONDS = env.int("NOTIFICATIONS_RETRY_MAX_SECONDS", default=3600)
# One task claims this many rows; its lease must outlast a batch (batch × provider timeout).
NOTIFICATIONS_BATCH_SIZE = env.int("NOTIFICATIONS_BATCH_SIZE", default=100)
NOTIFICATIONS_LEASE_SECONDS = env.int("NOTIFICATIONS_LEASE_SECONDS", default=600)
# A process kicks the dispatch of what it just wrote at once, then at most once more per this
# many seconds (one sweep at the window's end): a Celery publish costs more than a purchase.
# 0: every commit kicks its own rows.
NOTIFICATIONS_KICK_WINDOW_SECONDS = env.float("NOTIFICATIONS_KICK_WINDOW_SECONDS", default=0.5)
# --- end Notifications ----------------------------------------------------------------------
