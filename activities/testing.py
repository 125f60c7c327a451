"""Test helpers of the activities app: the people a case's or an activity's tests work with."""

from __future__ import annotations


def national_seizure(department):
    """The national 查封、扣押 entry (SAMR 第三条, full-process) as it binds ``department``."""
    from activities.catalog import effective_catalog

    return next(e for e in effective_catalog(department) if e.matter.code == "seizure" and e.matter.scope == "samr")


def case_people() -> dict:
    """A city department with one unit: two officers of the unit (张伟, 李娜), an officer of
    another unit, the department's legal office, an officer of another department, and the
    national seizure entry."""
    from core.testing import make_department, make_person, make_unit

    city = make_department()
    unit = make_unit(city)
    return {
        "city": city, "unit": unit,
        "officer": make_person("officer", unit=unit, full_name="张伟"),
        "colleague": make_person("officer", unit=unit, full_name="李娜"),
        "other_unit": make_person("officer", unit=make_unit(city), full_name="另一机构人员"),
        "legal": make_person("legal_office", department=city, full_name="法制机构人员"),
        "stranger": make_person("officer", unit=make_unit(make_department(name="另一局")), full_name="外部门人员"),
        "seizure": national_seizure(city),
    }
