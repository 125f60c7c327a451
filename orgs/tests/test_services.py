"""Org and people services: the department tree, accounts, ACC-6 separation of duties, tokens."""

from __future__ import annotations

import pytest

from api.auth import hash_token
from core.testing import make_department, make_person, make_unit
from custody.models import Event
from orgs.choices import Role
from orgs.models import Department, Person, RoleAssignment
from orgs.services import (
    OrgsConflictError,
    OrgsError,
    SeparationOfDutiesError,
    assign_role,
    create_department,
    create_person,
    create_unit,
    issue_api_token,
    revoke_api_token,
)


@pytest.fixture
def actor(db):
    # the security administrator: the one who assigns roles (ACC-6)
    return make_person("security_admin", department=make_department(), full_name="胡军")


def last_event():
    return Event.objects.order_by("-pk").first()


# --- department tree -------------------------------------------------------------------


@pytest.mark.django_db
def test_department_chain_one_level_down_created(actor):
    province = create_department("某省市场监督管理局", "P01", "province", actor=actor)
    city = create_department("某市市场监督管理局", "C01", "city", province, actor=actor)
    county = create_department("某区市场监督管理局", "X01", "county", city, actor=actor)
    assert county.ancestors() == [city, province]
    event = last_event()
    assert (event.action, event.subject_id, event.actor_id) == (
        "orgs.department_created",
        str(county.pk),
        actor.pk,
    )
    assert event.details["parent"] == city.pk and event.details["level"] == "county"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "parent_level, child_level",
    [
        ("province", "county"),  # skips a level
        ("city", "city"),  # same level
        ("county", "province"),  # upwards
        ("city", "national"),
    ],
)
def test_department_wrong_level_refused(actor, parent_level, child_level):
    parent = make_department(level=parent_level)
    before = Event.objects.count()
    with pytest.raises(OrgsError) as info:
        create_department("某下级局", "BAD1", child_level, parent, actor=actor)
    assert info.value.code == "department_level_mismatch"
    assert "级" in info.value.message
    assert not Department.objects.filter(code="BAD1").exists()
    assert Event.objects.count() == before


@pytest.mark.django_db
def test_county_cannot_have_children(actor):
    county = make_department(level="county")
    with pytest.raises(OrgsError, match="不能再设下级部门"):
        create_department("某所", "BAD2", "county", county, actor=actor)


@pytest.mark.django_db
def test_unknown_level_refused(actor):
    with pytest.raises(OrgsError) as info:
        create_department("某局", "BAD3", "township", actor=actor)
    assert info.value.code == "department_level_invalid"


@pytest.mark.django_db
def test_duplicate_department_code_conflict(actor):
    create_department("某省局", "DUP", "province", actor=actor)
    with pytest.raises(OrgsConflictError) as info:
        create_department("另一省局", "DUP", "province", actor=actor)
    assert info.value.status == 409 and "DUP" in info.value.message


@pytest.mark.django_db
def test_unit_created_with_event(actor):
    department = make_department(level="county")
    unit = create_unit(department, "执法稽查大队", "JC01", actor=actor)
    assert unit.department == department
    event = last_event()
    assert (event.action, event.subject_type, event.details["code"]) == (
        "orgs.unit_created",
        "unit",
        "JC01",
    )
    with pytest.raises(OrgsConflictError):
        create_unit(department, "另一大队", "JC01", actor=actor)


# --- people ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_person_without_password_gets_one_time_password(actor):
    unit = make_unit()
    person, one_time = create_person(
        "zhangsan", "张三", unit=unit, badge_number="10020301", roles=[Role.OFFICER], actor=actor
    )
    assert one_time and person.check_password(one_time)
    assert person.must_change_password is True
    assert person.department == unit.department
    assert person.role_set == {Role.OFFICER}
    actions = list(
        Event.objects.filter(subject_type="person", subject_id=str(person.pk)).values_list(
            "action", flat=True
        )
    )
    assert actions == ["orgs.person_created", "orgs.role_assigned"]
    logged = list(Event.objects.filter(subject_id=str(person.pk)).values_list("details_row__content", flat=True))
    assert len(logged) == 2 and one_time not in str(logged)


@pytest.mark.django_db
def test_person_with_password_has_none_returned(actor):
    person, one_time = create_person(
        "lisi", "李四", department=make_department(), password="Long-enough-2026", actor=actor
    )
    assert one_time is None and person.must_change_password is False
    assert person.check_password("Long-enough-2026")


@pytest.mark.django_db
def test_weak_password_refused_in_chinese(actor):
    with pytest.raises(OrgsError) as info:
        create_person("wangwu", "王五", password="123", actor=actor)
    assert info.value.code == "password_invalid"
    assert not Person.objects.filter(username="wangwu").exists()


@pytest.mark.django_db
def test_duplicate_username_conflict(actor):
    create_person("zhaoliu", "赵六", actor=actor)
    with pytest.raises(OrgsConflictError, match="已被使用"):
        create_person("ZhaoLiu", "赵六二", actor=actor)


@pytest.mark.django_db
def test_unit_outside_department_refused(actor):
    with pytest.raises(OrgsError) as info:
        create_person("sunqi", "孙七", unit=make_unit(), department=make_department(), actor=actor)
    assert info.value.code == "unit_department_mismatch"


@pytest.mark.django_db
def test_unit_role_without_unit_refused(actor):
    with pytest.raises(OrgsError) as info:
        create_person(
            "zhouba", "周八", department=make_department(), roles=[Role.CUSTODIAN], actor=actor
        )
    assert info.value.code == "role_needs_unit"
    assert not Person.objects.filter(username="zhouba").exists()


# --- ACC-6: separation of duties -------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.req("ACC-6")
@pytest.mark.parametrize(
    "first, second",
    [
        (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN),
        (Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN),
        (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN),
    ],
)
def test_second_admin_role_on_same_account_refused(actor, first, second):
    person, _ = create_person(
        "admin2", "管理员", department=make_department(), roles=[first], actor=actor
    )
    before = Event.objects.count()
    with pytest.raises(SeparationOfDutiesError) as info:
        assign_role(person, second, actor=actor)
    assert info.value.code == "separation_of_duties" and info.value.status == 409
    assert "三员分立" in info.value.message
    assert set(RoleAssignment.objects.filter(person=person).values_list("role", flat=True)) == {
        first
    }
    assert Event.objects.count() == before


@pytest.mark.django_db
@pytest.mark.req("ACC-6")
def test_two_admin_roles_at_creation_refused(actor):
    with pytest.raises(SeparationOfDutiesError):
        create_person(
            "admin3",
            "管理员",
            department=make_department(),
            roles=[Role.SECURITY_ADMIN, Role.AUDIT_ADMIN],
            actor=actor,
        )
    assert not Person.objects.filter(username="admin3").exists()


@pytest.mark.django_db
@pytest.mark.req("ACC-6")
@pytest.mark.parametrize("admin_role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
@pytest.mark.parametrize(
    "media_role",
    [Role.OFFICER, Role.CUSTODIAN, Role.UNIT_HEAD, Role.DEPARTMENT_HEAD, Role.LEGAL_OFFICE],
)
def test_admin_and_media_role_refused_both_ways(actor, admin_role, media_role):
    unit = make_unit()
    admin, _ = create_person(
        f"a-{admin_role}-{media_role}", "管理员", unit=unit, roles=[admin_role], actor=actor
    )
    with pytest.raises(SeparationOfDutiesError, match="业务角色"):
        assign_role(admin, media_role, actor=actor)
    worker, _ = create_person(
        f"w-{admin_role}-{media_role}", "业务人员", unit=unit, roles=[media_role], actor=actor
    )
    with pytest.raises(SeparationOfDutiesError, match="业务角色"):
        assign_role(worker, admin_role, actor=actor)


@pytest.mark.django_db
@pytest.mark.req("ACC-6")
def test_three_admins_on_three_accounts_allowed(actor):
    department = make_department()
    roles = [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN]
    people = [
        create_person(f"admin-{r}", "管理员", department=department, roles=[r], actor=actor)[0]
        for r in roles
    ]
    assert [p.role_set for p in people] == [{r} for r in roles]


@pytest.mark.django_db
def test_media_roles_combine_and_regrant_is_noop(actor):
    person, _ = create_person(
        "combo", "组合", unit=make_unit(), roles=[Role.OFFICER, Role.CUSTODIAN], actor=actor
    )
    before = Event.objects.count()
    assign_role(person, Role.OFFICER, actor=actor)
    assert Event.objects.count() == before
    assert person.role_set == {Role.OFFICER, Role.CUSTODIAN}


@pytest.mark.django_db
def test_unknown_role_refused(actor):
    person = make_person(unit=make_unit())
    with pytest.raises(OrgsError) as info:
        assign_role(person, "superuser", actor=actor)
    assert info.value.code == "role_unknown"


# --- tokens ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.req("INT-1")
def test_token_issued_once_and_revoked_with_events(actor):
    person = make_person(unit=make_unit())
    row, token = issue_api_token(person, "办案系统对接", actor=actor)
    assert row.key_hash == hash_token(token) and token not in str(last_event().details)
    assert last_event().action == "orgs.token_issued"
    revoked = revoke_api_token(row, actor=actor)
    assert revoked.revoked_at is not None
    assert last_event().action == "orgs.token_revoked"
    before = Event.objects.count()
    revoke_api_token(row, actor=actor)
    assert Event.objects.count() == before


@pytest.mark.django_db
def test_token_for_inactive_person_refused(actor):
    person = make_person(unit=make_unit())
    person.is_active = False
    person.save()
    with pytest.raises(OrgsError) as info:
        issue_api_token(person, "对接", actor=actor)
    assert info.value.code == "person_inactive"


@pytest.mark.req("ACC-6")
def test_only_the_security_administrator_assigns_roles_and_never_to_themself(db):
    security = make_person("security_admin", department=make_department())
    system = make_person("system_admin", department=make_department())
    officer = make_person(unit=make_unit())
    with pytest.raises(SeparationOfDutiesError, match="只有安全管理员"):
        assign_role(officer, Role.OFFICER, actor=system)
    with pytest.raises(SeparationOfDutiesError, match="只有安全管理员"):
        assign_role(officer, Role.CUSTODIAN, actor=make_person("department_head", department=make_department()))
    with pytest.raises(SeparationOfDutiesError, match="不能给自己"):
        assign_role(security, Role.AUDIT_ADMIN, actor=security)
    assign_role(officer, Role.OFFICER, actor=security)
    assert officer.has_role(Role.OFFICER)
