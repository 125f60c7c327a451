"""Sign in (password, then the second factor where one is set up), sign out, and the forced
password change (first administrator, resets)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from orgs import twofactor
from orgs.lockout import locked_out_response
from orgs.passkeys import has_passkey
from orgs.services import change_password, log_in, log_out
from orgs.sessions import follow_session_key
from web.forms import LoginForm, OtpCodeForm, PasswordChangeForm
from web.views.passkeys import passkey_context


def _safe_next(request) -> str:
    """A local path to continue to after signing in, or "" (never a view name or another host)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated and request.method == "GET":
        return HttpResponseRedirect(_safe_next(request) or reverse("web:home"))
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            signed = log_in(
                request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                next_url=_safe_next(request),
            )
        except DomainError as exc:
            error = exc.message
        else:
            if signed.second_step:
                return redirect("web:login_verify")
            return _after_sign_in(signed.person, _safe_next(request))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "web/login.html",
        {"form": form, "error": error, "next": _safe_next(request)},
        status=status,
    )


def after_sign_in_url(person, next_url: str) -> str:
    """A pending password change first, then a second factor the person must have and has not
    (orgs.middleware.TwoFactorMiddleware holds them there), then where they were going."""
    if person.must_change_password:
        return reverse("web:password_change")
    if twofactor.requires_two_factor(person) and not twofactor.has_two_factor(person):
        return reverse("web:security_totp")
    return next_url or reverse("web:home")


def _after_sign_in(person, next_url: str):
    return HttpResponseRedirect(after_sign_in_url(person, next_url))


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_verify_view(request):
    """The second step: the 动态口令 (or a recovery code) of the person whose password was just
    accepted. Nothing is signed in until it is right."""
    person = twofactor.pending_person(request)
    if person is None:
        if request.user.is_authenticated:
            return redirect("web:home")
        messages.info(request, _("请先输入用户名和密码。"))
        return redirect("web:login")
    form = OtpCodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and request.POST.get("cancel"):
        twofactor.cancel_second_step(request)
        return redirect("web:login")
    if request.method == "POST" and form.is_valid():
        try:
            step = twofactor.verify_second_step(request, form.cleaned_data["code"])
        except twofactor.SecondStepLocked:
            return locked_out_response(request)
        except twofactor.SecondStepExpired as exc:
            messages.error(request, exc.message)
            return redirect("web:login")
        except DomainError as exc:
            error = exc.message
        else:
            if step.recovery_code_used:
                messages.warning(
                    request,
                    _("您使用了一个恢复码登录，还剩 %(n)s 个。如手机丢失，请尽快在“账号安全”中绑定新的身份验证器。")
                    % {"n": step.remaining},
                )
            return _after_sign_in(step.person, step.next_url)
        if twofactor.pending_person(request) is None:  # locked out meanwhile (orgs.lockout)
            return locked_out_response(request)
    elif request.method == "POST":
        error = _("请输入 6 位动态口令或一个恢复码。")
    return render(
        request,
        "web/login_verify.html",
        {
            "form": form,
            "error": error,
            "person": person,
            "has_totp": twofactor.totp_device(person) is not None,
            "has_passkey": has_passkey(person),
            "recovery_left": twofactor.recovery_codes_left(person),
            **passkey_context(request),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def logout_view(request):
    log_out(request)
    messages.success(request, _("您已安全退出。"))
    return redirect("web:login")


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def password_change_view(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    person = request.user
    form = PasswordChangeForm(person, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change_password(person, actor=person, new_password=form.cleaned_data["new_password1"])
        except ValidationError as exc:
            form.add_error("new_password1", exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            old_key = request.session.session_key
            update_session_auth_hash(request, person)  # this session stays; every other one ends
            follow_session_key(old_key, request.session.session_key)
            messages.success(request, _("密码已修改。"))
            return redirect("web:home")
    return render(
        request,
        "web/password_change.html",
        {"form": form, "forced": person.must_change_password},
        status=400 if request.method == "POST" else 200,
    )
