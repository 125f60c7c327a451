"""Settings, all from environment variables (see config/env.py)."""

from __future__ import annotations

import ipaddress
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

from config.env import BASE_DIR, env_bool, env_int, env_list, env_str

VAR_DIR = Path(env_str("AVR_VAR_DIR")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)
VAULT_DIR = Path(env_str("AVR_VAULT_DIR") or VAR_DIR / "vault").resolve()
VAULT_BACKEND = env_str("AVR_VAULT_BACKEND")  # where new objects go; existing ones stay where they were
# The S3 object-lock vault (storage/backends/s3.py), used when VAULT_BACKEND = "s3" or when objects
# written there earlier are read.
S3_VAULT = {
    "endpoint": env_str("AVR_S3_ENDPOINT"),
    "region": env_str("AVR_S3_REGION"),
    "access_key": env_str("AVR_S3_ACCESS_KEY"),
    "secret_key": env_str("AVR_S3_SECRET_KEY"),
    "bucket": env_str("AVR_S3_BUCKET"),
    "derivative_bucket": env_str("AVR_S3_DERIVATIVE_BUCKET") or f"{env_str('AVR_S3_BUCKET')}-derivatives",
    "prefix": env_str("AVR_S3_PREFIX"),
    "addressing": env_str("AVR_S3_ADDRESSING"),
    "lock_mode": env_str("AVR_S3_LOCK_MODE").upper(),
    "create_buckets": env_bool("AVR_S3_CREATE_BUCKETS"),
}
RETENTION_FLOOR_DAYS = env_int("AVR_RETENTION_FLOOR_DAYS")
INGEST_STALLED_SECONDS = env_int("AVR_INGEST_STALLED_SECONDS")
# Only the platform's own load balancers may say who the client is (core/clients.py).
TRUSTED_PROXIES = [ipaddress.ip_network(item, strict=False) for item in env_list("AVR_TRUSTED_PROXIES")]
# The custody log's signing keys live in files outside the database (custody/keys.py).
LOG_ORIGIN = env_str("AVR_LOG_ORIGIN")  # empty: avrecords.example/<root department code>
LOG_KEY_FILE = Path(env_str("AVR_LOG_KEY_FILE") or VAR_DIR / "keys" / "log-ed25519.key").resolve()
LOG_SM2 = env_bool("AVR_LOG_SM2")
LOG_SM2_KEY_FILE = Path(env_str("AVR_LOG_SM2_KEY_FILE") or VAR_DIR / "keys" / "log-sm2.key").resolve()
LOG_CHECKPOINT_MINUTES = env_int("AVR_LOG_CHECKPOINT_MINUTES")
API_TOKEN_DAYS = env_int("AVR_API_TOKEN_DAYS")
PDF_FONT = Path(env_str("AVR_PDF_FONT"))
LOG_WITNESSES = [key.strip() for key in env_str("AVR_LOG_WITNESSES").split(",") if key.strip()]


def _secret_key() -> str:
    configured = env_str("AVR_SECRET_KEY")
    if configured:
        return configured
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("AVR_DEBUG")
ALLOWED_HOSTS = env_list("AVR_ALLOWED_HOSTS") + ["testserver"]
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]", "testserver"}
CSRF_TRUSTED_ORIGINS = env_list("AVR_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "huey.contrib.djhuey",
    "core",
    "custody",
    "orgs",
    "devices",
    "storage",
    "recordings",
    "ingest",
    "access",
    "activities",
    "api",
    "web",
    "axes",  # sign-in lockout (ACC-6): orgs.lockout
    # two-factor sign-in (ACC-6): orgs.twofactor — TOTP devices, passkeys (WebAuthn; orgs.passkeys)
    # and single-use recovery codes (hashed: orgs.recovery). otp_static only for the migration
    # that hashed its plain tokens (orgs 0004); nothing uses it since.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.NoStoreMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "orgs.middleware.IdleTimeoutMiddleware",  # after messages: it says why you were signed out
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the session's second factor
    "orgs.middleware.TwoFactorMiddleware",  # after OTPMiddleware: holds a person who must enrol
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: answers a locked-out sign-in (orgs.lockout)
]

# Sign-in lockout (ACC-6, 等保 level 3): AVR_LOGIN_FAILURE_LIMIT failures in a row for one account,
# or from one client address (core.clients.client_ip: the real client behind the load
# balancer), lock it for AVR_LOGIN_LOCKOUT_MINUTES; a success resets the account's count. A
# security administrator unlocks earlier with `manage.py axes_reset_username <name>` or
# `axes_reset_ip <address>`. The axes backend goes first so a locked account is refused even
# with the right password; ModelBackend then checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AVR_LOGIN_FAILURE_LIMIT")
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AVR_LOGIN_LOCKOUT_MINUTES"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.clients.client_ip"
AXES_LOCKOUT_CALLABLE = "orgs.lockout.locked_out_response"
AXES_USERNAME_CALLABLE = "orgs.lockout.lockout_username"
AXES_VERBOSE = False

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "orgs.Person"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context.navigation",
            ],
        },
    },
]

_default_db = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL") or _default_db)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE makes every write
    # transaction take the lock up front, which keeps the custody chain serial.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;"
        ),
    }
else:
    # dj_database_url sets CONN_MAX_AGE=0 itself, so a setdefault never took effect: persistent
    # connections, checked before reuse (a restarted server or a failed-over primary).
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "orgs.passwords.ComplexityValidator"},
    {"NAME": "orgs.passwords.HistoryValidator"},
]
PASSWORD_HISTORY = env_int("AVR_PASSWORD_HISTORY")
PASSWORD_MAX_AGE_DAYS = env_int("AVR_PASSWORD_MAX_AGE_DAYS")
SESSION_IDLE_MINUTES = env_int("AVR_SESSION_IDLE_MINUTES")

# Two-factor sign-in (ACC-6, 等保 level 3: 双因素鉴别; orgs.twofactor). TOTP codes of 6 digits
# every 30 s, one step either way accepted, each code once; no drift learning (phones keep
# network time), so the accepted window stays [-30 s, +30 s]. A wrong code slows the next try
# (django-otp: 1, 2, 4 … s) and counts toward the sign-in lockout above.
OTP_TOTP_ISSUER = "执法音像记录管理平台"
OTP_TOTP_SYNC = False
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# Passkeys (WebAuthn, django-otp-webauthn; orgs.passkeys) as a second factor only: never instead
# of the password. The relying party is the name the browser reached the platform by (one of
# AVR_ALLOWED_HOSTS, checked by Django) and the expected origin is that name over HTTPS
# (http:// only for localhost, the one plain-HTTP secure context): orgs.passkeys.PasskeyHelper.
# A passkey works only under the name it was added with; under an IP address there are none.
# The list below only satisfies the library's start-up check; the helper works per request.
OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER
OTP_WEBAUTHN_RP_ID_CALLABLE = "orgs.passkeys.relying_party_id"
OTP_WEBAUTHN_HELPER_CLASS = "orgs.passkeys.PasskeyHelper"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_ALLOWED_ORIGINS = [
    f"https://{h}" for h in ALLOWED_HOSTS if h not in _LOOPBACK_HOSTS and not h.startswith((".", "*"))
] or ["http://localhost"]

LANGUAGE_CODE = "zh-hans"
# Only Simplified Chinese until an English catalogue exists: offering "en" would let a browser's
# Accept-Language switch Django's own strings to English beside our Chinese ones.
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("AVR_TIME_ZONE")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Only the built ``dist`` folders of the npm packages are served (under static/vendor/<package>/dist).
VENDOR_DIST = ["@tabler/core", "@tabler/icons-webfont", "@uppy/locales", "htmx.org", "uppy", "echarts"]
STATICFILES_DIRS = [BASE_DIR / "web" / "static"] + [
    (f"vendor/{package}/dist", BASE_DIR / "node_modules" / package / "dist")
    for package in VENDOR_DIST
    if (BASE_DIR / "node_modules" / package / "dist").is_dir()
]

# Front-end packages come from npm (node_modules), served by WhiteNoise; never copied into the repo.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
X_FRAME_OPTIONS = "SAMEORIGIN"

# HTTPS (ACC-6): Secure cookies and HSTS. "auto" turns them on as soon as the platform answers
# to a name that is not loopback (a real deployment, behind TLS: deploy/nginx); the local
# default, tests and bin/cluster stay on plain HTTP.
_HTTPS = env_str("AVR_HTTPS").strip().lower()
HTTPS = _HTTPS in ("1", "true", "yes", "on") or (
    _HTTPS == "auto" and any(h not in _LOOPBACK_HOSTS for h in ALLOWED_HOSTS)
)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 365 * 86400 if HTTPS else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): scripts, styles and fonts from this origin only, no
# inline script, event-handler attribute or style attribute (web/static/web/app.js and app.css
# carry them); blob: for Uppy's thumbnails. The API's docs page (Swagger UI) is exempt
# (api.ninja.signed_in_only): it is behind sign-in and loads its own inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}

# Request bodies: uploads never pass through Django's body parsing (tus PATCH
# streams straight to the vault), so the in-memory limits can stay small.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
UPLOAD_MAX_BYTES = env_int("AVR_UPLOAD_MAX_BYTES")
FIXITY_BATCH = env_int("AVR_FIXITY_BATCH")

REDIS_URL = env_str("REDIS_URL")
HUEY_IMMEDIATE = env_bool("AVR_HUEY_IMMEDIATE")
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "avr",
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        # periodic tasks ("daily at 2:30") run on the platform's clock, not UTC's
        "utc": False,
        "consumer": {"workers": env_int("AVR_HUEY_WORKERS"), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "avr",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        # periodic tasks ("daily at 2:30") run on the platform's clock, not UTC's
        "utc": False,
        "consumer": {"workers": env_int("AVR_HUEY_WORKERS"), "worker_type": "thread"},
    }

# One line format for Django's, Huey's and our own loggers, the same as gunicorn's error log:
# "[2026-05-20 14:03:07 +0800] [pid] [LEVEL] logger: message". asctime is local time, and
# Django sets the process's TZ from TIME_ZONE, so every line is in the platform's time zone
# with its offset shown (gunicorn's master, which never loads Django, sets TZ in
# config/gunicorn.conf.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "format": "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s",
            "datefmt": "%Y-%m-%d %H:%M:%S %z",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},  # every failed sign-in is a custody event already
        # why a passkey was refused (wrong origin, bad signature …), for the operator; the custody
        # event of the failure is written either way
        "django_otp_webauthn": {"level": "ERROR"},
        # A handler of ours on "huey": the consumer then installs none of its own (its lines
        # would carry no offset), and nothing is printed twice.
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
