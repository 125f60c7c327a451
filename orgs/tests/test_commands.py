"""bootstrap, issue_token and seed_demo: idempotent, Chinese output, secrets shown once."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from api.auth import person_for_token
from custody.checks import check_custody_chain
from custody.models import Event
from orgs.choices import Role
from orgs.models import Department, Person

OTP = re.compile(r"一次性密码 (\S+?)（首次登录须修改）")


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.req("ACC-6")
def test_bootstrap_creates_root_and_admin_once():
    first = run(
        "bootstrap",
        "--department-name",
        "某省市场监督管理局",
        "--department-code",
        "P001",
        "--level",
        "province",
    )
    match = OTP.search(first)
    assert match, first
    assert "首位管理员已创建：用户名 admin" in first
    admin = Person.objects.get(username="admin")
    assert admin.check_password(match.group(1)) and admin.must_change_password
    assert admin.role_set == {Role.SYSTEM_ADMIN}
    root = Department.objects.get()
    assert (root.name, root.code, root.level, admin.department) == (
        "某省市场监督管理局",
        "P001",
        "province",
        root,
    )
    assert set(Event.objects.values_list("action", flat=True)) == {
        "orgs.department_created",
        "orgs.person_created",
        "orgs.role_assigned",
    }

    events = Event.objects.count()
    second = run("bootstrap")
    assert "已存在" in second and not OTP.search(second)
    assert Department.objects.count() == 1 and Person.objects.count() == 1
    assert Person.objects.get(username="admin").check_password(match.group(1))
    assert Event.objects.count() == events


@pytest.mark.django_db
def test_bootstrap_reset_admin_password_prints_new_one():
    old = OTP.search(run("bootstrap")).group(1)
    out = run("bootstrap", "--reset-admin-password")
    new = OTP.search(out).group(1)
    admin = Person.objects.get(username="admin")
    assert new != old and admin.check_password(new) and not admin.check_password(old)
    assert Event.objects.order_by("-pk").first().action == "auth.password_reset"


@pytest.mark.django_db
def test_bootstrap_keeps_existing_department():
    run("bootstrap", "--department-code", "A1")
    run("bootstrap", "--department-code", "B2", "--admin-username", "admin2")
    assert list(Department.objects.values_list("code", flat=True)) == ["A1"]


@pytest.mark.django_db
@pytest.mark.req("INT-1")
def test_issue_token_prints_working_token_once():
    run("bootstrap")
    out = run("issue_token", "admin", "办案系统对接")
    token = out.strip().splitlines()[-1]
    assert "只显示这一次" in out and "有效期至" in out
    admin = Person.objects.get(username="admin")
    assert admin.must_change_password and person_for_token(token) is None  # held until changed
    admin.must_change_password = False
    admin.save(update_fields=["must_change_password"])
    assert person_for_token(token) == admin


@pytest.mark.django_db
def test_issue_token_unknown_user_chinese_error():
    with pytest.raises(CommandError, match="不存在"):
        run("issue_token", "nobody", "对接")


@pytest.mark.django_db
@pytest.mark.req("ACC-6")
def test_seed_demo_people_only_idempotent():
    out = run("seed_demo", "--no-recordings")
    assert "Demo-2026!" in out and "仅供演示" in out
    counts = (Department.objects.count(), Person.objects.count(), Event.objects.count())
    run("seed_demo", "--no-recordings")
    assert (Department.objects.count(), Person.objects.count(), Event.objects.count()) == counts
    for role in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN):
        holders = Person.objects.filter(role_assignments__role=role)
        assert holders.count() == 1 and holders.get().role_set == {role}
    district = Department.objects.get(code="DEMO-DIST")
    assert [d.level for d in [district, *district.ancestors()]] == ["county", "city", "province"]
    assert Person.objects.get(username="zhangwei").check_password("Demo-2026!")


@pytest.mark.django_db
@pytest.mark.req("INT-1", "ING-3")
def test_seed_demo_recordings_smoke_and_idempotent():
    from devices.models import Device
    from ingest.models import IngestItem
    from recordings.models import Recording

    run("seed_demo")
    assert Device.objects.filter(serial__startswith="DSJ-A").count() >= 4
    recordings = Recording.objects.all()
    assert recordings.count() >= 6
    assert recordings.filter(on_time=False, late_reason="off_site").exists()
    assert recordings.filter(video_codec="hevc").exists()
    assert {"video", "audio", "photo"} <= set(recordings.values_list("media_kind", flat=True))
    assert all(r.case_number or r.party for r in recordings)
    items = IngestItem.objects.count()
    run("seed_demo")
    assert Recording.objects.count() == recordings.count() and IngestItem.objects.count() == items
    assert check_custody_chain() == []


# --- one department tree, whichever of bootstrap and seed_demo runs first (issue 6) ----------


def _roots():
    return list(Department.objects.filter(parent__isnull=True))


@pytest.mark.django_db
@pytest.mark.req("ACC-6")
def test_seed_demo_then_bootstrap_one_tree_admin_in_demo_root():
    """What `bin/up --demo` does on a fresh database."""
    run("seed_demo", "--no-recordings")
    out = run("bootstrap")
    (root,) = _roots()
    assert root.code == "DEMO-PROV" and "根部门已存在：某省市场监督管理局" in out
    assert Person.objects.get(username="admin").department == root
    district = Department.objects.get(code="DEMO-DIST")
    assert district.ancestors()[-1] == root


@pytest.mark.django_db
@pytest.mark.req("ACC-6")
@pytest.mark.parametrize(
    ("level", "chain"),
    [
        ("national", ["本级", "某省市场监督管理局", "某市市场监督管理局", "某区市场监督管理局"]),
        ("province", ["本级", "某市市场监督管理局", "某区市场监督管理局"]),
        ("city", ["本级", "某区市场监督管理局"]),  # bootstrap's default level
        ("county", ["本级"]),
    ],
)
def test_bootstrap_then_seed_demo_builds_under_the_existing_root(level, chain):
    run("bootstrap", "--department-name", "本级", "--level", level)
    out = run("seed_demo", "--no-recordings")
    (root,) = _roots()
    assert root.name == "本级"
    # the demo's lowest department (its units and people) sits in the one tree
    district = Department.objects.get(pk=Person.objects.get(username="machao").department_id)
    assert [d.name for d in reversed([district, *district.ancestors()])] == chain
    assert district.level == "county" and district.units.count() == 3
    assert f"演示数据已就绪：{' → '.join(chain)}。" in out
    assert Person.objects.get(username="admin").department == root

    counts = (Department.objects.count(), Person.objects.count(), Event.objects.count())
    run("seed_demo", "--no-recordings")
    run("bootstrap")
    assert (Department.objects.count(), Person.objects.count(), Event.objects.count()) == counts
    assert len(_roots()) == 1
    assert check_custody_chain() == []
