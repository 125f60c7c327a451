"""查阅事由: asked before the first view of a record reached without an own-scope rule (ACC-2).

A superior department's head views a subordinate's records by right (SAMR art. 17 ¶4), but the
register must still say why (SQ 设备 art. 12, DL art. 22: 查阅人、查阅事由、查阅时间). Such rules
are marked ``asks_purpose`` in ``access.rules``; the record page asks once per record and
session, and every access of the session is registered with it. A grant brings its request's
purpose, so nobody is asked twice.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from access.choices import Purpose, purpose_line
from recordings.selectors import get_recording
from web.views.common import page

SESSION_KEY = "access_purposes"
KEEP = 100  # the most records one session remembers a purpose for


def session_purpose(request, recording_id: int) -> str:
    return (request.session.get(SESSION_KEY) or {}).get(str(recording_id), "")


def remember_purpose(request, recording_id: int, text: str) -> None:
    purposes = dict(request.session.get(SESSION_KEY) or {})
    purposes.pop(str(recording_id), None)
    purposes[str(recording_id)] = text[:500]
    while len(purposes) > KEEP:
        purposes.pop(next(iter(purposes)))
    request.session[SESSION_KEY] = purposes


def apply_purpose(request, recording) -> bool:
    """Attach the session's purpose for ``recording`` (the register reads it); False when the
    record's rule asks for one and none was given yet."""
    purpose = session_purpose(request, recording.pk)
    recording.access_purpose = purpose
    decision = getattr(recording, "access_decision", None)
    rule = decision.rule if decision is not None else None
    return bool(purpose) or rule is None or not rule.asks_purpose


def render_purpose_form(request, recording, *, error: str = "", status: int = 200):
    decision = recording.access_decision
    return render(
        request,
        "web/recordings/purpose.html",
        {
            "recording": recording,
            "rule": decision.rule,
            "purposes": Purpose.choices,
            "error": error,
            "chosen": request.POST.get("purpose_code", ""),
            "text": request.POST.get("purpose_text", ""),
        },
        status=status,
    )


@require_POST
@page
def recording_purpose(request, pk: int):
    recording = get_recording(request.user, pk, action="view")
    code = request.POST.get("purpose_code", "")
    text = request.POST.get("purpose_text", "").strip()
    if code not in Purpose.values or not text:
        return render_purpose_form(request, recording, error=_("请选择事由类别并写明具体事由。"), status=400)
    if len(text) > 500:
        return render_purpose_form(request, recording, error=_("事由说明最多 500 字。"), status=400)
    remember_purpose(request, recording.pk, purpose_line(code, text))
    messages.success(request, _("查阅事由已登记，本次登录期间查看此记录均按此事由登记。"))
    return redirect("web:recording_detail", pk=recording.pk)
