"""Every write of the ingest app (habit 1): uploads, ingest items, derivatives.

Uploads follow tus 1.0: bytes are appended to a vault staging file while a
streaming digester computes SHA-256 and SM3 in the same pass (ING-2). The
staging file size is the truth about how much arrived; ``Upload.offset`` is
kept in step with it and reconciled after a crash.

``uploads`` — create, append, complete, terminate, expire;
``items`` — receiving a local file and the pipeline's state changes;
``derivatives`` — posters and proxies (ING-7).

Layering (one way): models → services → pipeline → tasks and the other edges.
Services change state and return; they never run the pipeline or enqueue tasks.
"""

from ingest.services.derivatives import add_derivative, create_proxy, store_derivative_bytes
from ingest.services.items import (
    attach_stored_object,
    begin_processing,
    catalogue_item,
    defer_ingest_item,
    finish_ingest_item,
    heartbeat,
    link_duplicate,
    receive_item,
    receive_stream,
    stalled_item_ids,
)
from ingest.services.uploads import (
    AppendResult,
    append_to_upload,
    create_upload,
    current_upload_state,
    expire_stale_uploads,
    get_upload_for,
    terminate_upload,
    upload_write_lock,
)

__all__ = [
    "AppendResult",
    "add_derivative",
    "append_to_upload",
    "attach_stored_object",
    "begin_processing",
    "catalogue_item",
    "create_proxy",
    "create_upload",
    "current_upload_state",
    "defer_ingest_item",
    "expire_stale_uploads",
    "finish_ingest_item",
    "heartbeat",
    "get_upload_for",
    "link_duplicate",
    "receive_item",
    "receive_stream",
    "stalled_item_ids",
    "store_derivative_bytes",
    "terminate_upload",
    "upload_write_lock",
]
