"""Every write about people and sessions (habit 1)."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiToken
from core.clients import client_info
from core.errors import DomainError
from custody.choices import EventCode
from custody.services import record_event
from orgs.choices import LEVEL_ORDER, SEPARATED_ADMIN_ROLES, DepartmentLevel, Role
from orgs.models import Department, Person, RoleAssignment, Unit
from orgs.passwords import password_expired, remember_password


class OrgsError(DomainError):
    code = "orgs_error"


# What a failed sign-in may write into the custody log about the name that was tried: an anonymous
# client must not be able to put arbitrary text into the log (issue 7).
USERNAME_MAX = Person._meta.get_field("username").max_length  # 150
UNRECOGNISED_USERNAME = "〔无法识别的用户名〕"  # stored data, like "未知": not translated at write time
_PLAUSIBLE_USERNAME = re.compile(r"[\w.@+-]+")  # Django's UnicodeUsernameValidator set


def attempted_username(raw) -> tuple[str, str]:
    """``(name, digest)`` to record for a failed sign-in with ``raw`` as the username.

    A plausible username (after NFKC, dropping control and format characters, casefolding — how
    Django compares usernames — it is 1–150 characters of Django's username set) is kept, with
    no digest. Anything else becomes ``UNRECOGNISED_USERNAME`` with the first 16 hex digits of
    the SHA-256 of what was sent (UTF-8), so a repeated probe can be recognised without storing it.
    """
    raw = raw if isinstance(raw, str) else ""
    if not raw:
        return "", ""
    normalised = unicodedata.normalize("NFKC", raw)
    normalised = "".join(ch for ch in normalised if unicodedata.category(ch)[0] != "C").strip().casefold()
    if normalised and len(normalised) <= USERNAME_MAX and _PLAUSIBLE_USERNAME.fullmatch(normalised):
        return normalised, ""
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return UNRECOGNISED_USERNAME, digest


def account_key(name: str, digest: str) -> str:
    """The subject of a failed sign-in (and the account a lockout counts): the plausible name,
    or the digest of what was sent (``attempted_username``)."""
    return (f"sha256:{digest}" if digest else name)[:64]


def _failed_login_details(request, name: str, digest: str) -> dict:
    return {**client_info(request), "username": name, "sha256": digest}


@dataclass(frozen=True)
class SignIn:
    """What the password step led to."""

    person: Person
    second_step: bool  # the password was right, a code is due (orgs.twofactor): not signed in yet


def log_in(request, *, username: str, password: str, next_url: str = "") -> SignIn:
    """Check the password (success and failure are both custody events), then sign the session
    in — unless the person has a second factor (orgs.twofactor): then the session only holds
    the pending sign-in until ``verify_second_step`` accepts a code."""
    from orgs.twofactor import begin_second_step, second_step_due

    # No account name holds NUL (and PostgreSQL refuses it in a query): a failed attempt, not a 500.
    plausible = isinstance(username, str) and "\x00" not in username
    person = authenticate(request, username=username, password=password) if plausible else None
    if person is None:
        name, digest = attempted_username(username)
        with transaction.atomic():
            record_event(
                EventCode.LOGIN_FAILED,
                actor=None,
                actor_name=name[:100] or "未知",
                subject=("account", account_key(name, digest)),
                details=_failed_login_details(request, name, digest),
            )
        # raised after the block commits, so the failed attempt stays in the custody log
        raise OrgsError(_("用户名或密码错误。"), code="login_failed")
    if second_step_due(person):
        begin_second_step(request, person, next_url=next_url)
        return SignIn(person=person, second_step=True)
    start_session(request, person)
    return SignIn(person=person, second_step=False)


def start_session(request, person, *, device=None) -> None:
    """Sign the session in (after the password, and the second factor ``device`` when one was
    used): the ``auth.login`` event; a password past its age must be changed first."""
    from django_otp import login as otp_login

    from orgs.twofactor import PASSWORD_ONLY_KEY

    with transaction.atomic():
        login(request, person)
        if device is not None:
            otp_login(request, device)
        else:
            request.session[PASSWORD_ONLY_KEY] = True
        record_event(EventCode.LOGIN, actor=person, subject=person, details=client_info(request))
        if password_expired(person) and not person.must_change_password:
            # older than AVR_PASSWORD_MAX_AGE_DAYS: changed before anything else (the view
            # sends a person who must change their password to the change page)
            person.must_change_password = True
            person.save(update_fields=["must_change_password"])


IDLE_LOGOUT_REASON = "长时间未操作，自动退出登录"
# stored data, like IDLE_LOGOUT_REASON: a session signed in with the password alone, of an
# account that has a second factor now (orgs.middleware.TwoFactorMiddleware)
SECOND_FACTOR_LOGOUT_REASON = "账号已启用动态口令，须重新登录并验证"


def log_out(request, *, idle: bool = False, reason: str = "") -> None:
    """End the session (the person's own sign-out, ``idle``: AVR_SESSION_IDLE_MINUTES passed,
    or another stored ``reason``)."""
    person = request.user if request.user.is_authenticated else None
    with transaction.atomic():
        if person is not None:
            info = client_info(request)
            record_event(EventCode.LOGOUT, actor=person, subject=person,
                         details={"ip": info["ip"], "user_agent": info["user_agent"],
                                  "reason": IDLE_LOGOUT_REASON if idle else reason})
        logout(request)


def change_password(person, *, actor, new_password: str) -> None:
    from django.contrib.auth.password_validation import validate_password

    validate_password(new_password, person)  # complexity and history too (orgs.passwords)
    with transaction.atomic():
        remember_password(person)
        person.set_password(new_password)
        person.must_change_password = False
        person.password_changed_at = timezone.now()
        person.save(update_fields=["password", "must_change_password", "password_changed_at"])
        record_event(EventCode.PASSWORD_CHANGED, actor=actor, subject=person, details={})


# --- departments, units, people, roles, tokens --------------------------------------------


class OrgsConflictError(OrgsError):
    code = "orgs_conflict"
    status = 409


class SeparationOfDutiesError(OrgsError):
    """ACC-6: administrator roles are held by separate accounts, apart from media roles."""

    code = "separation_of_duties"
    status = 409


_ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _one_time_password() -> str:
    """Three groups of four unambiguous characters, e.g. ``k7Pq-Wm3x-Rt9a``."""
    while True:
        groups = ["".join(secrets.choice(_ONE_TIME_ALPHABET) for _i in range(4)) for _g in range(3)]
        candidate = "-".join(groups)
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


def _require_text(value: str, label: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise OrgsError(_("请填写%(label)s。") % {"label": label}, code="field_required")
    if len(value) > max_length:
        raise OrgsError(
            _("%(label)s过长（最多 %(n)s 个字符）。") % {"label": label, "n": max_length},
            code="field_too_long",
        )
    return value


def validate_department_level(level: str, parent) -> None:
    """A child sits exactly one level below its parent: national → province → city → county."""
    if level not in DepartmentLevel.values:
        raise OrgsError(_("部门层级无效。"), code="department_level_invalid")
    if parent is None:
        return
    parent_index = LEVEL_ORDER.index(DepartmentLevel(parent.level))
    if parent_index + 1 >= len(LEVEL_ORDER) or LEVEL_ORDER[parent_index + 1] != level:
        expected = (
            str(LEVEL_ORDER[parent_index + 1].label)
            if parent_index + 1 < len(LEVEL_ORDER)
            else None
        )
        if expected is None:
            message = _("%(parent)s为县级部门，不能再设下级部门。") % {"parent": parent.name}
        else:
            message = _(
                "上级部门“%(parent)s”为%(plevel)s，下级部门须为%(expected)s，而不是%(level)s。"
            ) % {
                "parent": parent.name,
                "plevel": DepartmentLevel(parent.level).label,
                "expected": expected,
                "level": DepartmentLevel(level).label,
            }
        raise OrgsError(message, code="department_level_mismatch")
    if level == DepartmentLevel.NATIONAL:
        raise OrgsError(_("国家级部门不能有上级部门。"), code="department_level_mismatch")


def create_department(name: str, code: str, level: str, parent=None, *, actor) -> Department:
    """Add one department to the tree (one level below its parent)."""
    name = _require_text(name, _("部门名称"), 100)
    code = _require_text(code, _("机构代码"), 32)
    validate_department_level(level, parent)
    with transaction.atomic():
        if Department.objects.filter(code=code).exists():
            raise OrgsConflictError(
                _("机构代码“%(code)s”已被使用。") % {"code": code}, code="department_code_taken"
            )
        department = Department.objects.create(name=name, code=code, level=level, parent=parent)
        record_event(
            EventCode.DEPARTMENT_CREATED,
            actor=actor,
            subject=department,
            details={
                "name": name,
                "code": code,
                "level": level,
                "parent": parent.pk if parent else None,
                "parent_name": parent.name if parent else "",
            },
        )
    return department


def create_unit(department: Department, name: str, code: str, *, actor) -> Unit:
    """Add an enforcement unit (科、室、队、所) inside a department."""
    if department is None:
        raise OrgsError(_("请选择所属部门。"), code="field_required")
    name = _require_text(name, _("机构名称"), 100)
    code = _require_text(code, _("机构代码"), 32)
    with transaction.atomic():
        if Unit.objects.filter(code=code).exists():
            raise OrgsConflictError(
                _("机构代码“%(code)s”已被使用。") % {"code": code}, code="unit_code_taken"
            )
        unit = Unit.objects.create(department=department, name=name, code=code)
        record_event(
            EventCode.UNIT_CREATED,
            actor=actor,
            subject=unit,
            details={
                "name": name,
                "code": code,
                "department": department.pk,
                "department_name": department.name,
            },
        )
    return unit


def _password_problems(password: str, person) -> list[str]:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    try:
        validate_password(password, person)
    except ValidationError as exc:
        return [str(m) for m in exc.messages]
    return []


def create_person(
    username: str,
    full_name: str,
    *,
    unit: Unit | None = None,
    department: Department | None = None,
    badge_number: str = "",
    roles=(),
    password: str | None = None,
    actor,
) -> tuple[Person, str | None]:
    """Create an account. Without ``password`` a one-time password is generated and returned
    (shown once; the person must change it at first login); with one, ``None`` is returned.
    """
    username = _require_text(username, _("用户名"), 150)
    full_name = _require_text(full_name, _("姓名"), 50)
    badge_number = (badge_number or "").strip()
    if len(badge_number) > 32:
        raise OrgsError(_("执法证号过长（最多 32 个字符）。"), code="field_too_long")
    if unit is not None:
        if department is not None and department.pk != unit.department_id:
            raise OrgsError(
                _("所属机构“%(unit)s”不属于部门“%(department)s”。")
                % {"unit": unit.name, "department": department.name},
                code="unit_department_mismatch",
            )
        department = unit.department
    roles = list(dict.fromkeys(roles))
    _check_role_combination(roles)
    one_time = None
    if password is None:
        one_time = password = _one_time_password()
    with transaction.atomic():
        if Person.objects.filter(username__iexact=username).exists():
            raise OrgsConflictError(
                _("用户名“%(username)s”已被使用。") % {"username": username}, code="username_taken"
            )
        person = Person(
            username=username,
            full_name=full_name,
            badge_number=badge_number,
            unit=unit,
            department=department,
            must_change_password=one_time is not None,
        )
        if one_time is None:
            problems = _password_problems(password, person)
            if problems:
                raise OrgsError(
                    _("密码不符合要求：%(problems)s") % {"problems": " ".join(problems)},
                    code="password_invalid",
                )
        person.set_password(password)
        person.password_changed_at = timezone.now()
        person.save()
        record_event(
            EventCode.PERSON_CREATED,
            actor=actor,
            subject=person,
            details={
                "username": username,
                "full_name": full_name,
                "badge_number": badge_number,
                "unit": unit.pk if unit else None,
                "department": department.pk if department else None,
                "one_time_password": one_time is not None,
            },
        )
        for role in roles:
            assign_role(person, role, actor=actor)
    return person, one_time


def _check_role_combination(roles) -> None:
    """ACC-6: at most one separated administrator role, and never beside a media role."""
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise OrgsError(
            _("未知的角色：%(roles)s") % {"roles": "、".join(unknown)}, code="role_unknown"
        )
    held = set(roles)
    admin = held & SEPARATED_ADMIN_ROLES
    if len(admin) > 1:
        labels = "、".join(str(Role(r).label) for r in sorted(admin))
        raise SeparationOfDutiesError(
            _(
                "三员分立：系统管理员、安全管理员、审计管理员须由不同账号担任，同一账号不能兼任%(roles)s。"
            )
            % {"roles": labels}
        )
    media = held - SEPARATED_ADMIN_ROLES
    if admin and media:
        raise SeparationOfDutiesError(
            _("三员分立：%(admin)s账号不能同时担任业务角色（%(media)s）。")
            % {
                "admin": Role(next(iter(admin))).label,
                "media": "、".join(str(Role(r).label) for r in sorted(media)),
            }
        )


_UNIT_ROLES = frozenset({Role.OFFICER, Role.CUSTODIAN, Role.UNIT_HEAD})
_DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT_HEAD, Role.LEGAL_OFFICE})


def assign_role(person: Person, role: str, *, actor) -> RoleAssignment:
    """Grant a role, enforcing ACC-6. Granting a role already held changes nothing.

    ``actor`` None is the server's operator (bootstrap, ``manage.py`` commands). A person who
    grants must be the security administrator, and never to themself (三员分立: the one who
    assigns roles cannot give themself any).
    """
    if role not in Role.values:
        raise OrgsError(_("未知的角色：%(roles)s") % {"roles": role}, code="role_unknown")
    if actor is not None:
        if not actor.has_role(Role.SECURITY_ADMIN):
            raise SeparationOfDutiesError(_("三员分立：只有安全管理员可以授予角色。"))
        if actor.pk == person.pk:
            raise SeparationOfDutiesError(_("三员分立：安全管理员不能给自己授予角色。"))
    if role in _UNIT_ROLES and not person.unit_id:
        raise OrgsError(
            _("%(role)s须归属某一执法机构，请先为“%(person)s”设置所属机构。")
            % {"role": Role(role).label, "person": person.display_name},
            code="role_needs_unit",
        )
    if role in _DEPARTMENT_ROLES and not person.department_id:
        raise OrgsError(
            _("%(role)s须归属某一部门，请先为“%(person)s”设置所属部门。")
            % {"role": Role(role).label, "person": person.display_name},
            code="role_needs_department",
        )
    with transaction.atomic():
        # lock the person row so two concurrent grants cannot both pass the check
        Person.objects.select_for_update().filter(pk=person.pk).first()
        held = set(RoleAssignment.objects.filter(person=person).values_list("role", flat=True))
        existing = RoleAssignment.objects.filter(person=person, role=role).first()
        if existing is not None:
            return existing
        _check_role_combination(sorted(held | {role}))
        assignment = RoleAssignment.objects.create(
            person=person, role=role, assigned_at=timezone.now()
        )
        person._role_cache = None
        record_event(
            EventCode.ROLE_ASSIGNED,
            actor=actor,
            subject=person,
            details={
                "role": role,
                "role_label": str(Role(role).label),
                "username": person.username,
            },
        )
    return assignment


def issue_api_token(person: Person, name: str, *, actor, scopes=None) -> tuple[ApiToken, str]:
    """Issue an API token for ``person`` opening the endpoints of ``scopes`` (api.choices.TokenScope;
    None: all). The secret is returned once and never stored."""
    from api.auth import hash_token, new_token
    from api.choices import ALL_SCOPES

    name = _require_text(name, _("令牌用途"), 100)
    scopes = list(ALL_SCOPES) if scopes is None else [s for s in ALL_SCOPES if s in set(scopes)]
    if not scopes or (set(scopes) - set(ALL_SCOPES)):
        raise OrgsError(_("请至少选择一项有效的令牌权限。"), code="token_scope_invalid")
    if not person.is_active:
        raise OrgsError(_("该账号已停用，不能签发令牌。"), code="person_inactive")
    with transaction.atomic():
        prefix, token = new_token()
        while ApiToken.objects.filter(prefix=prefix).exists():  # pragma: no cover - 2^40 space
            prefix, token = new_token()
        row = ApiToken.objects.create(
            person=person,
            name=name,
            prefix=prefix,
            key_hash=hash_token(token),
            created_at=(now := timezone.now()),
            expires_at=now + timedelta(days=settings.API_TOKEN_DAYS),
            scopes=scopes,
        )
        record_event(
            EventCode.TOKEN_ISSUED,
            actor=actor,
            subject=person,
            details={"token": row.pk, "name": name, "prefix": prefix, "username": person.username,
                     "token_expires_at": row.expires_at.isoformat(), "scopes": scopes},
        )
    return row, token


def revoke_api_token(token: ApiToken, *, actor) -> ApiToken:
    """Revoke a token at once; revoking twice changes nothing."""
    with transaction.atomic():
        row = ApiToken.objects.select_for_update().select_related("person").get(pk=token.pk)
        if row.revoked_at is not None:
            return row
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        record_event(
            EventCode.TOKEN_REVOKED,
            actor=actor,
            subject=row.person,
            details={
                "token": row.pk,
                "name": row.name,
                "prefix": row.prefix,
                "username": row.person.username,
            },
        )
    return row


def reset_password(person: Person, *, actor) -> str:
    """Give an account a new one-time password (shown once; must be changed at next login)."""
    one_time = _one_time_password()
    with transaction.atomic():
        remember_password(person)
        person.set_password(one_time)
        person.must_change_password = True
        person.password_changed_at = timezone.now()
        person.save(update_fields=["password", "must_change_password", "password_changed_at"])
        record_event(
            EventCode.PASSWORD_RESET,
            actor=actor,
            subject=person,
            details={"username": person.username},
        )
    return one_time
