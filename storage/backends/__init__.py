"""Backend registry: the vault in use is chosen by settings, never by hasattr()."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from storage.backends.base import VaultBackend
from storage.backends.filesystem import FilesystemBackend

BACKENDS = {"filesystem": FilesystemBackend}


@cache
def get_vault() -> VaultBackend:
    return FilesystemBackend(settings.VAULT_DIR)


def reset_vault_cache() -> None:
    get_vault.cache_clear()
