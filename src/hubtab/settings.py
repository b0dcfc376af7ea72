"""Django settings for Hubtab, read from the environment so one build runs anywhere."""

import json
import os
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("HUBTAB_HOME", Path.cwd()))
VAR_DIR = PROJECT_DIR / "var"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("HUBTAB_DEBUG", False)
# Production sets HUBTAB_SECRET_KEY; the fallback only serves the demo and the tests.
SECRET_KEY = os.environ.get("HUBTAB_SECRET_KEY") or "insecure-demo-key-set-HUBTAB_SECRET_KEY-in-production"
# Where people reach this instance; links in emails sent outside a web request use it.
HUBTAB_BASE_URL = os.environ.get("HUBTAB_BASE_URL", "http://127.0.0.1:8000")
ALLOWED_HOSTS = [h for h in os.environ.get("HUBTAB_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "crontask",
    "hubtab.core",
    "hubtab.ledger",
    "hubtab.accounts",
    "hubtab.crm",
    "hubtab.messaging",
    "hubtab.payments",
    "hubtab.shop",
    "hubtab.billing",
    "hubtab.api",
    "hubtab.web",
    # After Hubtab's apps, so that Hubtab's templates for its pages win.
    "allauth",
    "allauth.account",
    "ninja",  # its Swagger UI files, served from here: the API reference needs no outside site
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hubtab.core.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "hubtab.urls"
WSGI_APPLICATION = "hubtab.wsgi.application"

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
                "hubtab.core.access.hub_permissions",
                "hubtab.crm.context.header_balance",
            ],
        },
    },
]

# Without DATABASE_URL Hubtab runs embedded on a SQLite file under var/.
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'hubtab.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # IMMEDIATE takes the write lock at BEGIN, so a read-then-write service never fails on upgrade.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The test database sits beside the database it stands for: two checkouts or runs with their
    # own DATABASE_URL never share one.
    _db_file = Path(DATABASES["default"]["NAME"])
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(_db_file.with_name(f"test-{_db_file.name}"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # verifies older hashes, upgraded at login
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",  # the Django admin's login
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# Accounts (django-allauth): email and password, the address proven before the first login, so
# nobody reaches a customer record by signing up with someone else's address.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Hubtab] "
ACCOUNT_PRESERVE_USERNAME_CASING = False
# Failed logins are limited per address and IP together (5 in 5 minutes; the adapter makes that
# pair the key), and per IP only far above what one shared network's honest typos reach. allauth
# counts failures only (a login that succeeds gives its try back), in the cache below.
ACCOUNT_ADAPTER = "hubtab.core.auth.HubtabAccountAdapter"
ACCOUNT_RATE_LIMITS = {
    "login_failed": os.environ.get("HUBTAB_LOGIN_RATE_LIMIT", "100/m/ip,5/5m/key"),
    "reset_password": "20/m/ip,5/m/key",
    "signup": "20/m/ip",
}

# One cache shared by every web process (rate-limit counters must be), in the database by default.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "hubtab_cache"},
}

# Email: SMTP by default (HUBTAB_EMAIL_HOST / _PORT / _USER / _PASSWORD / _USE_TLS); any other
# backend, e.g. a django-anymail provider, by HUBTAB_EMAIL_BACKEND. `make demo` writes to var/mail/.
EMAIL_BACKEND_PATH = os.environ.get("HUBTAB_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
_MAILER_OPTIONS: dict[str, object] = {}
if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend"):
    _MAILER_OPTIONS = {
        "host": os.environ.get("HUBTAB_EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("HUBTAB_EMAIL_PORT", "25")),
        "username": os.environ.get("HUBTAB_EMAIL_USER", ""),
        "password": os.environ.get("HUBTAB_EMAIL_PASSWORD", ""),
        "use_tls": _env_bool("HUBTAB_EMAIL_USE_TLS", False),
        "timeout": 10,
    }
elif EMAIL_BACKEND_PATH.endswith("filebased.EmailBackend"):
    _MAILER_OPTIONS = {"file_path": str(VAR_DIR / "mail")}
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH, "OPTIONS": _MAILER_OPTIONS}}
# A django-anymail provider's settings as JSON, e.g. {"MAILGUN_API_KEY": "...", "MAILGUN_SENDER_DOMAIN": "..."}.
ANYMAIL = json.loads(os.environ.get("HUBTAB_ANYMAIL", "{}"))
DEFAULT_FROM_EMAIL = os.environ.get("HUBTAB_FROM_EMAIL", "Hubtab <no-reply@hubtab.localhost>")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]  # messages: `make messages`
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise expects the collected-files folder to exist even before the first collectstatic.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Serve app static files straight from the apps too, so pages are styled before (or without) collectstatic.
WHITENOISE_USE_FINDERS = True

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Pages load only their own scripts, styles and images; nothing inline, no frames.
# Payments (Stripe, with each hub's own keys). HUBTAB_STRIPE_API_BASE points the SDK and Stripe.js at
# another server speaking Stripe's API: localstripe in the tests and the demo.
HUBTAB_STRIPE_API_BASE = os.environ.get("HUBTAB_STRIPE_API_BASE", "").rstrip("/")
HUBTAB_STRIPE_JS_URL = os.environ.get("HUBTAB_STRIPE_JS_URL", "")  # "": Stripe's, or localstripe's with the base
HUBTAB_STRIPE_TIMEOUT = float(os.environ.get("HUBTAB_STRIPE_TIMEOUT", "10"))
HUBTAB_STRIPE_RETRIES = int(os.environ.get("HUBTAB_STRIPE_RETRIES", "2"))
_STRIPE_ORIGINS = (
    [HUBTAB_STRIPE_API_BASE] if HUBTAB_STRIPE_API_BASE else ["https://js.stripe.com", "https://api.stripe.com"]
)

SECURE_CSP = {
    "default-src": [CSP.SELF],
    # Stripe.js runs on the top-up and card pages (and frames the card form on stripe.com).
    "script-src": [CSP.SELF, *_STRIPE_ORIGINS],
    "connect-src": [CSP.SELF, *_STRIPE_ORIGINS],
    "frame-src": [CSP.SELF, *_STRIPE_ORIGINS, "https://hooks.stripe.com"],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 14 * 24 * 3600  # "keep me logged in"; otherwise the session ends with the browser
# Behind HTTPS (HUBTAB_SECURE_COOKIES=true): cookies only over TLS, HSTS, and the proxy's
# X-Forwarded-Proto header trusted to say the request came over HTTPS.
SESSION_COOKIE_SECURE = _env_bool("HUBTAB_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if SESSION_COOKIE_SECURE:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _env_bool("HUBTAB_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("HUBTAB_HSTS_SECONDS", str(30 * 24 * 3600)))
    # Whether every subdomain is HTTPS-only, and preloading, are the domain owner's call, not ours.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("HUBTAB_HSTS_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = _env_bool("HUBTAB_HSTS_PRELOAD", False)
    SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("HUBTAB_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Systems accounts that every posting touches are split into this many balance shards, so
# concurrent postings to one hub never queue behind a single row (docs/decisions/0001).
HUBTAB_SYSTEM_ACCOUNT_SHARDS = int(os.environ.get("HUBTAB_SYSTEM_ACCOUNT_SHARDS", "16"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"forbidden_one_line": {"()": "hubtab.core.logs.ForbiddenOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["forbidden_one_line"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("HUBTAB_LOG_LEVEL", "INFO")},
}
