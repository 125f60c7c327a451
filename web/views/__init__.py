"""Views of the Chinese web UI, one module per concern."""

from web.views.access_register import my_access
from web.views.audit import audit_access, audit_events, audit_verifications, audit_verify_now
from web.views.auth import login_view, logout_view, password_change_view
from web.views.content import recording_content, recording_derivative, recording_play
from web.views.home import home
from web.views.ingest_list import ingest_list
from web.views.recordings import (
    recording_access_log,
    recording_detail,
    recording_edit,
    recording_history,
    recording_late_reason,
    recording_list,
)
from web.views.upload import upload, upload_items

__all__ = [
    "audit_access",
    "audit_events",
    "audit_verifications",
    "audit_verify_now",
    "home",
    "ingest_list",
    "login_view",
    "my_access",
    "logout_view",
    "password_change_view",
    "recording_access_log",
    "recording_content",
    "recording_derivative",
    "recording_detail",
    "recording_edit",
    "recording_history",
    "recording_late_reason",
    "recording_list",
    "recording_play",
    "upload",
    "upload_items",
]
