"""Forms of the web UI, one module per concern. Labels and messages are Chinese through gettext."""

from web.forms.access_requests import AccessRequestForm, DecisionForm
from web.forms.auth import LoginForm, OtpCodeForm, PasswordChangeForm, PasswordConfirmForm
from web.forms.ingest import IngestFilterForm, UploadMetadataForm
from web.forms.recordings import LateReasonForm, RecordingFilterForm, RecordingMetadataForm

__all__ = [
    "AccessRequestForm",
    "DecisionForm",
    "IngestFilterForm",
    "LateReasonForm",
    "LoginForm",
    "OtpCodeForm",
    "PasswordChangeForm",
    "PasswordConfirmForm",
    "RecordingFilterForm",
    "RecordingMetadataForm",
    "UploadMetadataForm",
]
