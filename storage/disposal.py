"""The gate in front of the vault's only destructive capability (RET-6, RET-7; promise 1).

``VaultBackend.dispose(key, authorization=)`` asks ``check_disposal`` first. A disposal needs an
authorization that the retention issue's approval workflow will issue (custodian review, the
department head's signature, the lawful date passed, no hold). Until that workflow exists no
authorization is valid, so every disposal is refused — the refusal path is real and tested, the
approval path is not built yet.
"""

from __future__ import annotations

from typing import NoReturn

from django.utils import timezone
from django.utils.translation import gettext as _

from storage.backends.base import DisposalRefusedError, Retention


def check_disposal(key: str, retention: Retention, authorization) -> NoReturn:
    """Raise ``DisposalRefusedError`` unless ``authorization`` allows disposing of ``key`` now."""
    if authorization is None:
        raise DisposalRefusedError(_("没有处置授权，原始文件不能删除。"))
    if retention.legal_hold:
        raise DisposalRefusedError(_("该对象处于法律保全（冻结）状态，不能处置。"))
    if retention.until is not None and retention.until > timezone.now():
        raise DisposalRefusedError(
            _("该对象的保存期限至 %(until)s，期满前不能处置。")
            % {"until": timezone.localtime(retention.until).strftime("%Y-%m-%d %H:%M")}
        )
    # The approval workflow that issues valid authorizations is the retention issue's (RET-6):
    # until it exists, nothing is one.
    raise DisposalRefusedError(
        _("处置授权无效：处置须经保管人审核和部门负责人批准（处置审批尚未启用）。")
    )
