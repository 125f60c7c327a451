"""Every write of the ingest app (habit 1): uploads, ingest items, derivatives.

Uploads follow tus 1.0: bytes are appended to a vault staging file while a
streaming digester computes SHA-256 and SM3 in the same pass (ING-2). The
staging file size is the truth about how much arrived; ``Upload.offset`` is
kept in step with it and reconciled after a crash.

``uploads`` — create, append, complete, terminate, expire;
``items`` — local-file ingest and the pipeline's state changes;
``derivatives`` — posters and proxies (ING-7).
"""

from ingest.services.derivatives import (
    add_derivative,
    create_proxy,
    local_copy,
    store_derivative_bytes,
)
from ingest.services.items import (
    attach_stored_object,
    begin_processing,
    catalogue_item,
    enqueue_pipeline,
    finish_ingest_item,
    ingest_stream,
    link_duplicate,
    requeue_stalled_items,
)
from ingest.services.uploads import (
    READ_CHUNK,
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
    "READ_CHUNK", "AppendResult", "add_derivative", "append_to_upload", "attach_stored_object",
    "begin_processing", "catalogue_item", "create_proxy", "create_upload", "current_upload_state",
    "enqueue_pipeline", "expire_stale_uploads", "finish_ingest_item", "get_upload_for", "ingest_stream",
    "link_duplicate", "local_copy", "requeue_stalled_items", "store_derivative_bytes", "terminate_upload",
    "upload_write_lock",
]
