"""The ingest steps, in order: store → dedupe → probe → metadata → catalogue → poster → proxy."""

from __future__ import annotations

import contextlib
import logging

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ingest import services
from ingest.choices import IngestStatus
from ingest.filenames import parse_device_filename
from ingest.metadata import build_recording_metadata
from ingest.pipeline.base import FollowUp, FollowUpKind, PipelineContext, Step, StopPipeline
from ingest.streams import media_source
from recordings import media
from recordings.choices import DerivativeKind
from recordings.data import MediaInfo
from recordings.models import Recording
from storage.backends import get_vault
from storage.backends.base import Area, StoredResult
from storage.choices import FixityStatus
from storage.services import register_stored_object

logger = logging.getLogger(__name__)


class StoreOriginal(Step):
    """Commit the staging file under the digests computed while it was written (ING-2)."""

    name = "store"
    label = gettext_lazy("保存原始文件")

    def can_run(self, ctx):
        return ctx.item.stored_object_id is None

    def run(self, ctx):
        vault = get_vault()
        staging = vault.staging(ctx.item.staging_name)
        if staging.size() == ctx.digests.size:
            result = vault.commit(staging, ctx.digests, area=Area.ORIGINAL)
        else:
            # A repeated run after a crash between commit and registration: the object is there.
            key = vault.key_for(ctx.digests.sha256, Area.ORIGINAL)
            stat = vault.stat(key)
            if stat is None or stat.size != ctx.digests.size:
                raise StopPipeline(
                    IngestStatus.FAILED,
                    _("暂存文件缺失或不完整（%(have)s / %(want)s 字节），无法入库，请重新上传。")
                    % {"have": staging.size(), "want": ctx.digests.size},
                )
            result = StoredResult(key=key, digests=ctx.digests, created=False, backend=vault.name)
        obj = register_stored_object(result, area=Area.ORIGINAL, actor=ctx.actor)
        services.attach_stored_object(ctx.item, obj)
        ctx.stored_object = obj
        if obj.sha256 == ctx.digests.sha256 and result.created and not obj.write_verified:
            if obj.last_fixity_status == FixityStatus.FAIL:
                ctx.flags.append(_("写入后复核未通过：文件库中的内容与上传时计算的摘要不一致。"))
            else:
                ctx.flags.append(_("写入后复核未能执行，将在定期校验中重新核对。"))
        ctx.notes[self.name] = obj.key


class Dedupe(Step):
    """Same SHA-256 already catalogued: link to it, keep one copy (ING-6)."""

    name = "dedupe"
    label = gettext_lazy("查重")

    def can_run(self, ctx):
        return ctx.stored_object is not None and ctx.item.recording_id is None

    def run(self, ctx):
        existing = Recording.objects.filter(original=ctx.stored_object).first()
        if existing is None:
            return
        if _catalogued_by_this_item(ctx, existing):
            return
        _link(ctx, existing)


def _catalogued_by_this_item(ctx: PipelineContext, recording) -> bool:
    """A concurrent run of the same item (a requeued task) catalogued it: adopt, not a duplicate."""
    ctx.item.refresh_from_db(fields=["recording"])
    if ctx.item.recording_id == recording.pk:
        ctx.recording = recording
        return True
    return False


def _link(ctx: PipelineContext, existing) -> None:
    services.link_duplicate(ctx.item, actor=ctx.actor, existing=existing)
    raise StopPipeline(
        IngestStatus.STORED,
        # neither id nor name: the uploader may not be allowed to see that record (ACC-1); who may
        # see it gets the link from the ingest list (ingest.selectors: duplicate_visible)
        _("重复文件：与平台已保存的一份记录内容完全相同，已关联到该记录，未重复保存。"),
    )


class Probe(Step):
    """What is in the file (PyAV, EXIF). Unreadable files are kept and flagged, never dropped."""

    name = "probe"
    label = gettext_lazy("识别媒体")

    def can_run(self, ctx):
        return ctx.stored_object is not None

    def run(self, ctx):
        source = media_source(ctx.stored_object)
        ctx.media_source = source.__enter__()
        ctx.resources.append(source)
        ctx.media = media.probe_media(ctx.media_source, filename=ctx.item.filename)
        if ctx.media.problem:
            ctx.notes[self.name] = ctx.media.problem
        else:
            ctx.notes[self.name] = (
                f"{ctx.media.kind} {ctx.media.container} {ctx.media.video_codec} {ctx.media.audio_codec}".strip()
            )


class Metadata(Step):
    """Uploader's form + filename pattern + the media's clock (media time wins)."""

    name = "metadata"
    label = gettext_lazy("整理元数据")

    def can_run(self, ctx):
        return ctx.stored_object is not None

    def run(self, ctx):
        device_name = parse_device_filename(ctx.item.filename)
        ctx.metadata = build_recording_metadata(
            ctx.item.metadata, device_name=device_name, media=ctx.media
        )
        ctx.notes[self.name] = ctx.metadata.time_source


class Catalogue(Step):
    """One Recording, created with its item link in a single transaction."""

    name = "catalogue"
    label = gettext_lazy("编目")

    def can_run(self, ctx):
        return ctx.stored_object is not None and ctx.item.recording_id is None

    def run(self, ctx):
        media = ctx.media or MediaInfo(problem=_("未能识别媒体信息。"))
        try:
            with transaction.atomic():
                ctx.recording = services.catalogue_item(
                    ctx.item,
                    actor=ctx.actor,
                    original=ctx.stored_object,
                    filename=ctx.item.filename,
                    raw_filename=ctx.item.raw_filename,
                    media=media,
                    metadata=ctx.metadata,
                    received_at=ctx.item.created_at,
                    flag_reason="；".join(ctx.flags),
                )
        except IntegrityError:
            # Another item with the same bytes was catalogued a moment ago.
            existing = Recording.objects.filter(original=ctx.stored_object).first()
            if existing is None:
                raise
            if not _catalogued_by_this_item(ctx, existing):
                _link(ctx, existing)
        ctx.notes[self.name] = str(ctx.recording.pk)


class Poster(Step):
    """A small JPEG from a frame near 1 s, or the photo itself; failure is only a note."""

    name = "poster"
    label = gettext_lazy("生成封面图")
    required = False

    def can_run(self, ctx):
        return (
            ctx.recording is not None
            and ctx.media_source is not None
            and ctx.media is not None
            and ctx.media.kind in ("video", "photo")
        )

    def run(self, ctx):
        jpeg, width, height = media.make_poster(ctx.media_source, ctx.media.kind)
        services.store_derivative_bytes(
            ctx.recording,
            actor=ctx.actor,
            kind=DerivativeKind.POSTER,
            source=jpeg,
            mime_type="image/jpeg",
            width=width,
            height=height,
            note=_("封面缩略图，由原始文件生成"),
        )


class Proxy(Step):
    """Browsers cannot play it (H.265, AVI, ...): ask for a transcode to H.264/AAC MP4 (ING-7).

    The transcode is follow-up work: the queue edge enqueues it once the item is finished."""

    name = "proxy"
    label = gettext_lazy("生成可播放副本")
    required = False

    def can_run(self, ctx):
        return (
            ctx.recording is not None
            and ctx.media is not None
            and ctx.media.kind == "video"
            and not ctx.media.playable
            and not ctx.media.problem
        )

    def run(self, ctx):
        ctx.followups.append(FollowUp(FollowUpKind.PROXY, ctx.recording.pk))
        ctx.notes[self.name] = _("已排队转码")


def cleanup_resources(ctx: PipelineContext) -> None:
    while ctx.resources:
        resource = ctx.resources.pop()
        with contextlib.suppress(Exception):
            resource.__exit__(None, None, None)


def lateness_reason(ctx: PipelineContext) -> str:
    """ING-3: late uploads are flagged (never refused); the reason text says by how much."""
    if ctx.recording is None or ctx.recording.on_time is not False:
        return ""
    reason = _("逾期上传：超过录制结束后 24 小时的上传期限")
    if ctx.recording.late_reason:
        reason += _("（已说明原因：%(reason)s）") % {
            "reason": ctx.recording.get_late_reason_display()
        }
    else:
        reason += _("，请补充说明逾期原因")
    return reason


DEFAULT_STEPS: tuple[type[Step], ...] = (
    StoreOriginal,
    Dedupe,
    Probe,
    Metadata,
    Catalogue,
    Poster,
    Proxy,
)


def default_steps() -> list[Step]:
    return [cls() for cls in DEFAULT_STEPS]


__all__ = [
    "DEFAULT_STEPS",
    "Catalogue",
    "Dedupe",
    "Metadata",
    "Poster",
    "Probe",
    "Proxy",
    "StoreOriginal",
    "default_steps",
]
