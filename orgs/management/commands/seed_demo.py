"""A realistic demo: a province → city → district chain, people in every role, devices, recordings.

Idempotent: departments, units, people and devices are found by code / username / serial;
each demo clip by its device, badge number and sequence. Demo data only — never production.

One department tree: on a fresh database the demo's province is the root (``bootstrap`` run
afterwards finds it and puts the administrator there); when a root exists already (``bootstrap``
ran first), the demo's chain joins that tree under the existing root.
"""

from __future__ import annotations

import io
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from core.context import correlation
from core.errors import DomainError
from devices.choices import DeviceStatus
from devices.models import Device
from ingest.local import ingest_stream
from ingest.models import IngestItem
from orgs.choices import LEVEL_ORDER, DepartmentLevel, Role
from orgs.management.commands.bootstrap import load_reference_data
from orgs.models import Department, Person, Unit
from orgs.services import create_department, create_person, create_unit

DEMO_PASSWORD = "Demo-2026!"
DEMO_ACTIVITY = "某某食品有限公司生产车间检查及扣押"

DEPARTMENTS = [
    # code, name, level, parent code
    ("DEMO-PROV", "某省市场监督管理局", DepartmentLevel.PROVINCE, None),
    ("DEMO-CITY", "某市市场监督管理局", DepartmentLevel.CITY, "DEMO-PROV"),
    ("DEMO-DIST", "某区市场监督管理局", DepartmentLevel.COUNTY, "DEMO-CITY"),
]
UNITS = [
    # code, name, department code
    ("DEMO-DIST-JC", "执法稽查大队", "DEMO-DIST"),
    ("DEMO-DIST-SP", "食品安全监管科", "DEMO-DIST"),
    ("DEMO-DIST-CQ", "城区市场监管所", "DEMO-DIST"),
]


@dataclass(frozen=True)
class DemoPerson:
    username: str
    full_name: str
    badge: str
    roles: tuple[str, ...]
    unit: str | None = None  # unit code
    department: str | None = None  # department code (when not in a unit)


PEOPLE = [
    # 执法稽查大队
    DemoPerson("zhangwei", "张伟", "10020301", (Role.OFFICER,), unit="DEMO-DIST-JC"),
    DemoPerson("lina", "李娜", "10020302", (Role.OFFICER,), unit="DEMO-DIST-JC"),
    DemoPerson("wangqiang", "王强", "10020303", (Role.CUSTODIAN,), unit="DEMO-DIST-JC"),
    DemoPerson("liuyang", "刘洋", "10020304", (Role.UNIT_HEAD,), unit="DEMO-DIST-JC"),
    # 食品安全监管科
    DemoPerson("chenjing", "陈静", "10020311", (Role.OFFICER,), unit="DEMO-DIST-SP"),
    DemoPerson("yangfan", "杨帆", "10020312", (Role.OFFICER,), unit="DEMO-DIST-SP"),
    DemoPerson("zhaolei", "赵磊", "10020313", (Role.CUSTODIAN,), unit="DEMO-DIST-SP"),
    DemoPerson("huangmin", "黄敏", "10020314", (Role.UNIT_HEAD,), unit="DEMO-DIST-SP"),
    # 城区市场监管所
    DemoPerson("zhoujie", "周杰", "10020321", (Role.OFFICER,), unit="DEMO-DIST-CQ"),
    DemoPerson("wuting", "吴婷", "10020322", (Role.OFFICER,), unit="DEMO-DIST-CQ"),
    DemoPerson("xutao", "徐涛", "10020323", (Role.CUSTODIAN,), unit="DEMO-DIST-CQ"),
    DemoPerson("sunli", "孙丽", "10020324", (Role.UNIT_HEAD,), unit="DEMO-DIST-CQ"),
    # the department
    DemoPerson("machao", "马超", "10020300", (Role.DEPARTMENT_HEAD,), department="DEMO-DIST"),
    DemoPerson("zhulin", "朱琳", "10020330", (Role.LEGAL_OFFICE,), department="DEMO-DIST"),
    # three separated administrators (ACC-6)
    DemoPerson("sysadmin", "胡军", "", (Role.SYSTEM_ADMIN,), department="DEMO-DIST"),
    DemoPerson("secadmin", "郭芳", "", (Role.SECURITY_ADMIN,), department="DEMO-DIST"),
    DemoPerson("auditadmin", "林峰", "", (Role.AUDIT_ADMIN,), department="DEMO-DIST"),
]

DEVICES = [
    # serial, kind, model, unit code, holder username
    ("DSJ-A0012345", "body_camera", "DSJ-V8", "DEMO-DIST-JC", "zhangwei"),
    ("DSJ-A0012346", "body_camera", "DSJ-V8", "DEMO-DIST-JC", "lina"),
    ("DSJ-A0012347", "body_camera", "DSJ-V9", "DEMO-DIST-SP", "chenjing"),
    ("LYB-B0000817", "recorder", "LY-200", "DEMO-DIST-SP", "yangfan"),
    ("DSJ-A0012348", "body_camera", "DSJ-V9", "DEMO-DIST-CQ", "zhoujie"),
    ("DSJ-A0012349", "body_camera", "DSJ-V9", "DEMO-DIST-CQ", None),  # spare, in stock
]


@dataclass(frozen=True)
class DemoClip:
    officer: str  # username; also the uploader
    serial: str
    seq: int
    kind: str  # video / hevc / audio / photo
    seconds: float
    hours_ago: float
    extension: str
    metadata: dict = field(default_factory=dict)
    colleagues: tuple[str, ...] = ()


CLIPS = [
    DemoClip(
        "zhangwei",
        "DSJ-A0012345",
        1,
        "video",
        3,
        5,
        "MP4",
        {
            "case_number": "某市监处罚〔2026〕15号",
            "party": "某某食品有限公司",
            "handler": "张伟",
            "place": "某区人民路88号某某食品有限公司生产车间",
            "matter_type": "现场检查",
            "notes": "出示执法证件，告知当事人全程录音录像。",
        },
        ("lina",),
    ),
    DemoClip(
        "zhangwei",
        "DSJ-A0012345",
        2,
        "video",
        2,
        4.8,
        "MP4",
        {
            "case_number": "某市监处罚〔2026〕15号",
            "party": "某某食品有限公司",
            "handler": "张伟",
            "place": "某区人民路88号某某食品有限公司仓库",
            "matter_type": "查封、扣押",
            "notes": "对涉嫌过期原料实施扣押，当事人签字确认。",
        },
        ("lina",),
    ),
    DemoClip(
        "lina",
        "DSJ-A0012346",
        1,
        "video",
        3,
        72,
        "MP4",
        {
            "case_number": "某市监处罚〔2026〕21号",
            "party": "某某商贸有限公司",
            "handler": "李娜",
            "place": "某县某某镇工业园",
            "matter_type": "调查取证",
            "late_reason": "off_site",
            "late_reason_text": "赴外县协查，返回后上传。",
        },
    ),
    DemoClip(
        "chenjing",
        "DSJ-A0012347",
        1,
        "hevc",
        2,
        6,
        "MP4",
        {
            "case_number": "某市监处罚〔2026〕18号",
            "party": "某某餐饮管理有限公司",
            "handler": "陈静",
            "place": "某区解放路12号",
            "matter_type": "抽样检验",
            "notes": "H.265 编码，浏览器播放需转码副本。",
        },
    ),
    DemoClip(
        "yangfan",
        "LYB-B0000817",
        1,
        "audio",
        3,
        3,
        "M4A",
        {
            "case_number": "某市监处罚〔2026〕18号",
            "party": "某某餐饮管理有限公司",
            "handler": "陈静",
            "place": "某区市场监督管理局询问室",
            "matter_type": "询问调查",
        },
    ),
    DemoClip(
        "zhoujie",
        "DSJ-A0012348",
        1,
        "photo",
        0,
        2,
        "JPG",
        {"party": "某某超市", "place": "某区中山路56号某某超市", "matter_type": "日常监督检查"},
    ),
    DemoClip(
        "zhoujie",
        "DSJ-A0012348",
        2,
        "video",
        2,
        1.9,
        "MP4",
        {"party": "某某超市", "place": "某区中山路56号某某超市", "matter_type": "日常监督检查"},
    ),
    DemoClip(
        "wuting",
        "DSJ-A0012349",
        1,
        "video",
        4,
        8,
        "MP4",
        {
            "case_number": "某市监处罚〔2026〕23号",
            "party": "某某大药房连锁有限公司",
            "handler": "吴婷",
            "place": "某区建设路3号",
            "matter_type": "现场检查",
        },
    ),
]


@contextmanager
def _quiet_native_stderr():
    """Encoders such as x265 write straight to fd 2; keep the command's output readable."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        yield
        return
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def _media_bytes(clip: DemoClip, taken: datetime) -> bytes:
    from core.testing import make_audio, make_jpeg, make_video

    # the camera's own clock, as body cameras write it; also makes every clip's bytes distinct
    stamp = taken.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    if clip.kind == "video":
        return make_video(clip.seconds, width=640, height=360, creation_time=stamp)
    if clip.kind == "hevc":
        with _quiet_native_stderr():
            return make_video(
                clip.seconds, codec="libx265", width=640, height=360, creation_time=stamp
            )
    if clip.kind == "audio":
        return make_audio(clip.seconds)
    return make_jpeg(640, 360, exif_datetime=taken.strftime("%Y:%m:%d %H:%M:%S"))


class Command(BaseCommand):
    help = (
        "生成演示数据：省—市—区三级部门、各角色人员、设备和若干执法音像记录（可重复执行，仅供演示）"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-recordings", action="store_true", help="只建组织、人员和设备，不生成音像记录"
        )

    def handle(self, *args, **options):
        with correlation():
            try:
                load_reference_data(self.stdout)
                departments = self._departments()
                units = self._units(departments)
                people = self._people(departments, units)
                self._devices(units, people)
                made = 0 if options["no_recordings"] else self._recordings(people)
                if not options["no_recordings"]:
                    self._activity(people)
            except DomainError as exc:
                raise CommandError(exc.message) from exc
        self._summary(departments, people, made)

    # --- organisation ---------------------------------------------------------------

    def _departments(self) -> dict[str, Department]:
        """The demo chain, inside the one department tree.

        Without a root, the demo's province becomes it. With a root that is not the demo's own
        (``bootstrap`` ran first), the demo department at the root's level *is* that root,
        demo levels above it are left out, and the rest is built beneath it — never a second root.
        """
        root = Department.objects.filter(parent__isnull=True).order_by("pk").first()
        found: dict[str, Department] = {}
        for code, name, level, parent_code in DEPARTMENTS:
            department = Department.objects.filter(code=code).first()
            if department is None:
                parent = found.get(parent_code)
                if parent is None and root is not None:
                    rank, root_rank = LEVEL_ORDER.index(level), LEVEL_ORDER.index(root.level)
                    if rank < root_rank:
                        continue  # above the existing root: not part of this tree
                    if rank == root_rank:
                        department = root
                    else:
                        parent = root
                if department is None:
                    department = create_department(name, code, level, parent, actor=None)
            found[code] = department
        return found

    def _units(self, departments) -> dict[str, Unit]:
        found: dict[str, Unit] = {}
        for code, name, department_code in UNITS:
            unit = Unit.objects.filter(code=code).first()
            if unit is None:
                unit = create_unit(departments[department_code], name, code, actor=None)
            found[code] = unit
        return found

    def _people(self, departments, units) -> dict[str, Person]:
        found: dict[str, Person] = {}
        for spec in PEOPLE:
            person = Person.objects.filter(username=spec.username).first()
            if person is None:
                person, _otp = create_person(
                    spec.username,
                    spec.full_name,
                    unit=units[spec.unit] if spec.unit else None,
                    department=departments[spec.department] if spec.department else None,
                    badge_number=spec.badge,
                    roles=spec.roles,
                    password=DEMO_PASSWORD,
                    actor=None,
                )
            found[spec.username] = person
        return found

    def _devices(self, units, people) -> None:
        # No device service exists yet (devices app is minimal): rows are created directly.

        for serial, kind, model_name, unit_code, holder in DEVICES:
            Device.objects.get_or_create(
                serial=serial,
                defaults={
                    "kind": kind,
                    "model_name": model_name,
                    "unit": units[unit_code],
                    "holder": people.get(holder) if holder else None,
                    "status": DeviceStatus.ISSUED if holder else DeviceStatus.IN_STOCK,
                },
            )

    # --- recordings -----------------------------------------------------------------

    def _recordings(self, people) -> int:

        now = timezone.localtime()
        made = 0
        for clip in CLIPS:
            officer = people[clip.officer]
            prefix = f"{clip.serial}_{officer.badge_number}_"
            suffix = f"_{clip.seq:04d}.{clip.extension}"
            if IngestItem.objects.filter(
                filename__startswith=prefix, filename__endswith=suffix
            ).exists():
                continue
            taken = (now - timedelta(hours=clip.hours_ago)).replace(microsecond=0)
            filename = f"{prefix}{taken:%Y%m%d%H%M%S}{suffix}"
            metadata = {
                **clip.metadata,
                "unit_id": officer.unit_id,
                "officer_ids": [people[u].pk for u in (clip.officer, *clip.colleagues)],
            }
            item = ingest_stream(
                io.BytesIO(_media_bytes(clip, taken)),
                actor=officer,
                filename=filename,
                metadata=metadata,
                source="seed",
            )
            made += 1
            self.stdout.write(
                _("  已入库：%(name)s（%(status)s）")
                % {"name": filename, "status": item.get_status_display()}
            )
        return made

    # --- an enforcement activity (REC-3) ---------------------------------------------

    def _activity(self, people) -> None:
        """One seizure of 张伟 and 李娜 with 张伟's two clips linked: the 执法活动 pages show its
        timeline with the gap between the clips and its findings. Once only (found by title)."""
        from activities.catalog import effective_catalog
        from activities.models import Activity
        from activities.services import ActivityValues, create_activity, link_recording
        from recordings.choices import MarkerKind
        from recordings.markers import add_marker
        from recordings.models import Recording

        officer = people["zhangwei"]
        if Activity.objects.filter(unit_id=officer.unit_id, title=DEMO_ACTIVITY).exists():
            return
        clips = [
            Recording.objects.filter(original_filename__startswith=f"DSJ-A0012345_{officer.badge_number}_",
                                     original_filename__endswith=f"_{seq:04d}.MP4", start_time__isnull=False,
                                     activity_link__isnull=True).first()
            for seq in (1, 2)
        ]
        seizure = next((e for e in effective_catalog(officer.unit.department)
                        if e.matter.code == "seizure" and e.matter.scope == "samr"), None)
        if None in clips or seizure is None:
            return
        activity = create_activity(officer.unit, ActivityValues(
            matter_id=seizure.matter.pk, title=DEMO_ACTIVITY, place=clips[1].place, party_name=clips[1].party,
            officer_ids=(officer.pk, people["lina"].pk), starts_at=clips[0].start_time - timedelta(minutes=1),
            ends_at=(clips[1].end_time or clips[1].start_time) + timedelta(minutes=1)), actor=officer)
        for clip in clips:
            link_recording(activity.pk, clip.pk, actor=officer)
        for point in activity.required_points[:5]:
            add_marker(clips[0].pk, actor=officer, offset_s=1, kind=MarkerKind.CONTENT_POINT, content_point=point)
        self.stdout.write(_("  已登记执法活动：%(title)s") % {"title": DEMO_ACTIVITY})

    # --- output ---------------------------------------------------------------------

    def _summary(self, departments, people, made: int) -> None:
        district = departments[DEPARTMENTS[-1][0]]
        chain = " → ".join(d.name for d in reversed([district, *district.ancestors()]))
        self.stdout.write(self.style.SUCCESS(_("演示数据已就绪：%(chain)s。") % {"chain": chain}))
        self.stdout.write(_("本次新生成音像记录 %(n)s 条（已存在的不重复生成）。") % {"n": made})
        self.stdout.write(
            _("演示账号（所有账号共用演示密码 %(password)s，仅供演示，切勿用于正式环境）：")
            % {"password": DEMO_PASSWORD}
        )
        for spec in PEOPLE:
            person = people[spec.username]
            place = (
                person.unit.name
                if person.unit_id
                else (person.department.name if person.department_id else "")
            )
            roles = "、".join(str(Role(r).label) for r in spec.roles)
            self.stdout.write(f"  {spec.username:<12}{person.full_name}\t{roles}\t{place}")
        self.stdout.write(
            _("部门负责人、法制机构和三名管理员账号须使用双因素认证：首次登录时按页面提示用手机上的身份验证器绑定动态口令。")
        )
