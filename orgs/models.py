"""Departments (a tree), units inside them, people and their roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

from orgs.choices import DepartmentLevel, Role


class Department(models.Model):
    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(_("机构代码"), max_length=32, unique=True)
    level = models.CharField(_("层级"), max_length=16, choices=DepartmentLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        verbose_name = _("市场监管部门")
        verbose_name_plural = _("市场监管部门")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def subtree_ids(self) -> list[int]:
        """This department's id and every department's below it (a superior's scope)."""
        return department_subtree_ids(self.pk)

    def ancestors(self) -> list[Department]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain


def department_subtree_ids(department_id: int) -> list[int]:
    """``department_id`` and the ids of all departments below it (``department_subtree``)."""
    return department_subtree(department_id)[0]


def department_subtree(department_id: int) -> tuple[list[int], bool]:
    """``department_id`` and the ids of all departments below it, in one query: a province has
    a few hundred departments, so the whole (id, parent) table is read and walked here — one
    round trip on every restricted read instead of one per level. The flag: the subtree is
    every department there is (the province's own department)."""
    children: dict[int, list[int]] = {}
    total = 0
    for pk, parent_id in Department.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
        total += 1
    ids, frontier, seen = [department_id], [department_id], {department_id}
    while frontier:
        frontier = [child for pk in frontier for child in children.get(pk, ()) if child not in seen]
        seen.update(frontier)
        ids += frontier
    return ids, len(ids) == total


class Unit(models.Model):
    department = models.ForeignKey(Department, verbose_name=_("所属部门"), on_delete=models.PROTECT, related_name="units")
    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(_("机构代码"), max_length=32, unique=True)

    class Meta:
        verbose_name = _("执法机构")
        verbose_name_plural = _("执法机构")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Person(AbstractUser):
    """A user of the platform. ``full_name`` is what every page and log shows."""

    full_name = models.CharField(_("姓名"), max_length=50)
    badge_number = models.CharField(_("执法证号"), max_length=32, blank=True, db_index=True)
    department = models.ForeignKey(
        Department, verbose_name=_("所属部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="people"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("所属机构"), null=True, blank=True, on_delete=models.PROTECT, related_name="people"
    )
    must_change_password = models.BooleanField(_("须修改密码"), default=False)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @property
    def role_set(self) -> frozenset[str]:
        cached = getattr(self, "_role_cache", None)
        if cached is None:
            cached = frozenset(self.role_assignments.values_list("role", flat=True)) if self.pk else frozenset()
            self._role_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))

    def role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in sorted(self.role_set)]


class RoleAssignment(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    assigned_at = models.DateTimeField(_("授予时间"))

    class Meta:
        verbose_name = _("角色授予")
        verbose_name_plural = _("角色授予")
        constraints = [models.UniqueConstraint(fields=["person", "role"], name="uniq_person_role")]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_role_display()}"


class PasswordHistory(models.Model):
    """Hashes of an account's previous passwords (orgs.passwords.HistoryValidator, ACC-6)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("历史密码")
        verbose_name_plural = _("历史密码")

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.created_at:%Y-%m-%d}"


class SessionRecord(models.Model):
    """One signed-in browser session of a person (its Django session row holds the rest), for
    the 账号安全 page's list of sessions (ACC-6): kept by orgs.sessions on sign-in and sign-out
    and touched at most once a minute while it is used."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="session_records")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(_("登录时间"))
    last_seen_at = models.DateTimeField(_("最近活动"))
    ip = models.CharField(_("客户端地址"), max_length=64, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("登录会话")
        verbose_name_plural = _("登录会话")
        indexes = [models.Index(fields=["person", "-last_seen_at"], name="orgs_session_person_seen")]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.created_at:%Y-%m-%d %H:%M}"


class RecoveryCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """A person's single-use recovery codes (ACC-6, orgs.twofactor) as a django-otp device.

    Unlike django-otp's static device, which keeps its tokens as typed, only a salted, slow
    hash of each code is stored (``RecoveryCode.digest``, orgs.recovery): the codes are shown
    once and cannot be read back from the database or a backup of it. A wrong code slows the
    next try (``OTP_STATIC_THROTTLE_FACTOR``) like the other devices."""

    class Meta:
        verbose_name = _("恢复码")
        verbose_name_plural = _("恢复码")

    def get_throttle_factor(self):
        from django.conf import settings

        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)

    def verify_token(self, token) -> bool:
        """Is ``token`` (digits only) one of the codes left? A match is used up."""
        from orgs.recovery import code_matches

        allowed, _throttle = self.verify_is_allowed()
        if not allowed:
            return False
        match = None
        for code in self.codes.order_by("pk"):  # every digest is checked: no early exit
            if code_matches(token, code.digest) and match is None:
                match = code
        if match is None:
            self.throttle_increment()
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class RecoveryCode(models.Model):
    """One unused recovery code, as its hash (``pbkdf2_sha256$<iterations>$<salt>$<hash>``)."""

    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=128)

    class Meta:
        verbose_name = _("恢复码")
        verbose_name_plural = _("恢复码")

    def __str__(self) -> str:
        return f"{self.device_id} #{self.pk}"
