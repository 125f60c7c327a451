from django.urls import include, path

from core.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("api.urls")),
    path("", include("web.urls")),
    # passkeys (ACC-6): django-otp-webauthn's endpoints, bound to our sign-in rules
    path("security/passkeys/", include("web.passkey_urls")),
]
