"""Sign in, sign out, and the forced password change (first administrator, resets)."""

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
from orgs.services import change_password, log_in, log_out
from web.forms import LoginForm, PasswordChangeForm


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
            person = log_in(
                request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except DomainError as exc:
            error = exc.message
        else:
            if person.must_change_password:
                return redirect("web:password_change")
            return HttpResponseRedirect(_safe_next(request) or reverse("web:home"))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "web/login.html",
        {"form": form, "error": error, "next": _safe_next(request)},
        status=status,
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
            update_session_auth_hash(request, person)
            messages.success(request, _("密码已修改。"))
            return redirect("web:home")
    return render(
        request,
        "web/password_change.html",
        {"form": form, "forced": person.must_change_password},
        status=400 if request.method == "POST" else 200,
    )
