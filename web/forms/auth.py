"""Sign-in and password forms."""

from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("当前密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password1 = forms.CharField(
        label=_("新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html,
    )
    new_password2 = forms.CharField(
        label=_("确认新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, person, *args, **kwargs):
        self.person = person
        super().__init__(*args, **kwargs)

    def clean_old_password(self):
        value = self.cleaned_data["old_password"]
        if not self.person.check_password(value):
            raise forms.ValidationError(_("当前密码不正确。"))
        return value

    def clean(self):
        data = super().clean()
        first, second = data.get("new_password1"), data.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("两次输入的新密码不一致。"))
        if first and data.get("old_password") and first == data["old_password"]:
            self.add_error("new_password1", _("新密码不能与当前密码相同。"))
        return data


class OtpCodeForm(forms.Form):
    """The second step of signing in, and confirming a new 动态口令: 6 digits (or, signing in,
    a 12-digit recovery code)."""

    code = forms.CharField(
        label=_("动态口令"),
        max_length=32,
        strip=True,
        error_messages={"required": _("请输入动态口令。"), "max_length": _("输入过长。")},
    )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("当前密码"),
        strip=False,
        error_messages={"required": _("请输入当前密码。")},
    )
