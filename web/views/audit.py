"""The audit administrator's pages: the custody log, its checkpoints and witnesses, chain
verifications, proof bundles, the access register.

He reads everything of the log and the register and changes nothing (running a chain
verification or signing a checkpoint is a check, not a change of what was recorded: each
leaves its result, promise 4). Every other role — the system and security administrators and
every record holder — neither sees these pages in the navigation (web.context) nor reaches
them: 403.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Min, Prefetch, prefetch_related_objects
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from access.choices import AccessAction
from access.selectors import EXPORT_LIMIT, AccessFilter, export_rows, list_access_entries
from access.services import record_register_export
from core.bounds import parse_id
from core.choices import CheckStatus, CheckTrigger
from core.errors import DomainError, NotFoundError
from core.forms import BoundedDateField, bound_text_fields, refuse_reversed_period
from custody import tree
from custody.bundles import subject_bundle
from custody.checkpoints import (
    CheckpointRefused,
    check_cosignature,
    cosigned_note,
    last_witnessed_checkpoint,
    latest_checkpoint,
    make_checkpoint,
    witness_keys,
)
from custody.choices import EventCode
from custody.keys import LogKeyError, public_key_texts, sm2_key_id, verifying_keys
from custody.models import (
    ChainVerification,
    Checkpoint,
    Cosignature,
    Event,
    EventSubject,
    Leaf,
    PendingEvent,
)
from custody.printable import checkpoint_pdf
from custody.selectors import (
    SUBJECT_TYPES,
    EventFilter,
    can_read_audit,
    keyset_page,
    list_events,
    list_verifications,
)
from custody.services import verification_not_started
from custody.signing import verify_checkpoint
from custody.tasks import verify_custody_chain_task
from custody.verifier import note
from web.views.common import page

logger = logging.getLogger(__name__)

EVENTS_PER_PAGE = 50
ACCESS_PER_PAGE = 50
VERIFICATIONS_PER_PAGE = 20
CHECKPOINTS_PER_PAGE = 20


def audit_page(view):
    """``page`` for the audit administrator's pages only; any other role gets a Chinese 403."""

    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        if not can_read_audit(request.user):
            return render(
                request,
                "web/error.html",
                {"message": _("此页面仅供审计管理员使用：保管链日志与查阅登记由审计管理员查阅。")},
                status=403,
            )
        return view(request, *args, **kwargs)

    return page(guarded)


# --- filter forms ----------------------------------------------------------------------------


def _choices(pairs):
    return [("", gettext_lazy("全部")), *pairs]


class _PeriodForm(forms.Form):
    date_from = BoundedDateField(label=gettext_lazy("日期自"), required=False)
    date_to = BoundedDateField(label=gettext_lazy("至"), required=False)
    before = forms.CharField(required=False, widget=forms.HiddenInput)
    after = forms.CharField(required=False, widget=forms.HiddenInput)

    KEYS = ("before", "after")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)

    def _clean_key(self, name):
        value = self.cleaned_data.get(name) or ""
        if not value:
            return None
        number = parse_id(value)
        if number is None:
            raise forms.ValidationError(_("翻页位置无效，请从第一页重新查看。"))
        return number

    def clean_before(self):
        return self._clean_key("before")

    def clean_after(self):
        return self._clean_key("after")

    def clean(self):
        data = super().clean()
        refuse_reversed_period(self)
        return data

    def is_filtered(self) -> bool:
        if not self.is_bound:
            return False
        if not self.is_valid():
            return True
        return any(v for k, v in self.cleaned_data.items() if k not in self.KEYS)


def _person_ref(text: str) -> tuple[int | None, str]:
    """An id typed as digits (or ``#12``), else a name."""
    text = (text or "").strip()
    number = parse_id(text.removeprefix("#"))
    return (number, "") if number is not None else (None, text)


class EventFilterForm(_PeriodForm):
    actor = forms.CharField(label=gettext_lazy("操作人"), required=False, max_length=100)
    action = forms.ChoiceField(
        label=gettext_lazy("动作"), required=False, choices=_choices(EventCode.choices)
    )
    subject_type = forms.ChoiceField(
        label=gettext_lazy("对象类型"), required=False, choices=_choices(SUBJECT_TYPES.items())
    )
    subject_id = forms.CharField(label=gettext_lazy("对象编号"), required=False, max_length=64)
    field_order = ["actor", "action", "subject_type", "subject_id", "date_from", "date_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].error_messages["invalid_choice"] = _("所选动作不存在。")
        self.fields["subject_type"].error_messages["invalid_choice"] = _("所选对象类型不存在。")

    def clean(self):
        data = super().clean()
        if data.get("subject_id") and not data.get("subject_type"):
            self.add_error("subject_type", _("按对象编号筛选时须同时选择对象类型。"))
        return data

    def to_filter(self) -> EventFilter:
        data = self.cleaned_data
        actor_id, actor_text = _person_ref(data.get("actor"))
        return EventFilter(
            actor_id=actor_id,
            actor_text=actor_text,
            action=data.get("action") or "",
            subject_type=data.get("subject_type") or "",
            subject_id=(data.get("subject_id") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


class AccessFilterForm(_PeriodForm):
    person = forms.CharField(label=gettext_lazy("查阅人"), required=False, max_length=100)
    recording = forms.CharField(label=gettext_lazy("记录编号"), required=False, max_length=20)
    action = forms.ChoiceField(
        label=gettext_lazy("方式"), required=False, choices=_choices(AccessAction.choices)
    )
    field_order = ["person", "recording", "action", "date_from", "date_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].error_messages["invalid_choice"] = _("所选查阅方式不存在。")

    def clean_recording(self):
        text = (self.cleaned_data.get("recording") or "").strip().removeprefix("#")
        if not text:
            return None
        number = parse_id(text)
        if number is None:
            raise forms.ValidationError(_("记录编号须为正整数。"))
        return number

    def to_filter(self) -> AccessFilter:
        data = self.cleaned_data
        person_id, person_text = _person_ref(data.get("person"))
        return AccessFilter(
            person_id=person_id,
            person_text=person_text,
            recording_id=data.get("recording"),
            action=data.get("action") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


def _query_without_keys(request) -> str:
    params = request.GET.copy()
    for key in ("before", "after", "format"):
        params.pop(key, None)
    return params.urlencode()


def _filtered_page(request, form, list_rows, key: str, size: int):
    """The keyset page for a filter form; an invalid filter lists nothing (and says so)."""
    invalid = form.is_bound and not form.is_valid()
    if invalid:
        return invalid, None
    flt = form.to_filter() if form.is_bound else None
    qs = list_rows(request.user, flt)
    data = form.cleaned_data if form.is_bound else {}
    result = keyset_page(qs, key, before=data.get("before"), after=data.get("after"), size=size)
    return invalid, result


# --- the log browser ---------------------------------------------------------------------------


def _subject_shown(event) -> str:
    """The subject's id as a person reads it (a failed sign-in's account is a digest)."""
    ident = event.subject_id or ""
    if ident.startswith("sha256:"):
        return ident.removeprefix("sha256:")[:12] + "…"
    return ident


def _decorate_events(rows) -> None:
    for event in rows:
        event.subject_label = SUBJECT_TYPES.get(event.subject_type, _("其他对象"))
        event.subject_shown = _subject_shown(event)


def _events_with_details(user, flt):
    # the details live in their own row (erasable): one join, not one query per event
    return list_events(user, flt).select_related("details_row", "leaf")


@audit_page
def audit_events(request):
    form = EventFilterForm(request.GET or None)
    invalid, result = _filtered_page(request, form, _events_with_details, "id", EVENTS_PER_PAGE)
    if result:
        _decorate_events(result.rows)
    bundle_query = ""
    if form.is_bound and not invalid and form.cleaned_data.get("subject_id"):
        bundle_query = urlencode(
            {
                "subject_type": form.cleaned_data["subject_type"],
                "subject_id": form.cleaned_data["subject_id"].strip(),
            }
        )
    context = {
        "form": form,
        "invalid": invalid,
        "result": result,
        "rows": result.rows if result else [],
        "bundle_query": bundle_query,
        "subject_labels": SUBJECT_TYPES,
        "filtered": form.is_filtered(),
        "query": _query_without_keys(request),
        "paged": bool(
            form.is_bound
            and not invalid
            and (form.cleaned_data.get("before") or form.cleaned_data.get("after"))
        ),
    }
    return render(request, "web/audit/events.html", context, status=400 if invalid else 200)


# --- chain verifications -----------------------------------------------------------------------


def _key_param(request, name) -> int | None:
    return parse_id(request.GET.get(name, "")) if request.GET.get(name) else None


@audit_page
def audit_verifications(request):
    before, after = _key_param(request, "before"), _key_param(request, "after")
    result = keyset_page(
        list_verifications(request.user),
        "pk",
        before=before,
        after=after,
        size=VERIFICATIONS_PER_PAGE,
    )
    triggers = dict(CheckTrigger.choices)
    for verification in result.rows:
        verification.trigger_label = triggers.get(verification.trigger, _("其他方式"))
    context = {"result": result, "rows": result.rows, "paged": bool(before or after)}
    return render(request, "web/audit/verifications.html", context)


@require_POST
@audit_page
def audit_verify_now(request):
    """A full verification reads every event (minutes at ten million): it runs in the worker
    and its result appears in the list; run inline (tests, AVR_HUEY_IMMEDIATE) it is there at once."""
    before = ChainVerification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        verify_custody_chain_task(request.user.pk, CheckTrigger.MANUAL)
    except Exception:  # the queue (Redis) is unreachable: say so, and keep it as a result
        logger.exception("could not enqueue the custody verification")
        verification_not_started(actor=request.user, trigger=CheckTrigger.MANUAL,
                                 reason=_("后台任务队列暂时无法连接，请稍后重试"))
    verification = ChainVerification.objects.filter(pk__gt=before, actor=request.user).order_by("-pk").first()
    if verification is None:
        messages.info(request, _("已开始校验，完成后结果会出现在下方列表中（事件多时需要几分钟）。"))
    elif verification.status == CheckStatus.PASS:
        messages.success(
            request,
            _("校验完成：默克尔树完整，共校验 %(n)s 个事件。")
            % {"n": f"{verification.events_checked:,}"},
        )
    else:
        messages.error(request, _("校验完成：%(detail)s") % {"detail": verification.detail})
    return redirect("web:audit_verifications")


# --- checkpoints, witnesses and the exposure window ---------------------------------------

# ``Checkpoint.trigger``: a check trigger, or a bundle that signed the tree to prove against it.
CHECKPOINT_TRIGGERS = dict(CheckTrigger.choices)


@dataclass(frozen=True)
class ExposureWindow:
    """What only the database guards protect: the events no witnessed checkpoint covers yet.

    ``events`` = leaves at or after the last witnessed checkpoint's size, plus the events still
    queued for the tree; ``oldest_at`` = the earliest ``occurred_at`` among them.
    """

    witnessed: Checkpoint | None  # the last checkpoint a witness co-signed
    events: int
    oldest_at: datetime | None
    tree_size: int
    pending: int

    @property
    def covered(self) -> int:
        return min(self.witnessed.size, self.tree_size) if self.witnessed else 0


def exposure_window() -> ExposureWindow:
    """The exposure window in a few indexed queries (no scan of the log): the tree size is the
    largest leaf index, leaves are numbered without gaps; the oldest event reads the leaves after
    the witnessed size (the window itself, normally minutes of events) or, with no witness at
    all, the ``occurred_at`` index."""
    size = tree.tree_size()
    pending = PendingEvent.objects.count()
    witnessed = last_witnessed_checkpoint()
    covered = min(witnessed.size, size) if witnessed else 0
    events = size - covered + pending
    oldest = None
    if events and witnessed is None:
        oldest = Event.objects.aggregate(oldest=Min("occurred_at"))["oldest"]
    elif events:
        times = [
            Leaf.objects.filter(index__gte=covered).aggregate(t=Min("event__occurred_at"))["t"],
            Event.objects.filter(pk__in=PendingEvent.objects.values("event_id")).aggregate(
                t=Min("occurred_at")
            )["t"],
        ]
        oldest = min((t for t in times if t is not None), default=None)
    return ExposureWindow(witnessed, events, oldest, size, pending)


@dataclass(frozen=True)
class LogKeyShown:
    sm2: bool
    key_id: str
    text: str


def _log_keys() -> tuple[list[LogKeyShown], str]:
    """The published verifier keys, or why they cannot be read (no key file yet: the
    library's words, with the file's path, go to the technical disclosure)."""
    try:
        texts = public_key_texts()
    except LogKeyError as exc:
        return [], str(exc)
    shown = []
    for text in texts:
        _name, kid, blob = (text.split("+", 2) + ["", ""])[:3]
        try:
            kind = note.b64decode(blob)[:1]
        except note.NoteError:
            kind = b""
        shown.append(LogKeyShown(kind == b"\xff", kid, text))
    return shown, ""


def _known_log_key_ids() -> tuple[set[bytes], set[bytes], list, list]:
    """Key ids of the log's keys, current and retired: (Ed25519 ids, SM2 ids, the keys)."""
    try:
        ed_keys, sm2_keys = verifying_keys()
    except LogKeyError:
        return set(), set(), [], []
    return (
        {k.key_id for k in ed_keys},
        {sm2_key_id(name, public) for name, public in sm2_keys},
        ed_keys,
        sm2_keys,
    )


VALID, INVALID, UNCHECKED = "valid", "invalid", "unchecked"


@dataclass(frozen=True)
class SignatureShown:
    label: str
    key_id: str
    state: str  # VALID / INVALID / UNCHECKED


def _note_signatures(checkpoint: Checkpoint, known) -> list[SignatureShown]:
    """Each signature line of the stored note (the log's own), checked against the log keys."""
    ed_ids, sm2_ids, ed_keys, sm2_keys = known
    try:
        parsed = note.parse_checkpoint(checkpoint.note)
    except note.NoteError:
        return [SignatureShown(_("检查点无法解析"), "", INVALID)]
    sm2_ok = None
    if sm2_ids and any(sig.key_id in sm2_ids for sig in parsed.signatures):
        sm2_ok = verify_checkpoint(checkpoint.note, ed25519_keys=[], sm2_keys=sm2_keys).sm2_ok
    shown = []
    for sig in parsed.signatures:
        if sig.key_id in ed_ids:
            key = next(k for k in ed_keys if k.key_id == sig.key_id)
            ok = key.name == sig.name and note.verify_signature(parsed.body, sig, key)[0]
            shown.append(SignatureShown(_("平台签名"), sig.key_id.hex(), VALID if ok else INVALID))
        elif sig.key_id in sm2_ids:
            state = UNCHECKED if sm2_ok is None else VALID if sm2_ok else INVALID
            shown.append(SignatureShown(_("国密 SM2 签名"), sig.key_id.hex(), state))
        else:
            shown.append(SignatureShown(_("未知密钥的签名"), sig.key_id.hex(), UNCHECKED))
    return shown


def _cosignature_state(checkpoint: Checkpoint, cosignature: Cosignature, registered) -> str:
    if (cosignature.witness_name, cosignature.key_id) not in registered:
        return UNCHECKED  # the witness is no longer listed in AVR_LOG_WITNESSES
    return INVALID if check_cosignature(checkpoint, cosignature.line).problem else VALID


def _decorate_checkpoints(rows) -> None:
    prefetch_related_objects(
        rows, Prefetch("cosignatures", queryset=Cosignature.objects.order_by("pk"))
    )
    known = _known_log_key_ids()
    registered = {(k.name, k.key_id.hex()) for k in witness_keys()}
    for checkpoint in rows:
        cosignatures = list(checkpoint.cosignatures.all())  # prefetched, in order
        checkpoint.trigger_label = CHECKPOINT_TRIGGERS.get(checkpoint.trigger, _("其他方式"))
        checkpoint.signature_rows = _note_signatures(checkpoint, known)
        checkpoint.cosignature_rows = [
            (c, _cosignature_state(checkpoint, c, registered)) for c in cosignatures
        ]
        # the stored fields, then the note as cosigned_note() gives it (without a query per row)
        fields = {"size": checkpoint.size, "root": checkpoint.root, "trigger": checkpoint.trigger}
        checkpoint.technical = (
            json.dumps(fields, ensure_ascii=False, indent=2)
            + "\n\n"
            + checkpoint.note
            + "".join(c.line + "\n" for c in cosignatures)
        )


WITNESS_SETUP = """\
# 1. 在另一台机器上（例如审计管理员的工作站）初始化见证人：
python manage.py witness init --state <见证人状态目录> --name <见证人名称> --log-key '{log_key}'
# 2. 把上一步打印的见证人公钥加入平台配置 AVR_LOG_WITNESSES（多个用逗号分隔），重启平台。
# 3. 让见证人定期轮询、校验一致性并联署（访问令牌放在环境变量 AVR_WITNESS_TOKEN 中）：
python manage.py witness poll --state <见证人状态目录> --url <平台地址> --watch 300
"""


@audit_page
def audit_checkpoints(request):
    before, after = _key_param(request, "before"), _key_param(request, "after")
    result = keyset_page(
        Checkpoint.objects.all(), "size", before=before, after=after, size=CHECKPOINTS_PER_PAGE
    )
    _decorate_checkpoints(result.rows)
    keys, key_error = _log_keys()
    witnesses = witness_keys()
    log_key = next((k.text for k in keys if not k.sm2), "<日志公钥>")
    context = {
        "result": result,
        "rows": result.rows,
        "paged": bool(before or after),
        "log_keys": keys,
        "log_keys_text": "\n".join(k.text for k in keys),
        "key_error": key_error,
        "witnesses": witnesses,
        "witnesses_text": "\n".join(k.text() for k in witnesses),
        "witnesses_unreadable": len(settings.LOG_WITNESSES) - len(witnesses),
        "exposure": exposure_window(),
        "latest": latest_checkpoint(),
        "witness_setup": WITNESS_SETUP.format(log_key=log_key),
        "checkpoint_minutes": max(1, settings.LOG_CHECKPOINT_MINUTES),
        "bundle_form": BundleForm(),
    }
    return render(request, "web/audit/checkpoints.html", context)


@require_POST
@audit_page
def audit_checkpoint_now(request):
    previous = latest_checkpoint()
    try:
        checkpoint = make_checkpoint(actor=request.user, trigger=CheckTrigger.MANUAL)
    except CheckpointRefused as exc:
        messages.error(request, _("未签发检查点：%(why)s") % {"why": exc.message})
    except LogKeyError as exc:
        messages.error(request, _("未签发检查点：%(why)s") % {"why": str(exc)})
    else:
        if previous is not None and checkpoint.pk == previous.pk:
            messages.info(
                request,
                _(
                    "自上一个检查点以来没有新的事件：最新检查点（树大小 %(n)s）仍是当前的，未重复签发。"
                )
                % {"n": f"{checkpoint.size:,}"},
            )
        else:
            messages.success(
                request,
                _("已签发检查点：树大小 %(n)s，根哈希 %(root)s…。")
                % {"n": f"{checkpoint.size:,}", "root": checkpoint.root[:16]},
            )
    return redirect("web:audit_checkpoints")


def _checkpoint_of_size(size: int) -> Checkpoint:
    checkpoint = Checkpoint.objects.filter(size=size).first()
    if checkpoint is None:
        raise NotFoundError(_("没有树大小为 %(n)s 的检查点。") % {"n": size})
    return checkpoint


@audit_page
def audit_checkpoint_note(request, size):
    checkpoint = _checkpoint_of_size(size)
    response = HttpResponse(cosigned_note(checkpoint), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, f"checkpoint-{checkpoint.size}.txt"
    )
    return response


@audit_page
def audit_checkpoint_pdf(request, size):
    """The printable checkpoint for the paper file (custody.printable)."""
    checkpoint = _checkpoint_of_size(size)
    try:
        pdf = checkpoint_pdf(checkpoint)
    except DomainError as exc:
        return render(request, "web/error.html", {"message": exc.message}, status=503)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, f"checkpoint-{checkpoint.size}.pdf")
    return response


# --- proof bundles ---------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class BundleForm(forms.Form):
    subject_type = forms.ChoiceField(
        label=gettext_lazy("对象类型"), choices=[("", "—"), *SUBJECT_TYPES.items()]
    )
    subject_id = forms.CharField(label=gettext_lazy("对象编号"), max_length=64, strip=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)
        self.fields["subject_type"].error_messages.update(
            invalid_choice=_("所选对象类型不存在。"), required=_("请选择对象类型。")
        )
        self.fields["subject_id"].error_messages["required"] = _("请填写对象编号。")
        # control characters (NUL included) are refused in clean_subject_id, in Chinese
        self.fields["subject_id"].validators = [
            v
            for v in self.fields["subject_id"].validators
            if not isinstance(v, ProhibitNullCharactersValidator)
        ]

    def clean_subject_id(self):
        value = self.cleaned_data["subject_id"]
        if _CONTROL.search(value):
            raise forms.ValidationError(_("对象编号不能包含控制字符。"))
        value = value.strip()
        if not value:
            raise forms.ValidationError(_("请填写对象编号。"))
        return value


def _bundle_filename(subject_type: str, subject_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", subject_id)
    return f"custody-bundle-{subject_type}-{safe}.json"


@audit_page
def audit_bundle(request):
    form = BundleForm(request.GET)
    if not form.is_valid():
        problems = "；".join(
            f"{form.fields[name].label}：{error}"
            for name, errors in form.errors.items()
            for error in errors
        )
        return render(
            request,
            "web/error.html",
            {"message": _("证明包的参数有误，未生成：%(problems)s") % {"problems": problems}},
            status=400,
        )
    kind, ident = form.cleaned_data["subject_type"], form.cleaned_data["subject_id"]
    label = SUBJECT_TYPES[kind]
    if not EventSubject.objects.filter(subject_type=kind, subject_id=ident).exists():
        return render(
            request,
            "web/error.html",
            {
                "message": _("保管链中没有关于%(label)s %(id)s 的事件，无法生成证明包。")
                % {"label": label, "id": ident}
            },
            status=404,
        )
    try:
        bundle = subject_bundle(kind, ident, actor=request.user)
    except (CheckpointRefused, LogKeyError) as exc:
        why = exc.message if isinstance(exc, CheckpointRefused) else str(exc)
        return render(
            request,
            "web/error.html",
            {"message": _("暂时无法生成证明包：%(why)s") % {"why": why}},
            status=503,
        )
    response = HttpResponse(
        json.dumps(bundle, ensure_ascii=False, indent=1),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition_header(
        True, _bundle_filename(kind, ident)
    )
    return response


# --- the access register -------------------------------------------------------------------------

EXPORT_HEADERS = [
    gettext_lazy("登记编号"),
    gettext_lazy("时间"),
    gettext_lazy("查阅人"),
    gettext_lazy("查阅人编号"),
    gettext_lazy("记录编号"),
    gettext_lazy("方式"),
    gettext_lazy("衍生资料类型"),
    gettext_lazy("事由"),
    gettext_lazy("授权规则"),
    gettext_lazy("审批依据"),
    gettext_lazy("客户端"),
    gettext_lazy("请求编号"),
]


def _local_naive(value: datetime) -> datetime:
    """Spreadsheets hold no zone: write the platform's local time, to the second as the pages
    show it — a spreadsheet stores a fraction of a day and rounds, so 12:00:32.9996 would read
    12:00:33 there and 12:00:32 on the register page."""
    return timezone.localtime(value).replace(tzinfo=None, microsecond=0)


def _derivative_label(kind: str) -> str:
    from recordings.choices import DerivativeKind

    if not kind:
        return ""
    try:
        return str(DerivativeKind(kind).label)
    except ValueError:
        return kind


CHANNELS = {"web": gettext_lazy("网页"), "api": gettext_lazy("接口")}


def _decorate_access(rows) -> None:
    for entry in rows:
        channel, _sep, rest = (entry.client or "").partition(" ")
        entry.channel_label = CHANNELS.get(channel, _("其他"))
        entry.client_ip = rest.split(" ", 1)[0] if rest else ""
        entry.derivative_label = _derivative_label(entry.derivative_kind)
        entry.technical = json.dumps(
            {
                "id": entry.pk,
                "request_id": entry.request_id,
                "client": entry.client,
                "play_ref": entry.play_ref,
                "derivative_kind": entry.derivative_kind,
                "person_id": entry.person_id,
            },
            ensure_ascii=False,
            indent=2,
        )


def _export_access(request, qs, filters: dict) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("查阅登记"))
    widths = [10, 20, 14, 10, 10, 12, 14, 30, 24, 20, 24, 34]
    for n, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + n)].width = width
    bold = Font(bold=True)
    header = []
    for label in EXPORT_HEADERS:
        cell = WriteOnlyCell(sheet, value=str(label))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    actions = dict(AccessAction.choices)
    written = 0
    for entry in export_rows(qs, EXPORT_LIMIT + 1):
        if written == EXPORT_LIMIT:
            sheet.append([])
            sheet.append(
                [
                    _(
                        "注意：符合条件的登记超过 %(n)s 条，本表只含最新的 %(n)s 条；请缩小日期范围后分批导出。"
                    )
                    % {"n": f"{EXPORT_LIMIT:,}"}
                ]
            )
            break
        date_cell = WriteOnlyCell(sheet, value=_local_naive(entry.occurred_at))
        date_cell.number_format = "yyyy-mm-dd hh:mm:ss"
        sheet.append(
            [
                entry.pk,
                date_cell,
                entry.person_name,
                entry.person_id,
                entry.recording_id,
                str(actions.get(entry.action, entry.action)),
                _derivative_label(entry.derivative_kind),
                entry.purpose,
                entry.basis_label,
                entry.approval_ref,
                entry.client,
                entry.request_id,
            ]
        )
        written += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition_header(
        True, _("查阅登记-%(stamp)s.xlsx") % {"stamp": stamp}
    )
    record_register_export(
        actor=request.user, filters=filters, rows=written, truncated=written == EXPORT_LIMIT
    )
    return response


@audit_page
def audit_access(request):
    form = AccessFilterForm(request.GET or None)
    if request.GET.get("format") == "xlsx":
        if form.is_bound and not form.is_valid():
            messages.error(request, _("筛选条件有误，未导出；请先修正筛选条件。"))
            return redirect(f"{request.path}?{_query_without_keys(request)}")
        flt = form.to_filter() if form.is_bound else None
        filters = {k: str(v) for k, v in (form.cleaned_data.items() if form.is_bound else ()) if v}
        return _export_access(request, list_access_entries(request.user, flt), filters)
    invalid, result = _filtered_page(request, form, list_access_entries, "pk", ACCESS_PER_PAGE)
    if result:
        _decorate_access(result.rows)
    query = _query_without_keys(request)
    context = {
        "form": form,
        "invalid": invalid,
        "result": result,
        "rows": result.rows if result else [],
        "filtered": form.is_filtered(),
        "query": query,
        "export_query": f"{query}&format=xlsx" if query else "format=xlsx",
        "export_limit": EXPORT_LIMIT,
        "paged": bool(
            form.is_bound
            and not invalid
            and (form.cleaned_data.get("before") or form.cleaned_data.get("after"))
        ),
    }
    return render(request, "web/audit/access.html", context, status=400 if invalid else 200)
