"""The matter catalog a department works under (REC-1, REC-2): the built-in lists, loaded from
``activities.catalogs`` in versions, and a department's own entries — new matters, or stricter
versions of a higher entry, never looser ones.

Which lists bind a department: the national list (SAMR art. 3) everywhere; the local list of its
jurisdiction profile (大连 DL 附件, 双桥 SQ 事项清单; access.profiles); the entries of every
department above it and its own. Where a department makes an entry stricter, its version takes
the entry's place for it and the departments below — and is read as the strictest of the two, so
that a later tightening of the higher entry is never lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from activities import catalogs
from activities.choices import LEVEL_RANK, CatalogSource, MatterLevel, RecordMethod
from activities.models import MatterType
from core.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from custody.choices import EventCode
from custody.services import record_event
from orgs.choices import Role

# the built-in list a jurisdiction profile brings beside the national one
PROFILE_CATALOG = {"dalian": CatalogSource.DALIAN, "shuangqiao": CatalogSource.SHUANGQIAO}
_FIELDS = ("name", "category", "level", "start_trigger", "end_trigger", "content_points", "methods",
           "article", "quote")


class CatalogError(DomainError):
    pass


def department_scope(department_id: int) -> str:
    return f"dept:{department_id}"


# ---------------------------------------------------------------------------- built-in lists


def sync_builtin_catalogs() -> int:
    """Make the stored built-in entries equal to ``activities.catalogs``: a missing entry is
    added, a changed one gets a new version (the old one stays, for the activities judged under
    it), one no longer listed is retired. Idempotent; returns how many rows it wrote. Run after
    every migration (activities.apps)."""
    now, written = timezone.now(), 0
    with transaction.atomic():
        stored = {(m.scope, m.code): m for m in MatterType.objects.filter(current=True).exclude(
            source=CatalogSource.DEPARTMENT).select_for_update()}
        listed = set()
        for catalog in catalogs.CATALOGS:
            for entry in catalog.entries:
                key = (catalog.code, entry.code)
                listed.add(key)
                values = {
                    "name": entry.name, "category": entry.category, "level": entry.level,
                    "start_trigger": entry.start_trigger, "end_trigger": entry.end_trigger,
                    "content_points": list(entry.content_points), "methods": list(entry.methods),
                    "article": entry.article, "quote": entry.quote,
                }
                old = stored.get(key)
                if old is not None and old.active and all(getattr(old, f) == values[f] for f in _FIELDS):
                    continue
                version = 1
                if old is not None:
                    old.current = False
                    old.save(update_fields=["current"])
                    version = old.version + 1
                MatterType.objects.create(source=catalog.code, scope=catalog.code, code=entry.code,
                                          version=version, created_at=now, **values)
                written += 1
        for key, old in stored.items():
            if key not in listed and old.active:
                _retire(old, now, reason="内置清单已不再列出")
                written += 1
    return written


def _retire(old: MatterType, now, *, reason: str, actor=None) -> MatterType:
    """A new, inactive version: the entry no longer applies to new activities."""
    old.current = False
    old.save(update_fields=["current"])
    values = {f: getattr(old, f) for f in _FIELDS}
    return MatterType.objects.create(
        source=old.source, scope=old.scope, department_id=old.department_id, code=old.code,
        version=old.version + 1, tightens_id=old.tightens_id, active=False, created_at=now,
        created_by=actor, change_reason=reason, **values)


# ---------------------------------------------------------------------------- a department's catalog


@dataclass(frozen=True)
class Effective:
    """An entry as it binds a department: the stored version, and where a department made it
    stricter, the strictest reading of it and the entry it tightens."""

    matter: MatterType
    level: str
    content_points: tuple[str, ...]
    methods: tuple[str, ...]
    tightened: MatterType | None = None


def _binding_scopes(department) -> list[str]:
    from access.profiles import profile_of

    scopes = [CatalogSource.SAMR.value]
    local = PROFILE_CATALOG.get(profile_of(department.pk).code)
    if local:
        scopes.append(local.value)
    chain = [department, *department.ancestors()]
    scopes += [department_scope(d.pk) for d in reversed(chain)]  # the highest first
    return scopes


def _merge(points: tuple[str, ...], more) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*points, *more]))


def effective_catalog(department) -> list[Effective]:
    """The entries that bind ``department`` now, in catalog order (national first)."""
    scopes = _binding_scopes(department)
    rows = list(MatterType.objects.filter(scope__in=scopes, current=True, active=True))
    order = {scope: n for n, scope in enumerate(scopes)}
    rows.sort(key=lambda m: (order[m.scope], m.pk))
    by_pk = {m.pk: m for m in rows}
    # a tightening takes the place of the entry it tightens (the lowest department's is shown),
    # read as the strictest of the entry and every tightening of it
    tightenings: dict[int, list[MatterType]] = {}
    for m in rows:
        root = _root(m, by_pk) if m.tightens_id is not None else None
        if root is not None:
            tightenings.setdefault(root.pk, []).append(m)
    hidden = {m.pk for group in tightenings.values() for m in group}
    out = []
    for m in rows:
        if m.pk in hidden:
            continue  # shown in the place of its root
        group = tightenings.get(m.pk)
        if not group:
            out.append(Effective(m, m.level, tuple(m.content_points), tuple(m.methods)))
            continue
        level, points, methods = m.level, tuple(m.content_points), tuple(m.methods)
        for t in group:
            level = max(level, t.level, key=lambda v: LEVEL_RANK[v])
            points, methods = _merge(points, t.content_points), _merge(methods, t.methods)
        out.append(Effective(group[-1], level, points, methods, tightened=m))
    return out


def _root(m: MatterType, by_pk: dict[int, MatterType]) -> MatterType | None:
    """The binding entry ``m`` (a tightening) stands for, following tightenings up; None when
    it tightens nothing that binds here."""
    seen = set()
    node = m
    while node.tightens_id is not None and node.pk not in seen:
        seen.add(node.pk)
        parent = by_pk.get(node.tightens_id) or _current_of(node.tightens_id, by_pk)
        if parent is None:
            return None
        node = parent
    return node if node is not m else None


def _current_of(pk: int, by_pk: dict[int, MatterType]) -> MatterType | None:
    """The current version of the entry whose (possibly older) version ``pk`` is."""
    old = MatterType.objects.filter(pk=pk).values_list("scope", "code").first()
    if old is None:
        return None
    return next((m for m in by_pk.values() if (m.scope, m.code) == old), None)


def matter_for(department, matter_id: int) -> Effective:
    """A matter that binds ``department``, as it binds it now (what an activity is judged under)."""
    for e in effective_catalog(department):
        if e.matter.pk == matter_id:
            return e
    raise NotFoundError(_("该执法事项不适用于本部门。"))


# ---------------------------------------------------------------------------- department entries


def can_edit_catalog(person, department) -> bool:
    """The department head and the legal office (法制机构) of the department keep its list."""
    return bool(
        getattr(person, "is_authenticated", False) and person.is_active
        and person.department_id == department.pk
        and person.has_role(Role.DEPARTMENT_HEAD, Role.LEGAL_OFFICE)
    )


@dataclass(frozen=True)
class EntryValues:
    name: str
    category: str
    level: str
    start_trigger: str
    end_trigger: str
    content_points: tuple[str, ...] = ()
    methods: tuple[str, ...] = (RecordMethod.VIDEO, RecordMethod.AUDIO)
    article: str = ""


def _clean(values: EntryValues) -> dict:
    name = (values.name or "").strip()
    if not name or len(name) > 200:
        raise CatalogError(_("请填写事项名称（最多 200 字）。"))
    if values.category not in {code for code, _label in catalogs.CATEGORIES}:
        raise CatalogError(_("请选择事项类别。"))
    if values.level not in MatterLevel.values:
        raise CatalogError(_("请选择记录要求。"))
    start, end = (values.start_trigger or "").strip(), (values.end_trigger or "").strip()
    if not start or not end or len(start) > 500 or len(end) > 500:
        raise CatalogError(_("请填写何时开始记录、何时结束记录（各最多 500 字）。"))
    known = {p.code for p in catalogs.CONTENT_POINTS}
    points = tuple(dict.fromkeys(values.content_points))
    if any(p not in known for p in points):
        raise CatalogError(_("记录内容要点无效。"))
    methods = tuple(dict.fromkeys(values.methods))
    if not methods or any(m not in RecordMethod.values for m in methods):
        raise CatalogError(_("请至少选择一种记录方式。"))
    article = (values.article or "").strip()
    if not article or len(article) > 300:
        raise CatalogError(_("请写明依据（本部门文件及条款，最多 300 字）。"))
    return {"name": name, "category": values.category, "level": values.level, "start_trigger": start,
            "end_trigger": end, "content_points": list(points), "methods": list(methods), "article": article}


def _loosens(values: dict, higher: MatterType) -> str | None:
    """Why ``values`` would be looser than ``higher`` (in Chinese); None when it is not."""
    if LEVEL_RANK[values["level"]] < LEVEL_RANK[higher.level]:
        return _("不能降低上级规定的记录要求（上级为“%(level)s”）。") % {"level": higher.get_level_display()}
    missing = [p for p in higher.content_points if p not in values["content_points"]]
    if missing:
        names = {p.code: p.name for p in catalogs.CONTENT_POINTS}
        return _("不能删减上级规定的记录内容要点：%(points)s。") % {"points": "、".join(names.get(p, p) for p in missing)}
    missing = [m for m in higher.methods if m not in values["methods"]]
    if missing:
        return _("不能删减上级规定的记录方式：%(methods)s。") % {
            "methods": "、".join(str(RecordMethod(m).label) for m in missing)}
    return None


def add_department_entry(department, values: EntryValues, *, actor, tightens_id: int | None = None,
                         reason: str = "") -> MatterType:
    """A department's own entry: a matter the higher lists do not have, or (``tightens_id``) a
    stricter version of one that binds it."""
    if not can_edit_catalog(actor, department):
        raise PermissionDeniedError(_("只有本部门负责人或法制机构可以维护本部门的事项清单。"))
    clean = _clean(values)
    with transaction.atomic():
        higher = None
        if tightens_id is not None:
            binding = {e.matter.pk: e for e in effective_catalog(department)}
            if tightens_id not in binding:
                raise CatalogError(_("要从严补充的事项不适用于本部门。"))
            higher_effective = binding[tightens_id]
            if higher_effective.matter.scope == department_scope(department.pk):
                raise CatalogError(_("这是本部门自己的事项，请直接修改。"))
            higher = higher_effective.matter
            why = _loosens(clean, _as_matter(higher_effective))
            if why:
                raise CatalogError(why)
        scope = department_scope(department.pk)
        code = _new_code(scope)
        entry = MatterType.objects.create(
            source=CatalogSource.DEPARTMENT, scope=scope, department=department, code=code, version=1,
            tightens=higher, created_at=timezone.now(), created_by=actor,
            change_reason=(reason or "").strip()[:500], **clean)
        record_event(EventCode.MATTER_ADDED, actor=actor, subject=entry,
                     also=[("department", str(department.pk))],
                     details={"department": department.pk, "matter_code": code, "name": entry.name,
                              "matter_level": entry.level, "tightens": higher.pk if higher else None})
    return entry


def _as_matter(e: Effective) -> MatterType:
    """The strictest reading of an effective entry, as a (unsaved) MatterType to compare with."""
    m = MatterType(level=e.level, content_points=list(e.content_points), methods=list(e.methods))
    return m


def _new_code(scope: str) -> str:
    n = MatterType.objects.filter(scope=scope, version=1).count() + 1
    while MatterType.objects.filter(scope=scope, code=f"d{n}").exists():
        n += 1
    return f"d{n}"


def revise_department_entry(entry_id: int, values: EntryValues, *, actor, reason: str) -> MatterType:
    """A new version of a department's own entry (the old one stays for the activities judged
    under it); a tightening stays at least as strict as what it tightens."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise CatalogError(_("请写明修改理由（最多 500 字）。"))
    clean = _clean(values)
    with transaction.atomic():
        old = MatterType.objects.select_for_update(of=("self",)).filter(
            pk=entry_id, source=CatalogSource.DEPARTMENT, current=True).select_related("department").first()
        if old is None:
            raise NotFoundError(_("事项不存在，或已有更新的版本。"))
        if not can_edit_catalog(actor, old.department):
            raise PermissionDeniedError(_("只有本部门负责人或法制机构可以维护本部门的事项清单。"))
        if not old.active:
            raise ConflictError(_("该事项已停用。"))
        if old.tightens_id is not None:
            binding = {e.matter.pk: e for e in effective_catalog(old.department)}
            higher = binding.get(old.pk)
            if higher is not None and higher.tightened is not None:
                why = _loosens(clean, higher.tightened)
                if why:
                    raise CatalogError(why)
        old.current = False
        old.save(update_fields=["current"])
        entry = MatterType.objects.create(
            source=old.source, scope=old.scope, department=old.department, code=old.code,
            version=old.version + 1, tightens_id=old.tightens_id, created_at=timezone.now(),
            created_by=actor, change_reason=reason, **clean)
        record_event(EventCode.MATTER_REVISED, actor=actor, subject=entry,
                     also=[("department", str(old.department_id)), ("mattertype", str(old.pk))],
                     details={"department": old.department_id, "matter_code": old.code, "version": entry.version,
                              "reason": reason})
    return entry
