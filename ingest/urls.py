"""tus 1.0 resumable uploads, mounted at /api/v1/uploads/ by api/urls.py."""

from django.urls import path

from ingest import views

app_name = "ingest"

urlpatterns = [
    path("", views.upload_collection, name="uploads"),
    path("<uuid:upload_id>", views.upload_resource, name="upload"),
    path("<uuid:upload_id>/", views.upload_resource),
]
