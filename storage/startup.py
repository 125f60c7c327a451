"""The start-up check of the configured vault (web nodes, workers, ``manage.py check_vault``)."""

from __future__ import annotations

import logging
import sys

from storage.backends import configured_backend, get_vault
from storage.backends.base import VaultError

logger = logging.getLogger(__name__)


def check_configured_vault() -> None:
    """Reach the backend new originals are written to; on failure say why and raise SystemExit."""
    try:
        get_vault()  # built and checked once per process (storage.backends._backend)
    except VaultError as exc:
        message = f"文件库（{configured_backend()}）不可用，平台拒绝启动：{exc.message}"
        logger.critical(message)
        print(message, file=sys.stderr, flush=True)
        raise SystemExit(3) from exc
