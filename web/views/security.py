"""账号安全 (ACC-6): the 动态口令 (enrol, replace, remove), passkeys (add, remove; the ceremonies
themselves are web/views/passkeys.py), recovery codes, and one's sessions."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from orgs import passkeys, twofactor
from orgs.choices import Role
from orgs.sessions import end_other_sessions, end_session, list_sessions
from web.forms import OtpCodeForm, PasswordConfirmForm
from web.views.common import page
from web.views.passkeys import passkey_context

# A person held on the enrolment page (orgs.middleware.TwoFactorMiddleware) sees it without the
# navigation, like the forced password change; otherwise it is a page of the platform.
FORCED_FRAME = "web/security/frame.html"
LAYOUT = "web/layout.html"


def _signed_in(view):
    """Signed in, nothing more: the enrolment page is where the two-factor gate sends people
    (``page`` would send a person held there elsewhere)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def _forced(person) -> bool:
    return twofactor.requires_two_factor(person) and not twofactor.has_two_factor(person)


@never_cache
@require_http_methods(["GET"])
@page
def security_overview(request):
    person = request.user
    device = twofactor.totp_device(person)
    keys = passkeys.list_passkeys(person)
    return render(request, "web/security/overview.html", {
        "device": device,
        "passkeys": keys,
        "enabled": bool(device or keys),
        "required": twofactor.requires_two_factor(person),
        "required_roles": "、".join(str(Role(r).label) for r in sorted(person.role_set & twofactor.REQUIRED_ROLES)),
        "recovery_left": twofactor.recovery_codes_left(person) if device or keys else 0,
        # a person who must use a second factor keeps one: the 动态口令 goes only with a passkey left,
        # a passkey only with another one or the 动态口令 left
        "totp_removable": not twofactor.requires_two_factor(person) or bool(keys),
        "passkey_removable": not twofactor.requires_two_factor(person) or bool(device) or len(keys) > 1,
        "sessions": list_sessions(person, current_key=request.session.session_key),
        "remove_form": PasswordConfirmForm(),
        **passkey_context(request),
    })


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
@_signed_in
def security_totp(request):
    """Enrol a 动态口令 (or replace the one in use): scan, type a code, get the recovery codes."""
    person = request.user
    if person.must_change_password:
        return redirect("web:password_change")  # first (only its owner knows the new one)
    forced = _forced(person)
    form = OtpCodeForm(request.POST or None)
    error = ""
    if request.method == "POST":
        if form.is_valid():
            try:
                codes = twofactor.enrol_totp(request, form.cleaned_data["code"], actor=person)
            except DomainError as exc:
                error = exc.message
            else:
                return _show_codes(request, codes, enrolled=True, forced=forced)
        else:
            error = _("请输入身份验证器中显示的 6 位数字。")
    key = twofactor.setup_key(request)
    replacing = twofactor.has_two_factor(person)
    return render(request, "web/security/enrol.html", {
        "frame": FORCED_FRAME if forced else LAYOUT,
        "forced": forced,
        "replacing": replacing,
        "form": form,
        "error": error,
        "qr": twofactor.qr_code_data_uri(twofactor.setup_uri(person, key)),
        "secret": twofactor.setup_secret(key),
        "account": person.username,
        **(passkey_context(request) if forced else {}),
    }, status=400 if request.method == "POST" else 200)


def _show_codes(request, codes, *, enrolled: bool, forced: bool):
    """The recovery codes, this once (the answer to the POST that made them; never stored in
    the clear anywhere a page could show them again)."""
    if enrolled:
        messages.success(request, _("动态口令已启用：以后登录时，输入密码后还须输入身份验证器中的 6 位数字。"))
    return render(request, "web/security/recovery_codes.html", {
        "frame": FORCED_FRAME if forced else LAYOUT,
        "forced": forced,
        "codes": codes,
        "codes_text": "\n".join(codes),
    })


@never_cache
@require_POST
@page
def security_passkey_added(request):
    """After a passkey was added on a page (its script posts here): the recovery codes, this
    once, when the person had none; otherwise back."""
    forced = request.POST.get("forced") == "1"  # added on the enrolment page a person was held on
    codes = twofactor.issue_missing_recovery_codes(request, actor=request.user)
    messages.success(request, _("通行密钥已添加：以后登录时，输入密码后可以用它完成验证。"))
    if codes:
        return _show_codes(request, codes, enrolled=False, forced=forced)
    return redirect("web:home" if forced else "web:security_overview")


@sensitive_post_parameters("password")
@require_POST
@page
def security_passkey_remove(request, pk: int):
    form = PasswordConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请输入当前密码以确认删除。"))
        return redirect("web:security_overview")
    passkeys.remove_passkey(request, pk, form.cleaned_data["password"], actor=request.user)
    messages.success(request, _("通行密钥已删除，以后不能再用它登录。"))
    return redirect("web:security_overview")


@sensitive_post_parameters("password")
@require_POST
@page
def security_totp_remove(request):
    form = PasswordConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请输入当前密码以确认停用。"))
        return redirect("web:security_overview")
    twofactor.remove_totp(request, form.cleaned_data["password"], actor=request.user)
    if twofactor.has_two_factor(request.user):
        messages.success(request, _("动态口令已停用。以后登录时，输入密码后请使用通行密钥。"))
    else:
        messages.success(request, _("动态口令已停用，恢复码随之作废。以后登录只需密码。"))
    return redirect("web:security_overview")


@never_cache
@require_POST
@page
def security_recovery_codes(request):
    codes = twofactor.regenerate_recovery_codes(request, actor=request.user)
    messages.success(request, _("已生成新的恢复码，原有恢复码全部作废。"))
    return _show_codes(request, codes, enrolled=False, forced=False)


@require_POST
@page
def security_session_end(request, pk: int):
    end_session(request, pk, actor=request.user)
    messages.success(request, _("该会话已注销：它的下一次操作须重新登录。"))
    return redirect("web:security_overview")


@require_POST
@page
def security_sessions_end_others(request):
    ended = end_other_sessions(request, actor=request.user)
    if ended:
        messages.success(request, _("已注销其他 %(n)s 个会话。") % {"n": ended})
    else:
        messages.info(request, _("没有其他会话需要注销。"))
    return redirect("web:security_overview")

