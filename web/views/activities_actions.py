"""What is done on an activity's page, each through its service (activities.services,
activities.conduct, activities.findings, recordings.markers): link and unlink recordings,
explain and accept findings, register and acknowledge interruptions, mark a second of a
recording, report (and acknowledge, decide) not recording.

An activity one may not see is a 404. A form that does not validate, or a refusal of the
service, shows the activity's page again with the message and what was typed (a 4xx, never a
500); a success goes back to the page (POST/redirect/GET) at the section that changed.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from activities.choices import FindingState, InterruptionForm, LinkSource, ReportStatus
from activities.conduct import (
    acknowledge_interruption,
    acknowledge_non_recording,
    decide_non_recording,
    record_interruption,
    report_non_recording,
)
from activities.findings import accept_finding, explain_finding
from activities.models import ActivityRecording, Interruption, NonRecordingReport
from activities.selectors import activity_recordings, list_findings, suggest_recordings
from activities.services import link_recording, unlink_recording
from core.errors import DomainError, NotFoundError
from recordings.markers import add_marker
from storage.backends import get_vault
from storage.backends.base import Area
from storage.services import register_stored_object
from web.views.activities import activity_or_404, form_choices, render_detail
from web.views.activities_forms import (
    AcceptForm,
    DecisionForm,
    ExplainForm,
    InterruptionEntryForm,
    LinkForm,
    MarkerForm,
    NonRecordingForm,
    UnlinkForm,
)
from web.views.common import media_page


def _back(activity, anchor: str = ""):
    url = reverse("web:activity_detail", args=[activity.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


def _status(exc: DomainError) -> int:
    return exc.status if 400 <= exc.status < 500 else 400


def _invalid(request, activity, forms: dict, message: str | None = None):
    messages.error(request, message or _("请检查标红的字段。"))
    return render_detail(request, activity, forms=forms, status=400)


def _conflict(request, activity, message: str):
    """Nothing to do in the activity's present state (what its page shows anyone who may see
    it): said before who may do it, with the page again (409)."""
    messages.error(request, message)
    return render_detail(request, activity, status=409)


def _refused(request, activity, exc: DomainError, forms: dict | None = None):
    messages.error(request, exc.message)
    return render_detail(request, activity, forms=forms, status=_status(exc))


def _write_scan(upload):
    """A signed statement or a written application into the vault, as an original (like a
    party's application: web.views.access_requests). It is catalogued in the service's
    transaction (``register_stored_object``): when the service refuses, the catalogue row rolls
    back and the bytes stay in the write-once vault uncatalogued; the same bytes sent again are
    catalogued then (the vault is content-addressed)."""
    upload.seek(0)
    return get_vault().write(upload.chunks(), area=Area.ORIGINAL)


# ---------------------------------------------------------------------------- recordings


@require_POST
@media_page
def activity_link(request, activity_id: int):
    user = request.user
    activity = activity_or_404(user, activity_id)
    suggested = [s.recording.pk for s in suggest_recordings(user, activity)]
    form = LinkForm(request.POST, suggested_ids=suggested)
    if not form.is_valid():
        return _invalid(request, activity, {"link": form}, next(iter(form.errors.get("recording", [])), None)
                        or next(iter(form.errors.get("recordings", [])), None))
    ids = form.cleaned_data["ids"]
    source = form.cleaned_data.get("source") or LinkSource.MANUAL
    done, refused = 0, []
    for recording_id in ids:
        try:
            link_recording(activity.pk, recording_id, actor=user,
                           source=LinkSource.SUGGESTED if recording_id in suggested and source == LinkSource.SUGGESTED
                           else LinkSource.MANUAL)
            done += 1
        except DomainError as exc:
            refused.append(exc)
    if refused and not done:
        form.add_error("recording", refused[0].message)
        return _refused(request, activity, refused[0], {"link": form})
    if done:
        messages.success(request, _("已关联 %(n)s 段记录，合规检查已重新进行。") % {"n": done})
    for exc in refused:
        messages.error(request, exc.message)
    return _back(activity, "recordings")


@require_POST
@media_page
def activity_unlink(request, activity_id: int):
    user = request.user
    activity = activity_or_404(user, activity_id)
    linked = list(ActivityRecording.objects.filter(activity=activity, recording__in=activity_recordings(user, activity))
                  .values_list("recording_id", flat=True))
    form = UnlinkForm(request.POST, linked_ids=linked)
    if not form.is_valid():
        rec = form.cleaned_data.get("recording")
        errors = {rec: [e for field in form.errors.values() for e in field]} if rec else {}
        return _invalid(request, activity, {"unlink_errors": errors},
                        next(iter(form.errors.get("recording", [])), None))
    try:
        unlink_recording(activity.pk, form.cleaned_data["recording"], actor=user,
                         comment=form.cleaned_data["comment"])
    except DomainError as exc:
        return _refused(request, activity, exc, {"unlink_errors": {form.cleaned_data["recording"]: [exc.message]}})
    messages.success(request, _("已取消关联，理由已写入保管链。"))
    return _back(activity, "recordings")


# ---------------------------------------------------------------------------- findings


def _finding_or_404(user, activity, finding_id: int):
    finding = list_findings(user).filter(pk=finding_id, activity=activity).first()
    if finding is None:
        raise Http404(_("合规提示不存在或您无权查看。"))
    return finding


@require_POST
@media_page
def finding_explain(request, activity_id: int, finding_id: int):
    user = request.user
    activity = activity_or_404(user, activity_id)
    row = _finding_or_404(user, activity, finding_id)
    form = ExplainForm(request.POST, prefix=f"f{row.pk}")
    if not form.is_valid():
        return _invalid(request, activity, {"explain": {row.pk: form}})
    try:
        explain_finding(row.pk, actor=user, text=form.cleaned_data["text"])
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _refused(request, activity, exc, {"explain": {row.pk: form}})
    messages.success(request, _("情况说明已提交，等待采集机构负责人认可。"))
    return _back(activity, f"finding-{row.pk}")


@require_POST
@media_page
def finding_accept(request, activity_id: int, finding_id: int):
    user = request.user
    activity = activity_or_404(user, activity_id)
    row = _finding_or_404(user, activity, finding_id)
    if row.state != FindingState.EXPLAINED:
        return _conflict(request, activity, _("只有已说明的提示可以认可。"))
    form = AcceptForm(request.POST, prefix=f"a{row.pk}")
    if not form.is_valid():
        return _invalid(request, activity, {"accept": {row.pk: form}})
    try:
        accept_finding(row.pk, actor=user, comment=form.cleaned_data.get("comment") or "")
    except DomainError as exc:
        return _refused(request, activity, exc, {"accept": {row.pk: form}})
    messages.success(request, _("已认可该情况说明。"))
    return _back(activity, f"finding-{row.pk}")


# ---------------------------------------------------------------------------- interruptions and markers


@require_POST
@media_page
def interruption_new(request, activity_id: int):
    user = request.user
    activity = activity_or_404(user, activity_id)
    which = request.POST.get("which")
    if which not in (InterruptionForm.VOICE, InterruptionForm.WRITTEN):
        which = InterruptionForm.VOICE
    choices = form_choices(user, activity)
    form = InterruptionEntryForm(request.POST, request.FILES, prefix=which, markers=choices["markers"],
                                 officers=choices["officers"])
    if not form.is_valid() or form.cleaned_data.get("form") != which:
        return _invalid(request, activity, {which: form})
    data = form.cleaned_data
    kwargs = {"actor": user, "starts_at": data["starts_at"], "ends_at": data["ends_at"], "reason": data["reason"],
              "reason_text": data.get("reason_text") or "", "form": which}
    try:
        if which == InterruptionForm.VOICE:
            record_interruption(activity.pk, marker_id=data["marker"], **kwargs)
        else:
            written = _write_scan(data["statement"])
            with transaction.atomic():
                statement = register_stored_object(written, area=Area.ORIGINAL, actor=user)
                record_interruption(activity.pk, statement=statement, signer_ids=data["signers"], **kwargs)
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _refused(request, activity, exc, {which: form})
    messages.success(request, _("记录中断已登记，合规检查已重新进行。") if which == InterruptionForm.VOICE
                     else _("记录中断及书面说明已登记，已报告采集机构负责人确认。"))
    return _back(activity, "interruptions")


@require_POST
@media_page
def interruption_acknowledge(request, activity_id: int, interruption_id: int):
    user = request.user
    activity = activity_or_404(user, activity_id)
    row = Interruption.objects.filter(pk=interruption_id, activity=activity).first()
    if row is None:
        raise Http404(_("中断登记不存在。"))
    if row.form != InterruptionForm.WRITTEN:
        return _conflict(request, activity, _("语音说明无需确认。"))
    if row.acknowledged_at is not None:
        return _conflict(request, activity, _("该书面说明已确认。"))
    try:
        acknowledge_interruption(interruption_id, actor=user)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        return _refused(request, activity, exc)
    messages.success(request, _("已确认该书面说明。"))
    return _back(activity, "interruptions")


@require_POST
@media_page
def marker_new(request, activity_id: int):
    user = request.user
    activity = activity_or_404(user, activity_id)
    choices = form_choices(user, activity)
    form = MarkerForm(request.POST, recordings=choices["recordings"], points=choices["points"])
    if not form.is_valid():
        return _invalid(request, activity, {"marker": form})
    data = form.cleaned_data
    try:
        add_marker(data["recording"], actor=user, offset_s=float(data["offset_s"]), kind=data["kind"],
                   content_point=data.get("content_point") or "", note=data.get("note") or "")
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _refused(request, activity, exc, {"marker": form})
    messages.success(request, _("标记已添加，合规检查已重新进行。"))
    return _back(activity, "markers")


# ---------------------------------------------------------------------------- not recording


@require_POST
@media_page
def non_recording_report(request, activity_id: int):
    user = request.user
    activity = activity_or_404(user, activity_id)
    form = NonRecordingForm(request.POST, request.FILES)
    if not form.is_valid():
        return _invalid(request, activity, {"report": form})
    data = form.cleaned_data
    try:
        written = _write_scan(data["application"]) if data.get("application") else None
        with transaction.atomic():
            application = register_stored_object(written, area=Area.ORIGINAL, actor=user) if written else None
            report_non_recording(activity.pk, actor=user, reason=data["reason"], text=data["text"],
                                 noted_in_record=data["noted_in_record"], application=application)
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _refused(request, activity, exc, {"report": form})
    messages.success(request, _("未进行音像记录的情况已报告采集机构负责人。"))
    return _back(activity, "non-recording")


@require_POST
@media_page
def non_recording_acknowledge(request, activity_id: int):
    user = request.user
    activity = activity_or_404(user, activity_id)
    report = NonRecordingReport.objects.filter(activity=activity).first()
    if report is None:
        return _conflict(request, activity, _("该活动没有未记录报告。"))
    if report.status != ReportStatus.REPORTED:
        return _conflict(request, activity, _("该报告已%(status)s。") % {"status": report.get_status_display()})
    try:
        acknowledge_non_recording(activity.pk, actor=user)
    except DomainError as exc:
        return _refused(request, activity, exc)
    messages.success(request, _("已确认该未记录报告。"))
    return _back(activity, "non-recording")


@require_POST
@media_page
def non_recording_decide(request, activity_id: int):
    user = request.user
    activity = activity_or_404(user, activity_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _invalid(request, activity, {"decision": form})
    approve = form.cleaned_data["decision"] == "approve"
    try:
        decide_non_recording(activity.pk, actor=user, approve=approve, comment=form.cleaned_data.get("comment") or "")
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _refused(request, activity, exc, {"decision": form})
    messages.success(request, _("已同意不进行音像记录。") if approve else _("已不同意不进行音像记录。"))
    return _back(activity, "non-recording")
