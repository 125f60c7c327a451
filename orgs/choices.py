from django.db import models
from django.utils.translation import gettext_lazy as _


class DepartmentLevel(models.TextChoices):
    NATIONAL = "national", _("国家级")
    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    COUNTY = "county", _("县级")


LEVEL_ORDER = [DepartmentLevel.NATIONAL, DepartmentLevel.PROVINCE, DepartmentLevel.CITY, DepartmentLevel.COUNTY]


class Role(models.TextChoices):
    OFFICER = "officer", _("执法人员")
    CUSTODIAN = "custodian", _("记录仪管理员")
    UNIT_HEAD = "unit_head", _("采集机构负责人")
    DEPARTMENT_HEAD = "department_head", _("部门负责人")
    LEGAL_OFFICE = "legal_office", _("法制机构")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")


# ACC-6: one account may hold at most one of these.
SEPARATED_ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
