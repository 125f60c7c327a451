"""Ingest pipeline contract: every file is kept, probed, catalogued once, and flagged when odd
(ING-2, ING-3, ING-4, ING-6, ING-7)."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from core.testing import make_audio, make_jpeg, make_video, staged_names
from custody.models import Event
from ingest import services, tasks
from ingest.choices import IngestStatus
from ingest.errors import EmptyUploadError
from ingest.local import ingest_stream
from ingest.models import IngestItem
from ingest.pipeline import (
    FollowUp,
    FollowUpKind,
    PipelineContext,
    Step,
    StopPipeline,
    run_pipeline,
)
from ingest.pipeline import steps as pipeline_steps
from ingest.pipeline.runner import RETRY_AFTER_SECONDS
from ingest.services import items as item_services
from ingest.streams import media_source
from recordings.data import MediaInfo
from recordings.media import local_zone
from recordings.models import Derivative, Recording
from storage.backends import get_vault
from storage.backends.base import Area, VaultUnavailableError
from storage.models import StoredObject
from storage.services import register_stored_object


def _device_name(when, ext="MP4", badge="010203"):
    return f"DSJ0012345_{badge}_{when.astimezone(local_zone()):%Y%m%d%H%M%S}_0001.{ext}"


def _vault_bytes(obj: StoredObject) -> bytes:
    with get_vault().open(obj.key) as handle:
        return handle.read()


# --- bad input is kept and flagged (ING-6) -----------------------------------------


@pytest.mark.req("ING-6")
def test_pdf_renamed_mp4_kept_as_original_and_flagged(tus):
    data = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + b"0" * 4000 + b"\n%%EOF\n"
    item = tus.upload(data, "现场录像.mp4")
    assert item.status == IngestStatus.FLAGGED
    assert "无法识别为音视频" in item.status_message
    recording = item.recording
    assert recording.media_kind == "unknown" and recording.flagged
    assert "无法识别为音视频" in recording.flag_reason
    assert _vault_bytes(recording.original) == data
    assert Event.objects.filter(action="ingest.flagged", subject_id=str(recording.pk)).exists()


@pytest.mark.req("ING-6")
def test_truncated_mp4_without_moov_kept_and_flagged(tus):
    full = make_video(2)
    data = full[: len(full) // 2]  # moov is written at the end: cut it off
    item = tus.upload(data, "cut.mp4")
    assert item.status == IngestStatus.FLAGGED
    assert item.recording.flagged and "moov" in item.recording.flag_reason
    assert _vault_bytes(item.recording.original) == data
    assert item.recording.original.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.req("ING-6", "ING-7")
def test_h265_stored_not_playable_and_proxy_derivative_made(tus):
    data = make_video(1, codec="libx265")
    item = tus.upload(data, "hevc.mp4")
    recording = item.recording
    assert item.status == IngestStatus.STORED, item.status_message
    assert recording.video_codec == "hevc" and recording.playable is False
    proxy = Derivative.objects.get(recording=recording, kind="proxy")
    assert proxy.mime_type == "video/mp4" and proxy.stored_object.area == "derivatives"
    assert proxy.stored_object.key.startswith("derivatives/")
    assert proxy.stored_object_id != recording.original_id
    from recordings.media import probe_media

    with media_source(proxy.stored_object) as source:
        info = probe_media(source)
    assert info.video_codec == "h264" and info.audio_codec == "aac" and info.playable
    assert info.height <= 720
    assert _vault_bytes(recording.original) == data  # the original never changes
    assert Event.objects.filter(
        action="storage.derivative_stored", subject_id=str(recording.pk)
    ).exists()


@pytest.mark.req("ING-7")
def test_playable_h264_gets_poster_but_no_proxy(tus):
    item = tus.upload(make_video(2), "h264.mp4")
    recording = item.recording
    assert recording.playable is True
    assert not Derivative.objects.filter(recording=recording, kind="proxy").exists()
    poster = Derivative.objects.get(recording=recording, kind="poster")
    assert poster.mime_type == "image/jpeg" and poster.width <= 320
    assert poster.stored_object.area == "derivatives"
    assert _vault_bytes(poster.stored_object)[:2] == b"\xff\xd8"


@pytest.mark.req("ING-1")
def test_audio_only_file_catalogued_as_playable_audio(tus):
    item = tus.upload(make_audio(2), "录音.m4a")
    recording = item.recording
    assert recording.media_kind == "audio" and recording.audio_codec == "aac"
    assert recording.playable and recording.video_codec == ""
    assert recording.duration_s == pytest.approx(2.0, abs=0.2)
    assert not recording.derivatives.exists()


@pytest.mark.req("ING-1", "ING-4")
def test_jpeg_photo_takes_exif_time_in_local_zone(tus):
    item = tus.upload(make_jpeg(exif_datetime="2026:11:20 09:30:00"), "IMG_0001.JPG")
    recording = item.recording
    assert recording.media_kind == "photo" and recording.mime_type == "image/jpeg"
    assert recording.time_source == "media"
    assert (
        recording.start_time.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")
        == "2026-11-20 09:30"
    )
    assert Derivative.objects.filter(recording=recording, kind="poster").exists()


@pytest.mark.req("ING-6")
def test_duplicate_links_to_existing_record_without_second_copy(tus, officer):
    data = make_video(1)
    first = tus.upload(data, "a.mp4")
    second = tus.upload(data, "a-copy.mp4")
    assert StoredObject.objects.filter(area="originals").count() == 1
    assert Recording.objects.count() == 1
    assert second.duplicate_of_id == first.recording_id and second.recording_id is None
    assert second.status == IngestStatus.STORED and "重复文件" in second.status_message
    event = Event.objects.get(action="ingest.duplicate_linked")
    assert event.subject_id == str(first.recording_id) and event.details["ingest_item"] == second.pk
    assert event.actor_id == officer.pk


@pytest.mark.req("ING-6")
def test_gbk_filename_bytes_displayed_and_raw_kept(tus):
    raw = "执法记录仪视频.mp4".encode("gbk")
    item = tus.upload(make_video(1), raw)
    assert item.recording.original_filename == "执法记录仪视频.mp4"
    assert item.recording.raw_filename == raw.decode("utf-8", "backslashreplace")
    assert "\\x" in item.recording.raw_filename


@pytest.mark.req("ING-6")
def test_filename_with_path_traversal_sanitised_raw_kept(tus):
    item = tus.upload(make_video(1), "../../etc/恶意.mp4")
    assert item.recording.original_filename == "恶意.mp4"
    assert item.recording.raw_filename == "../../etc/恶意.mp4"
    assert item.recording.original.key.startswith("originals/")  # the vault path ignores the name
    assert item.recording.original.sha256 in item.recording.original.key


# --- metadata and the 24-hour rule (ING-3, ING-4) ---------------------------------------------


@pytest.mark.req("ING-4")
def test_upload_metadata_and_filename_fill_the_recording(tus, officer, unit):
    from core.testing import make_person

    partner = make_person("officer", unit=unit)
    started = timezone.now() - timedelta(hours=2)
    name = f"DSJ0012345_{officer.badge_number}_{started.astimezone(local_zone()):%Y%m%d%H%M%S}_0003_IMP.MP4"
    item = tus.upload(
        make_video(1),
        name,
        case_number="市监案〔2026〕7号",
        party="某超市",
        handler="李四",
        place="某区某路",
        matter_type="现场检查",
        notes="复查",
        officer_ids=str(partner.pk),
        unit_id=unit.pk,
    )
    recording = item.recording
    assert recording.case_number == "市监案〔2026〕7号" and recording.party == "某超市"
    assert (recording.handler, recording.place, recording.matter_type, recording.notes) == (
        "李四",
        "某区某路",
        "现场检查",
        "复查",
    )
    assert (
        recording.device_serial == "DSJ0012345" and recording.badge_number == officer.badge_number
    )
    assert recording.primary_officer == officer
    assert set(recording.officers.all()) == {officer, partner}
    assert recording.is_important is True and recording.unit == unit
    assert recording.time_source == "filename"
    assert abs((recording.start_time - started).total_seconds()) < 1
    assert recording.original_filename == name
    catalogued = Event.objects.get(action="recordings.catalogued")
    assert catalogued.details["sha256"] == item.sha256


@pytest.mark.req("ING-4")
def test_media_time_wins_over_filename_time(tus):
    item = tus.upload(
        make_video(1, creation_time="2026-11-21T01:00:00.000000Z"),
        _device_name(timezone.now() - timedelta(days=5)),
    )
    assert item.recording.time_source == "media"
    assert item.recording.start_time.isoformat().startswith("2026-11-21T01:00:00")


@pytest.mark.req("ING-3")
@pytest.mark.parametrize("year", [2028, 2039])  # MP4 keeps seconds since 1904 in 32 bits
def test_media_time_in_the_future_is_flagged_and_deadline_counts_from_arrival(tus, year):
    """A device clock set years ahead must not make a record "on time" with a deadline
    years away: it is flagged, and the 24 hours count from the arrival."""
    item = tus.upload(make_video(1, creation_time=f"{year}-03-01T01:00:00.000000Z"), "clip.mp4")
    recording = item.recording
    assert recording.time_source == "media" and recording.start_time.year == year
    assert [f["code"] for f in recording.flags] == ["capture_time_future"]
    assert recording.on_time is None
    assert recording.upload_deadline == recording.received_at + timedelta(hours=24)
    assert item.status == IngestStatus.FLAGGED and "晚于平台接收时间" in item.status_message


@pytest.mark.req("ING-3")
def test_upload_within_24_hours_is_on_time(tus):
    item = tus.upload(make_video(1), _device_name(timezone.now() - timedelta(hours=3)))
    assert item.recording.on_time is True
    assert item.status == IngestStatus.STORED


@pytest.mark.req("ING-3")
def test_late_upload_is_flagged_never_refused_with_given_reason(tus):
    item = tus.upload(
        make_video(1),
        _device_name(timezone.now() - timedelta(days=3)),
        late_reason="off_site",
        late_reason_text="异地执法返回后上传",
    )
    recording = item.recording
    assert recording is not None and recording.on_time is False
    assert (
        recording.late_reason == "off_site" and recording.late_reason_text == "异地执法返回后上传"
    )
    assert item.status == IngestStatus.FLAGGED and "逾期" in item.status_message


@pytest.mark.req("ING-3")
def test_late_upload_without_reason_asks_for_one(tus):
    item = tus.upload(make_video(1), _device_name(timezone.now() - timedelta(days=2)))
    assert item.recording.on_time is False and item.recording.late_reason == ""
    assert "请补充说明逾期原因" in item.status_message


@pytest.mark.req("ING-3")
def test_recording_without_any_time_has_unknown_timeliness(tus):
    item = tus.upload(make_video(1), "no-time.mp4")
    assert item.recording.on_time is None and item.recording.time_source == "upload"


# --- never half-catalogued, failures explained (ING-6) -----------------------------------------


@pytest.mark.req("ING-6")
def test_catalogue_failure_rolls_back_record_and_flags_item_with_original_kept(tus, monkeypatch):
    import recordings.services as recording_services

    def broken_event(*args, **kwargs):
        raise RuntimeError("custody store unavailable")

    monkeypatch.setattr(recording_services, "record_event", broken_event)
    data = make_video(1)
    item = tus.upload(data, "a.mp4")
    assert item.status == IngestStatus.FLAGGED and "原始文件已安全保存" in item.status_message
    assert not Recording.objects.exists()  # the row created before the failure was rolled back
    assert item.recording_id is None
    assert _vault_bytes(item.stored_object) == data
    assert Event.objects.filter(
        action="ingest.flagged", subject_type="ingestitem", subject_id=str(item.pk)
    ).exists()


@pytest.mark.req("ING-6")
def test_missing_staging_fails_item_with_reason_and_stores_nothing(officer):
    now = timezone.now()
    item = IngestItem.objects.create(
        filename="ghost.mp4",
        size=10,
        sha256="0" * 64,
        sm3="0" * 64,
        staging_name="ing-missing",
        created_by=officer,
        created_at=now,
        updated_at=now,
    )
    item = run_pipeline(item.pk).item
    assert item.status == IngestStatus.FAILED and "暂存文件" in item.status_message
    assert not StoredObject.objects.exists()
    assert Event.objects.filter(action="ingest.failed", subject_id=str(item.pk)).exists()


@pytest.mark.req("ING-7")
def test_poster_failure_does_not_fail_item(tus, monkeypatch):
    import recordings.media as media

    def broken(*args, **kwargs):
        raise ValueError("decoder exploded")

    monkeypatch.setattr(media, "make_poster", broken)
    item = tus.upload(make_video(1), "a.mp4")
    assert item.status == IngestStatus.STORED and item.recording is not None
    poster = next(step for step in item.steps if step["name"] == "poster")
    assert poster["outcome"] == "error"


@pytest.mark.req("ING-6")
def test_running_a_finished_item_again_changes_nothing(tus):
    item = tus.upload(make_video(1), "a.mp4")
    again = run_pipeline(item.pk).item
    assert again.status == item.status and again.steps == item.steps
    assert (
        Recording.objects.count() == 1
        and StoredObject.objects.filter(area="originals").count() == 1
    )


@pytest.mark.req("ING-6")
def test_rerun_after_crash_between_commit_and_finish_completes_once(tus, monkeypatch):
    """A worker that died after storing: the item is re-run; the object is not stored twice."""
    monkeypatch.setattr(
        pipeline_steps.Catalogue, "run", lambda self, ctx: (_ for _ in ()).throw(SystemExit(1))
    )
    with pytest.raises(SystemExit):
        tus.upload(make_video(1), "a.mp4")
    item = IngestItem.objects.get()
    assert item.status == IngestStatus.PROCESSING and item.stored_object_id is not None
    monkeypatch.undo()
    item = run_pipeline(item.pk).item
    assert item.status == IngestStatus.STORED
    assert (
        Recording.objects.count() == 1
        and StoredObject.objects.filter(area="originals").count() == 1
    )


# --- the step contract (habit 3) ---------------------------------------------------------------


class _Recorder(Step):
    def __init__(self, name, log, *, can=True, error=None, required=True):
        self.name, self.log, self.can, self.error, self.required = name, log, can, error, required

    def can_run(self, ctx):
        return self.can

    def run(self, ctx):
        self.log.append(f"run:{self.name}")
        if self.error is not None:
            raise self.error

    def cleanup(self, ctx):
        self.log.append(f"cleanup:{self.name}")


def _bare_item(officer):
    now = timezone.now()
    return IngestItem.objects.create(
        filename="x.bin", size=1, created_by=officer, created_at=now, updated_at=now
    )


def test_steps_run_in_order_skip_when_not_applicable_and_always_clean_up(officer):
    log: list[str] = []
    steps = [
        _Recorder("a", log),
        _Recorder("b", log, can=False),
        _Recorder("c", log, error=ValueError("boom"), required=False),
        _Recorder("d", log),
    ]
    item = run_pipeline(_bare_item(officer).pk, steps=steps).item
    assert log == ["run:a", "cleanup:a", "run:c", "cleanup:c", "run:d", "cleanup:d"]
    assert [(s["name"], s["outcome"]) for s in item.steps] == [
        ("a", "ok"),
        ("b", "skipped"),
        ("c", "error"),
        ("d", "ok"),
    ]
    assert all(isinstance(s["ms"], int) for s in item.steps)


def test_stop_pipeline_ends_with_its_status_and_reason(officer):
    log: list[str] = []
    steps = [
        _Recorder("a", log, error=StopPipeline(IngestStatus.STORED, "重复文件，已关联")),
        _Recorder("b", log),
    ]
    item = run_pipeline(_bare_item(officer).pk, steps=steps).item
    assert item.status == IngestStatus.STORED and item.status_message == "重复文件，已关联"
    assert log == ["run:a", "cleanup:a"]
    assert item.steps[0]["outcome"] == "stopped"


def test_required_step_error_before_storing_fails_item(officer):
    log: list[str] = []
    steps = [_Recorder("a", log, error=RuntimeError("disk on fire")), _Recorder("b", log)]
    item = run_pipeline(_bare_item(officer).pk, steps=steps).item
    assert item.status == IngestStatus.FAILED
    assert "内部错误" in item.status_message and log == ["run:a", "cleanup:a"]


@pytest.mark.req("ING-6")
@pytest.mark.parametrize("stored", [False, True])
def test_internal_error_reads_only_chinese_and_keeps_the_type_in_the_step_record(
    officer, stored, caplog
):
    class Overflowing(Step):
        name = "metadata"
        label = "整理元数据"

        def run(self, ctx):
            raise OverflowError("date value out of range")

    item = _bare_item(officer)
    if stored:  # after the original is kept the item is flagged, not failed
        written = get_vault().write([b"kept"], area=Area.ORIGINAL)
        item.stored_object = register_stored_object(written, area=Area.ORIGINAL, actor=officer)
        item.save()
    item = run_pipeline(item.pk, steps=[Overflowing()]).item
    assert item.status == (IngestStatus.FLAGGED if stored else IngestStatus.FAILED)
    assert "内部错误" in item.status_message
    assert not re.search(r"[A-Za-z]", item.status_message), item.status_message
    record = item.steps[0]
    assert record["outcome"] == "error" and record["error"] == "OverflowError"
    assert not re.search(r"[A-Za-z]", record["message"])
    reason = Event.objects.get(action=f"ingest.{item.status}").details["reason"]
    assert not re.search(r"[A-Za-z]", reason)
    assert "OverflowError" in caplog.text  # the log keeps the technical detail


@pytest.mark.req("ING-7")
def test_proxy_step_reports_follow_up_work_instead_of_enqueueing(tus, monkeypatch):
    """The step appends a FollowUp; the queue edge (ingest.tasks) enqueues it after commit."""
    queued = []
    monkeypatch.setattr(tasks, "_ENQUEUE", {FollowUpKind.PROXY: queued.append})
    item = tus.upload(make_video(1, codec="libx265"), "hevc.mp4")
    assert queued == [item.recording_id]
    proxy = next(step for step in item.steps if step["name"] == "proxy")
    assert proxy["outcome"] == "ok"
    # run alone, the pipeline only reports the work
    again = IngestItem.objects.create(
        filename="hevc-2.mp4", size=1, created_by=item.created_by,
        created_at=timezone.now(), updated_at=timezone.now(),
    )
    ctx = PipelineContext(item=again, actor=item.created_by, digests=again.digests)
    ctx.recording, ctx.media = item.recording, MediaInfo(kind="video", playable=False)
    pipeline_steps.Proxy().run(ctx)
    assert ctx.followups == [FollowUp(FollowUpKind.PROXY, item.recording_id)]
    assert queued == [item.recording_id]


def test_context_carries_item_actor_and_digests(officer):
    seen = {}

    class Peek(Step):
        name = "peek"

        def run(self, ctx: PipelineContext):
            seen.update(actor=ctx.actor, size=ctx.digests.size, item=ctx.item.pk)

    item = _bare_item(officer)
    run_pipeline(item.pk, steps=[Peek()])
    assert seen == {"actor": officer, "size": 1, "item": item.pk}


@pytest.mark.req("ING-6")
def test_stalled_items_are_enqueued_again_by_the_queue_edge(officer, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "enqueue_pipeline", queued.append)
    long_ago = timezone.now() - timedelta(hours=1)
    lost = _bare_item(officer)
    IngestItem.objects.filter(pk=lost.pk).update(status=IngestStatus.PROCESSING, updated_at=long_ago)
    never_started = _bare_item(officer)
    IngestItem.objects.filter(pk=never_started.pk).update(updated_at=long_ago)
    _bare_item(officer)  # received just now: its task may still be queued
    finished = _bare_item(officer)
    IngestItem.objects.filter(pk=finished.pk).update(status=IngestStatus.STORED, updated_at=long_ago)
    tasks.requeue_stalled_items_task.call_local()
    assert sorted(queued) == sorted([lost.pk, never_started.pk])


# --- local files (seed data, dock agent) -----------------------------------------------------------


@pytest.mark.req("ING-1", "ING-2")
def test_ingest_stream_runs_the_same_pipeline(officer, django_capture_on_commit_callbacks):
    import io

    data = make_video(1, codec="libx265")
    with django_capture_on_commit_callbacks(execute=True):
        item = ingest_stream(
            io.BytesIO(data),
            actor=officer,
            filename="seed.mp4",
            metadata={"case_number": "演示案"},
            source="seed",
        )
    assert item.status == IngestStatus.STORED and item.source == "seed"
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    assert item.recording.case_number == "演示案"
    assert Derivative.objects.filter(recording=item.recording, kind="proxy").exists()
    assert staged_names() == []


@pytest.mark.req("ING-6")
def test_ingest_stream_refuses_empty_file_and_leaves_nothing(officer):
    with pytest.raises(EmptyUploadError):
        ingest_stream(b"", actor=officer, filename="empty.mp4", metadata={})
    assert not IngestItem.objects.exists()
    assert staged_names() == []


# --- the vault unreachable; a worker lost mid-item (scale-out, INT-2) -------------------------------


@pytest.mark.req("ING-6", "INT-2")
def test_vault_unreachable_at_store_defers_the_item_and_a_later_run_stores_it_once(
    officer, monkeypatch, django_capture_on_commit_callbacks
):
    data = make_jpeg()
    item = services.receive_stream(io.BytesIO(data), actor=officer, filename="a.jpg", metadata={})
    vault = type(get_vault())
    real_commit = vault.commit

    def down(self, *args, **kwargs):
        raise VaultUnavailableError("对象存储暂时无法连接，已保存的部分不受影响，请稍后重试。")

    monkeypatch.setattr(vault, "commit", down)
    scheduled = []
    monkeypatch.setattr(tasks.run_ingest_item_task, "schedule",
                        lambda args, kwargs=None, delay=None: scheduled.append((args, delay)))
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.process_item(item.pk)
    item.refresh_from_db()
    assert run.retry_after == RETRY_AFTER_SECONDS and scheduled == [((item.pk,), RETRY_AFTER_SECONDS)]
    assert item.status == IngestStatus.RECEIVED and not item.is_final  # not failed: bytes are safe
    assert "稍后自动重试" in item.status_message
    assert item.steps[0]["name"] == "store" and item.steps[0]["outcome"] == "deferred"
    assert not StoredObject.objects.exists() and not Recording.objects.exists()
    assert get_vault().staging(item.staging_name).size() == len(data)

    monkeypatch.setattr(vault, "commit", real_commit)  # the store is back
    again = tasks.process_item(item.pk).item
    assert again.status in (IngestStatus.STORED, IngestStatus.FLAGGED) and again.recording_id
    assert Recording.objects.count() == 1 and StoredObject.objects.filter(area="originals").count() == 1


@pytest.mark.req("INT-2")
def test_a_running_item_beats_while_it_runs_and_stops_after(officer, monkeypatch):
    """A long step (a multi-GB commit) keeps the item's heartbeat, so the stalled sweep never
    takes it for one whose worker died; the beats stop with the run."""
    import time

    monkeypatch.setattr(item_services, "HEARTBEAT", timedelta(seconds=0.05))
    beats = []
    monkeypatch.setattr(item_services, "_touch", beats.append)
    item = _bare_item(officer)

    class Slow(Step):
        name = "slow"

        def run(self, ctx):
            time.sleep(0.4)

    run_pipeline(item.pk, steps=[Slow()])
    during = len(beats)
    time.sleep(0.2)
    assert during >= 3 and set(beats) == {item.pk}
    assert len(beats) == during  # no beat after the run


@pytest.mark.req("ING-6", "INT-2")
def test_an_item_whose_worker_died_after_the_store_step_completes_once_when_requeued(officer):
    """The worker was SIGKILLed between storing the original and cataloguing it: the item stays
    "processing" with a stale heartbeat; the sweep runs it again and it is catalogued once."""
    data = make_jpeg()
    item = services.receive_stream(io.BytesIO(data), actor=officer, filename="b.jpg", metadata={})
    run_pipeline(item.pk, steps=[pipeline_steps.StoreOriginal()])  # then the worker died
    IngestItem.objects.filter(pk=item.pk).update(
        status=IngestStatus.PROCESSING, updated_at=timezone.now() - timedelta(minutes=10))
    assert tasks.requeue_stalled_items() == 1  # Huey immediate: the requeued task runs now
    item.refresh_from_db()
    assert item.is_final and item.recording_id
    assert Recording.objects.count() == 1 and StoredObject.objects.filter(area="originals").count() == 1
    assert tasks.requeue_stalled_items() == 0
