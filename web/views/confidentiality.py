"""Marking a record commercial secret or personal privacy, and clearing the mark (ACC-3).

Two POST endpoints behind the record page's 保密标记 card (``web/recordings/_confidentiality.html``);
the record is fetched through ``get_recording`` (not visible: 404), the change is made by
``access.confidentiality`` (a custody event), and the browser goes back to the record page with a
message — or to the catalogue when the mark just took the record out of the actor's sight.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from access.choices import Confidentiality
from access.confidentiality import clear_confidential, mark_confidential, may_clear, may_mark
from access.models import ConfidentialityMark
from core.errors import DomainError
from recordings.models import Recording
from recordings.selectors import get_recording
from web.views.common import page

MARK_CATEGORIES = [(c.value, c.label) for c in Confidentiality if c.value]


def confidentiality_context(user, recording) -> dict:
    """What ``web/recordings/_confidentiality.html`` needs, for the record page's context."""
    mark = (
        ConfidentialityMark.objects.select_related("marked_by").filter(recording_id=recording.pk).first()
    )
    return {
        "confidentiality_mark": mark,
        "can_mark": may_mark(user, recording),
        "can_clear": mark is not None and may_clear(user, recording),
        "confidentiality_choices": MARK_CATEGORIES,
    }


def _refused(request, exc: DomainError):
    status = exc.status if 400 <= exc.status < 500 else 400
    return render(request, "web/error.html", {"message": exc.message}, status=status)


def _reason(request) -> str:
    reason = request.POST.get("reason", "")
    if "\x00" in reason:
        raise DomainError(_("理由中含有无效字符。"))
    return reason


def _after(request, recording):
    """The record page, when the actor still sees the record; else the catalogue."""
    if Recording.objects.restrict(request.user, "view").filter(pk=recording.pk).exists():
        return redirect("web:recording_detail", pk=recording.pk)
    messages.info(request, _("该记录已标记保密，您此后不能再查看；如需调阅，请经部门负责人审批。"))
    return redirect("web:recording_list")


@require_POST
@page
def recording_mark_confidential(request, pk: int):
    recording = get_recording(request.user, pk, action="view")
    category = request.POST.get("category", "")
    try:
        mark_confidential(recording, actor=request.user, category=category, reason=_reason(request))
    except DomainError as exc:
        return _refused(request, exc)
    messages.success(request, _("已标记为%(category)s：此后只有摄录的执法人员、本部门及上级部门负责人和经部门负责人"
                                "批准的申请人可以查看。标记记录已写入保管链。") % {"category": Confidentiality(category).label})
    return _after(request, recording)


@require_POST
@page
def recording_clear_confidential(request, pk: int):
    recording = get_recording(request.user, pk, action="view")
    try:
        clear_confidential(recording, actor=request.user, reason=_reason(request))
    except DomainError as exc:
        return _refused(request, exc)
    messages.success(request, _("已取消保密标记，取消记录已写入保管链。"))
    return redirect("web:recording_detail", pk=recording.pk)
