"""Test suite: real PostgreSQL and Redis (see Makefile `test`), fast password hashing.

Names outside the process (test databases, Redis keys) carry a tag of this checkout, so two
clones on one machine do not collide; under pytest-xdist each worker adds its own suffix.
"""

import hashlib
from pathlib import Path

from .base import *  # noqa: F403
from .base import BASE_DIR, CACHES, CELERY_BROKER_TRANSPORT_OPTIONS, DATABASES, env


def checkout_tag(base_dir: Path) -> str:
    """The first 8 hex digits of the sha1 of the checkout's path."""
    return hashlib.sha1(str(base_dir).encode()).hexdigest()[:8]  # noqa: S324 - a name, not a secret


CHECKOUT_TAG = checkout_tag(BASE_DIR)
# pytest-xdist names its workers gw0, gw1…; pytest-django already suffixes the test database.
_redis_prefix = f"test-{CHECKOUT_TAG}-{env('PYTEST_XDIST_WORKER', default='main')}"

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if not env("DATABASE_URL", default=""):
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{CHECKOUT_TAG}"}
# The database tests/test_end_to_end.py rebuilds and `.ci/run` checks once more.
E2E_DATABASE = env("E2E_DATABASE", default=f"creditline_e2e_{CHECKOUT_TAG}")
CACHES["default"]["KEY_PREFIX"] = _redis_prefix
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(BASE_DIR / "var" / "test-private")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# A fault test's worker writes its mail to files (readable from the test process).
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "test-mail"))
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/15")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="redis://127.0.0.1:6379/15")
# Queues and results of one checkout (and one xdist worker) live under their own key prefix;
# the worker processes the tests start load these settings too.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "global_keyprefix": f"{_redis_prefix}:",
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": f"{_redis_prefix}:"}
# Serve static files from the app folders, as runserver would, without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = None
# Every commit kicks its own rows, so a test sees exactly its kick (the window has its tests).
NOTIFICATIONS_KICK_WINDOW_SECONDS = 0.0
