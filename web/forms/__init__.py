"""Forms of the web UI, one module per concern. Labels and messages are Chinese through gettext."""

from web.forms.auth import LoginForm, PasswordChangeForm
from web.forms.ingest import IngestFilterForm, UploadMetadataForm
from web.forms.recordings import LateReasonForm, RecordingFilterForm, RecordingMetadataForm

__all__ = [
    "IngestFilterForm",
    "LateReasonForm",
    "LoginForm",
    "PasswordChangeForm",
    "RecordingFilterForm",
    "RecordingMetadataForm",
    "UploadMetadataForm",
]
