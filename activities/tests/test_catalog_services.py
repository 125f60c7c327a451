"""The matter catalog a department works under (REC-1, REC-2): the built-in lists as stored
versions, the local list a jurisdiction profile brings, and a department's own entries — new
matters or stricter versions, never looser, every change versioned and in the custody log."""

from __future__ import annotations

import pytest

from access.choices import AccessProfile
from access.confidentiality import assign_profile
from activities import catalogs
from activities.catalog import (
    CatalogError,
    EntryValues,
    add_department_entry,
    effective_catalog,
    revise_department_entry,
    sync_builtin_catalogs,
)
from activities.choices import CatalogSource, MatterLevel
from activities.models import MatterType
from core.errors import NotFoundError, PermissionDeniedError
from core.testing import make_department, make_person, make_unit
from custody.choices import EventCode
from custody.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.req("REC-1"), pytest.mark.req("REC-2")]


@pytest.fixture
def org():
    province = make_department(name="某省市场监督管理局", level="province")
    city = make_department(parent=province)
    county = make_department(name="某县市场监督管理局", level="county", parent=city)
    return {
        "province": province, "city": city, "county": county,
        "city_head": make_person("department_head", department=city),
        "county_head": make_person("department_head", department=county),
        "county_legal": make_person("legal_office", department=county),
        "officer": make_person("officer", unit=make_unit(county)),
        "security": make_person("security_admin", department=province),
    }


def _values(**kw) -> EntryValues:
    base = {"name": "夜间食品经营场所检查", "category": "inspection", "level": MatterLevel.MANDATORY,
            "start_trigger": "到达检查现场、出示执法证件时", "end_trigger": "检查结束离开现场时",
            "content_points": ("show_id",), "article": "某县局执法音像记录实施细则第五条"}
    base.update(kw)
    return EntryValues(**base)


def _codes(department) -> dict[tuple[str, str], object]:
    return {(e.matter.scope, e.matter.code): e for e in effective_catalog(department)}


def test_the_built_in_lists_are_stored_as_they_are_written():
    for catalog in catalogs.CATALOGS:
        stored = MatterType.objects.filter(scope=catalog.code, current=True, active=True)
        assert stored.count() == len(catalog.entries)
        for entry in catalog.entries:
            row = stored.get(code=entry.code)
            assert (row.name, row.level, row.article, tuple(row.content_points)) == (
                entry.name, entry.level, entry.article, entry.content_points)
    assert sync_builtin_catalogs() == 0  # idempotent: nothing changed, nothing written


def test_a_changed_built_in_entry_gets_a_new_version_and_the_old_one_stays(monkeypatch):
    from dataclasses import replace

    first = catalogs.SAMR.entries[0]
    old = MatterType.objects.get(scope="samr", code=first.code, current=True)
    changed = replace(catalogs.SAMR, entries=(replace(first, end_trigger="全部程序结束时"), *catalogs.SAMR.entries[1:]))
    monkeypatch.setattr(catalogs, "CATALOGS", (changed, *catalogs.CATALOGS[1:]))
    assert sync_builtin_catalogs() == 1
    new = MatterType.objects.get(scope="samr", code=first.code, current=True)
    assert (new.version, new.end_trigger) == (old.version + 1, "全部程序结束时")
    old.refresh_from_db()
    assert not old.current and old.end_trigger == first.end_trigger  # kept for activities judged under it


def test_every_department_works_under_the_national_list_and_its_profiles_list(org):
    national = {e.matter.scope for e in effective_catalog(org["county"])}
    assert national == {"samr"}
    assign_profile(org["county"], profile=AccessProfile.DALIAN, actor=org["security"])
    scopes = {e.matter.scope for e in effective_catalog(org["county"])}
    assert scopes == {"samr", "dalian"}
    assert len(effective_catalog(org["county"])) == len(catalogs.SAMR.entries) + len(catalogs.DALIAN.entries)
    assign_profile(org["city"], profile=AccessProfile.SHUANGQIAO, actor=org["security"])
    assert {e.matter.scope for e in effective_catalog(org["city"])} == {"samr", "shuangqiao"}


def test_a_department_adds_its_own_matter_and_it_binds_those_below(org):
    entry = add_department_entry(org["city"], _values(), actor=org["city_head"], reason="本市夜间经营多")
    assert (entry.scope, entry.source, entry.version, entry.created_by_id) == (
        f"dept:{org['city'].pk}", CatalogSource.DEPARTMENT, 1, org["city_head"].pk)
    event = Event.objects.get(action=EventCode.MATTER_ADDED)
    assert event.actor_id == org["city_head"].pk and event.details["name"] == "夜间食品经营场所检查"
    assert entry.pk in {e.matter.pk for e in effective_catalog(org["county"])}  # binds below
    assert entry.pk not in {e.matter.pk for e in effective_catalog(org["province"])}  # not above


def test_only_the_departments_head_or_legal_office_keeps_its_list(org):
    for who in ("officer", "security", "city_head"):  # the city head is not the county's
        with pytest.raises(PermissionDeniedError):
            add_department_entry(org["county"], _values(), actor=org[who])
    assert add_department_entry(org["county"], _values(), actor=org["county_legal"]).pk
    assert not Event.objects.filter(action=EventCode.MATTER_ADDED, actor_id=org["officer"].pk).exists()


def test_a_department_tightens_a_national_entry(org):
    optional = next(e.matter for e in effective_catalog(org["county"]) if e.level == MatterLevel.OPTIONAL)
    stricter = add_department_entry(
        org["county"], _values(name=optional.name, level=MatterLevel.FULL_PROCESS,
                               content_points=(*optional.content_points, "show_id")),
        actor=org["county_head"], tightens_id=optional.pk, reason="本县从严")
    by = _codes(org["county"])
    assert (stricter.scope, stricter.code) in by and ("samr", optional.code) not in by  # takes its place
    effective = by[(stricter.scope, stricter.code)]
    assert effective.level == MatterLevel.FULL_PROCESS and effective.tightened.pk == optional.pk
    assert ("samr", optional.code) in _codes(org["city"])  # the city still has the national one


@pytest.mark.parametrize("loosen", ["level", "points", "methods"])
def test_a_tightening_can_never_loosen_a_higher_rule(org, loosen):
    full = next(e.matter for e in effective_catalog(org["county"])
                if e.level == MatterLevel.FULL_PROCESS and e.content_points)
    values = {"level": full.level, "content_points": tuple(full.content_points), "methods": tuple(full.methods)}
    if loosen == "level":
        values["level"] = MatterLevel.OPTIONAL
        message = "不能降低上级规定的记录要求"
    elif loosen == "points":
        values["content_points"] = tuple(full.content_points[1:])
        message = "不能删减上级规定的记录内容要点"
    else:
        values["methods"] = tuple(m for m in full.methods if m != full.methods[0]) or ("photo",)
        message = "不能删减上级规定的记录方式"
    with pytest.raises(CatalogError, match=message):
        add_department_entry(org["county"], _values(**values), actor=org["county_head"], tightens_id=full.pk)
    assert not MatterType.objects.filter(source=CatalogSource.DEPARTMENT).exists()
    assert not Event.objects.filter(action=EventCode.MATTER_ADDED).exists()


def test_a_revision_is_a_new_version_and_stays_as_strict(org):
    full = next(e.matter for e in effective_catalog(org["county"])
                if e.level == MatterLevel.FULL_PROCESS and e.content_points)
    kept = {"content_points": tuple(full.content_points), "methods": tuple(full.methods)}
    entry = add_department_entry(org["county"], _values(level=MatterLevel.FULL_PROCESS, **kept),
                                 actor=org["county_head"], tightens_id=full.pk)
    with pytest.raises(CatalogError, match="修改理由"):
        revise_department_entry(entry.pk, _values(), actor=org["county_head"], reason="")
    with pytest.raises(CatalogError, match="不能降低"):
        revise_department_entry(entry.pk, _values(level=MatterLevel.MANDATORY, **kept),
                                actor=org["county_head"], reason="放宽")
    with pytest.raises(CatalogError, match="不能删减"):
        revise_department_entry(entry.pk, _values(level=MatterLevel.FULL_PROCESS, content_points=(),
                                                  methods=kept["methods"]),
                                actor=org["county_head"], reason="删减要点")
    more = {**kept, "content_points": (*kept["content_points"], "show_id")}
    revised = revise_department_entry(entry.pk, _values(level=MatterLevel.FULL_PROCESS, **more),
                                      actor=org["county_head"], reason="增加亮证要点")
    entry.refresh_from_db()
    assert (revised.version, revised.code, revised.current, entry.current) == (2, entry.code, True, False)
    assert revised.tightens_id == full.pk
    assert Event.objects.get(action=EventCode.MATTER_REVISED).details["version"] == 2
    with pytest.raises(NotFoundError, match="已有更新的版本"):
        revise_department_entry(entry.pk, _values(), actor=org["county_head"], reason="再改旧版本")


def test_bad_entry_values_are_refused_in_chinese(org):
    cases = [
        ({"name": ""}, "事项名称"),
        ({"category": "nonsense"}, "事项类别"),
        ({"level": "sometimes"}, "记录要求"),
        ({"start_trigger": ""}, "开始记录"),
        ({"content_points": ("no_such_point",)}, "记录内容要点无效"),
        ({"methods": ()}, "记录方式"),
        ({"article": ""}, "依据"),
    ]
    for change, message in cases:
        with pytest.raises(CatalogError, match=message):
            add_department_entry(org["county"], _values(**change), actor=org["county_head"])
    with pytest.raises(CatalogError, match="不适用于本部门"):
        add_department_entry(org["county"], _values(), actor=org["county_head"], tightens_id=10**9)
    assert not MatterType.objects.filter(source=CatalogSource.DEPARTMENT).exists()
