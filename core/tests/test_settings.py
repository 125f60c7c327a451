"""Settings come from the environment: the embedded default, and the scale-out switches."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = (
    "import django; django.setup();"
    "from django.conf import settings; from huey.contrib.djhuey import HUEY;"
    "print(type(HUEY).__name__, settings.DATABASES['default']['ENGINE'], settings.VAULT_DIR)"
)


def _probe(tmp_path, **env) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "AVR_VAULT_DIR")}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", AVR_VAR_DIR=str(tmp_path), **env)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean, check=True,
                         capture_output=True, text=True).stdout
    return out.split()


def test_embedded_default_is_sqlite_with_vault_and_queue_under_var(tmp_path):
    huey, engine, vault = _probe(tmp_path)
    assert huey == "SqliteHuey"
    assert engine == "django.db.backends.sqlite3"
    assert vault == str(tmp_path / "vault")


def test_redis_url_moves_the_queue_to_redis_and_database_url_to_postgres(tmp_path):
    huey, engine, vault = _probe(
        tmp_path,
        REDIS_URL="redis://127.0.0.1:6379/5",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/avr",
        AVR_VAULT_DIR=str(tmp_path / "elsewhere"),
    )
    assert huey == "RedisHuey"
    assert engine == "django.db.backends.postgresql"
    assert vault == str(tmp_path / "elsewhere")
