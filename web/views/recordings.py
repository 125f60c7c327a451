"""The catalogue: list with filters, the detail page, metadata and late-reason forms."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from access.approvals import may_request
from access.choices import AccessAction
from access.models import AccessEntry
from access.services import register_access
from core.clients import client_label
from core.errors import DomainError, NotFoundError
from core.querysets import count_capped
from orgs.choices import Role
from orgs.models import Person, Unit, department_subtree_ids
from recordings.choices import DerivativeKind
from recordings.models import Recording
from recordings.selectors import custody_history, get_recording, list_page, list_recordings
from recordings.services import give_late_reason, update_recording_metadata
from web.forms import LateReasonForm, RecordingFilterForm, RecordingMetadataForm
from web.views.common import is_htmx, media_page, page, page_number
from web.views.confidentiality import confidentiality_context
from web.views.purpose import apply_purpose, render_purpose_form
from web.views.tokens import mint_list_token, mint_play_token

PER_PAGE = 25
HISTORY_LIMIT = 200
ACCESS_LIMIT = 100


def _filter_choices(user):
    """Units and officers offered in the filter form: the user's department (a department head:
    with every subordinate department's units, as they may see those), else unit. Officers are
    offered from the user's own department only: a province's thousands would not be a list."""
    if user.department_id:
        own = Unit.objects.filter(department_id=user.department_id)
        units = own
        if user.has_role(Role.DEPARTMENT_HEAD):
            units = Unit.objects.filter(department_id__in=department_subtree_ids(user.department_id))
        units = units.select_related("department").order_by("code")
    elif user.unit_id:
        units = own = Unit.objects.filter(pk=user.unit_id)
    else:
        units = own = Unit.objects.none()
    officers = (
        Person.objects.filter(unit__in=own, is_active=True, role_assignments__role=Role.OFFICER)
        .distinct()
        .order_by("badge_number", "pk")
    )
    return list(units), list(officers)


@media_page
def recording_list(request):
    user = request.user
    units, officers = _filter_choices(user)
    form = RecordingFilterForm(request.GET or None, units=units, officers=officers)
    invalid = form.is_bound and not form.is_valid()
    if invalid:  # refuse, never ignore, a filter that cannot be applied
        qs = Recording.objects.none()
    else:
        qs = list_recordings(user, form.to_filter() if form.is_bound else None)
    total, capped = count_capped(qs)
    number = page_number(request)
    last_page = max(1, -(-total // PER_PAGE))
    if not capped:
        number = min(number, last_page)
    offset = (number - 1) * PER_PAGE
    rows = list_page(qs, offset, PER_PAGE + 1)
    has_next = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    # posters shown on this page are registered once per page view (ACC-2)
    list_token = mint_list_token(request, [r.pk for r in rows if r.posters]) if rows else ""
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "rows": rows,
        "total": total,
        "capped": capped,
        "page_number": number,
        "last_page": None if capped else last_page,
        "has_prev": number > 1,
        "has_next": has_next,
        "query": params.urlencode(),
        "filtered": form.is_filtered(),
        "invalid": invalid,
        "list_token": list_token,
        "first_index": offset + 1,
    }
    status = 400 if invalid else 200
    if is_htmx(request) and request.headers.get("HX-Target") == "results":
        # 200 even when invalid: htmx does not swap a 4xx, and the errors must be seen
        return render(request, "web/recordings/_results.html", context)
    return render(request, "web/recordings/list.html", context, status=status)


def _allowed(user, recording, action: str) -> bool:
    return Recording.objects.restrict(user, action).filter(pk=recording.pk).exists()


def _render_detail(
    request, recording, *, edit_form=None, late_form=None, open_edit=False, status=200
):
    user = request.user
    view = register_access(
        recording, actor=user, action=AccessAction.VIEW, client=client_label(request, "web")
    )
    derivatives = list(recording.derivatives.select_related("stored_object").order_by("kind"))
    by_kind = {d.kind: d for d in derivatives}
    token = mint_play_token(request, recording.pk, view_entry_id=view.pk)
    can_edit = _allowed(user, recording, "edit")
    can_download = _allowed(user, recording, "download")
    can_play = _allowed(user, recording, "play")
    if edit_form is None and can_edit:
        edit_form = RecordingMetadataForm(
            recording=recording,
            initial={name: getattr(recording, name) for name in RecordingMetadataForm.FIELDS},
        )
    if late_form is None and recording.is_late:
        late_form = LateReasonForm(
            initial={
                "late_reason": recording.late_reason,
                "late_reason_text": recording.late_reason_text,
            }
        )
    content_url = reverse("web:recording_content", args=[recording.pk])
    proxy = by_kind.get(DerivativeKind.PROXY)
    player = None
    if can_play:
        if recording.playable:
            player = {"src": f"{content_url}?t={token}", "derivative": False, "token": token}
        elif proxy is not None:
            proxy_url = reverse("web:recording_derivative", args=[recording.pk, proxy.kind])
            player = {"src": f"{proxy_url}?t={token}", "derivative": True, "token": token}
    kind = recording.media_kind
    if player and player["derivative"]:
        kind = "video" if proxy.mime_type.startswith("video/") else "audio"
    context = {
        "recording": recording,
        "officers": list(recording.officers.all()),
        "derivatives": derivatives,
        "poster": by_kind.get(DerivativeKind.POSTER),
        "player": player,
        "page_token": token,
        "player_kind": kind,
        "can_edit": can_edit,
        "can_download": can_download,
        "can_play": can_play,
        "edit_form": edit_form if can_edit else None,
        "late_form": late_form if can_edit else None,
        "download_url": f"{content_url}?download=1",
        "access_entries": _access_entries(recording),
        "events": _history(recording),
        "open_edit": open_edit and can_edit,
    }
    context.update(confidentiality_context(user, recording))
    context.update(_filing_context(user, recording))
    decision = getattr(recording, "access_decision", None)
    context["access_rule"] = decision.rule if decision is not None else None
    context["access_request"] = decision.request if decision is not None else None
    return render(request, "web/recordings/detail.html", context, status=status)


def _filing_context(user, recording) -> dict:
    """What the written case number, party and matter are linked to (REC-9; activities.filing),
    and the activity the recording belongs to — each a link only where the person may see it."""
    from activities.models import ActivityRecording, RecordingFiling
    from activities.selectors import get_activity, list_cases

    filing = RecordingFiling.objects.filter(recording=recording).select_related("case", "matter").first()
    case = filing.case if filing is not None else None
    activity_id = ActivityRecording.objects.filter(recording=recording).values_list("activity_id", flat=True).first()
    activity = get_activity(user, activity_id) if activity_id else None
    return {
        "filed_case": case,
        "filed_case_visible": case is not None and list_cases(user).filter(pk=case.pk).exists(),
        "filed_matter": filing.matter if filing is not None else None,
        "filed_party": filing is not None and filing.party_matches,
        "recording_activity": activity,
    }


def _access_entries(recording):
    return list(
        AccessEntry.objects.filter(recording=recording).order_by("-occurred_at", "-pk")[
            :ACCESS_LIMIT
        ]
    )


def _history(recording):
    return list(custody_history(recording)[:HISTORY_LIMIT])


@page
def recording_detail(request, pk: int):
    try:
        recording = get_recording(request.user, pk, action="view")
    except NotFoundError as exc:
        # the same answer for a record that does not exist and one beyond one's rules; who may
        # ask for access is offered the request form with only the number they typed (ACC-1)
        url = f"{reverse('web:access_request_new')}?recording={pk}" if may_request(request.user) else ""
        return render(request, "web/error.html", {"message": exc.message, "request_access_url": url}, status=404)
    if not apply_purpose(request, recording):
        return render_purpose_form(request, recording)
    return _render_detail(request, recording)


@page
def recording_history(request, pk: int):
    """The custody history panel, refreshed by htmx (no access entry: it shows no content)."""
    recording = get_recording(request.user, pk, action="view")
    return render(
        request,
        "web/recordings/_history.html",
        {"recording": recording, "events": _history(recording)},
    )


@page
def recording_access_log(request, pk: int):
    recording = get_recording(request.user, pk, action="view")
    return render(
        request,
        "web/recordings/_access.html",
        {"recording": recording, "access_entries": _access_entries(recording)},
    )


@require_http_methods(["GET", "POST"])
@page
def recording_edit(request, pk: int):
    """GET: the detail page with the edit form open (a loadable URL). POST: save, or show
    the form again, open, with each error next to its field."""
    recording = get_recording(request.user, pk, action="edit")
    if request.method == "GET":
        return _render_detail(request, recording, open_edit=True)
    form = RecordingMetadataForm(request.POST, recording=recording)
    if not form.is_valid():
        messages.error(request, _("请检查标红的字段。"))
        return _render_detail(request, recording, edit_form=form, open_edit=True, status=400)
    changes = form.changes(recording)
    if not changes:
        messages.info(request, _("没有需要保存的修改。"))
        return redirect("web:recording_detail", pk=recording.pk)
    try:
        update_recording_metadata(recording, actor=request.user, changes=changes)
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _render_detail(request, recording, edit_form=form, open_edit=True, status=400)
    messages.success(request, _("记录信息已保存，修改前后的内容已写入保管链。"))
    return redirect("web:recording_detail", pk=recording.pk)


@require_POST
@page
def recording_late_reason(request, pk: int):
    recording = get_recording(request.user, pk, action="edit")
    form = LateReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请检查逾期原因。"))
        return _render_detail(request, recording, late_form=form, status=400)
    try:
        give_late_reason(
            recording,
            actor=request.user,
            reason=form.cleaned_data["late_reason"],
            text=form.cleaned_data["late_reason_text"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("web:recording_detail", pk=recording.pk)
    messages.success(request, _("逾期原因已登记。"))
    return redirect("web:recording_detail", pk=recording.pk)
