from django.urls import include, path

from core.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("api.urls")),
    path("", include("web.urls")),
]
