from core.errors import DomainError


class RecordingError(DomainError):
    code = "recording_error"


class MetadataInvalidError(RecordingError):
    code = "metadata_invalid"
