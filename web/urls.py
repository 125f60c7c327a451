from django.urls import path, register_converter

from core.bounds import IdConverter, SizeConverter
from web import views
from web.views import audit as audit_views

register_converter(IdConverter, "id")
register_converter(SizeConverter, "size")

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change_view, name="password_change"),
    path("upload/", views.upload, name="upload"),
    path("upload/items/", views.upload_items, name="upload_items"),
    path("ingest/", views.ingest_list, name="ingest_list"),
    path("recordings/", views.recording_list, name="recording_list"),
    path("recordings/<id:pk>/", views.recording_detail, name="recording_detail"),
    path("recordings/<id:pk>/edit", views.recording_edit, name="recording_edit"),
    path(
        "recordings/<id:pk>/late-reason", views.recording_late_reason, name="recording_late_reason"
    ),
    path("recordings/<id:pk>/history", views.recording_history, name="recording_history"),
    path("recordings/<id:pk>/access-log", views.recording_access_log, name="recording_access_log"),
    path("recordings/<id:pk>/content", views.recording_content, name="recording_content"),
    path("recordings/<id:pk>/play", views.recording_play, name="recording_play"),
    path(
        "recordings/<id:pk>/derivatives/<slug:kind>",
        views.recording_derivative,
        name="recording_derivative",
    ),
    path("audit/events/", views.audit_events, name="audit_events"),
    path("audit/verifications/", views.audit_verifications, name="audit_verifications"),
    path("audit/verifications/run", views.audit_verify_now, name="audit_verify_now"),
    path("audit/access/", views.audit_access, name="audit_access"),
    path("access/", views.my_access, name="my_access"),
    path("audit/checkpoints/", audit_views.audit_checkpoints, name="audit_checkpoints"),
    path("audit/checkpoints/sign", audit_views.audit_checkpoint_now, name="audit_checkpoint_now"),
    path("audit/checkpoints/<size:size>/note.txt", audit_views.audit_checkpoint_note, name="audit_checkpoint_note"),
    path("audit/checkpoints/<size:size>/print.pdf", audit_views.audit_checkpoint_pdf, name="audit_checkpoint_pdf"),
    path("audit/bundle/", audit_views.audit_bundle, name="audit_bundle"),
]
