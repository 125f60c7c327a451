"""Fixity checkers: pure functions returning findings (habit 5).

``check_fixity`` reads nothing but the catalogue: it reports the objects whose
last recorded fixity result needs a person's attention (failed, could not
run, never run, or older than ``max_age``). Re-reading bytes and storing the
result is ``storage.services.run_fixity_check``'s job; printing is the
caller's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from storage.choices import FixityStatus
from storage.models import StoredObject


@dataclass(frozen=True)
class FixityFinding:
    object_id: int
    key: str
    problem: str  # stable code: "failed" | "not_run" | "never_checked" | "overdue"
    message: str  # Chinese, for people


def check_fixity(
    objects: Iterable[StoredObject], *, now: datetime, max_age: timedelta
) -> list[FixityFinding]:
    """One finding per object whose recorded fixity state is not a recent pass."""
    findings: list[FixityFinding] = []
    for obj in objects:
        if obj.last_fixity_status == FixityStatus.FAIL:
            problem, message = "failed", _("最近一次完整性校验未通过，须立即核查。")
        elif obj.last_fixity_at is None:
            problem, message = "never_checked", _("尚未做过完整性校验。")
        elif obj.last_fixity_status == FixityStatus.NOT_RUN:
            problem, message = "not_run", _("最近一次完整性校验未能执行。")
        elif now - obj.last_fixity_at > max_age:
            days = (now - obj.last_fixity_at).days
            problem, message = "overdue", _("已 %(days)s 天未做完整性校验。") % {"days": days}
        else:
            continue
        findings.append(
            FixityFinding(object_id=obj.pk, key=obj.key, problem=problem, message=message)
        )
    return findings
