"""The passkey ceremonies (ACC-6: web/views/passkeys.py) under django-otp-webauthn's own URL
names, which its script and template tag reverse; mounted at /security/passkeys/ (config/urls.py)."""

from django.urls import path

from web.views import passkeys

app_name = "otp_webauthn"

urlpatterns = [
    path("registration/begin/", passkeys.RegistrationBegin.as_view(), name="credential-registration-begin"),
    path("registration/complete/", passkeys.RegistrationComplete.as_view(), name="credential-registration-complete"),
    path("authentication/begin/", passkeys.AuthenticationBegin.as_view(), name="credential-authentication-begin"),
    path("authentication/complete/", passkeys.AuthenticationComplete.as_view(),
         name="credential-authentication-complete"),
    path("texts.js", passkeys.ScriptCatalog.as_view(), name="js-i18n-catalog"),
]
