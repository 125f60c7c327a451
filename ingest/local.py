"""Local files (seed data, a dock agent on the same machine): ingested at once, synchronously,
through the same pipeline as tus uploads. An edge like ``ingest.tasks`` and ``ingest.views``."""

from __future__ import annotations

from ingest import services
from ingest.choices import IngestSource
from ingest.models import IngestItem
from ingest.tasks import process_item


def ingest_stream(
    stream, *, actor, filename, metadata: dict, source: str = IngestSource.SEED, raw_filename=None
) -> IngestItem:
    """Receive a local file or byte stream and run the pipeline on it now.

    Bytes go to a vault staging file while SHA-256 and SM3 are computed in the
    same pass; then the pipeline stores, probes and catalogues them. Follow-up
    work (a proxy to transcode) is enqueued after commit.
    """
    item = services.receive_stream(
        stream,
        actor=actor,
        filename=filename,
        metadata=metadata,
        source=source,
        raw_filename=raw_filename,
    )
    return process_item(item.pk).item
