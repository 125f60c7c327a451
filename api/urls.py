"""The REST API under /api/v1/ (INT-1). Each app keeps its own router in ``<app>/api.py``."""

from __future__ import annotations

from django.urls import include, path, re_path

from api.ninja import api, not_found_view

urlpatterns = [
    # tus 1.0 resumable uploads: plain views, so the body streams straight to the vault.
    path("api/v1/uploads/", include("ingest.urls")),
    path("api/v1/", api.urls),
    # anything else under /api/v1/ answers with the same JSON 404 as the API itself
    re_path(r"^api/v1/", not_found_view),
]
