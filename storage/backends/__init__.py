"""Backend registry: the vault in use is chosen by settings, never by hasattr().

New objects are written to the configured backend (``get_vault()``); an object
already stored is always read from the backend its catalogue row names
(``vault_for(obj)``), so changing the configured backend never makes existing
objects unreachable or sends a fixity check to the wrong store.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext as _

from storage.backends.base import VaultBackend, VaultError
from storage.backends.filesystem import FilesystemBackend

if TYPE_CHECKING:
    from storage.models import StoredObject

DEFAULT_BACKEND = "filesystem"

# name -> factory; the name is what ``StoredObject.backend`` records.
def _s3() -> VaultBackend:
    from storage.backends.s3 import build_from_settings

    return build_from_settings()


BACKENDS: dict[str, Callable[[], VaultBackend]] = {
    "filesystem": lambda: FilesystemBackend(settings.VAULT_DIR),
    "s3": _s3,
}


class UnknownBackendError(VaultError):
    code = "vault_backend_unknown"
    status = 503


def configured_backend() -> str:
    """The name of the backend new objects are written to (``settings.VAULT_BACKEND``)."""
    return getattr(settings, "VAULT_BACKEND", DEFAULT_BACKEND)


def get_vault(name: str | None = None) -> VaultBackend:
    """The backend called ``name``; without a name, the configured one."""
    return _backend(configured_backend() if name is None else name)


def vault_for(stored_object: StoredObject) -> VaultBackend:
    """The backend ``stored_object`` lives in: every read of an existing object goes here."""
    return _backend(stored_object.backend)


@cache
def _backend(name: str) -> VaultBackend:
    factory = BACKENDS.get(name)
    if factory is None:
        raise UnknownBackendError(
            _("未知的存储后端“%(name)s”：该对象所在的文件库未配置。") % {"name": name}
        )
    backend = factory()
    if backend.name != name:
        raise VaultError(
            _("存储后端登记有误：“%(name)s”对应的后端自称“%(actual)s”。")
            % {"name": name, "actual": backend.name}
        )
    # Once per process, before first use: an unusable store (unreachable, a wrong key, a bucket
    # without Object Lock, a read-only folder) is refused, never fallen back from. Not cached
    # on failure, so the next use tries again.
    backend.check()
    return backend


def reset_vault_cache() -> None:
    _backend.cache_clear()
