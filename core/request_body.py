"""A request body of known length read straight from gunicorn's socket into pooled buffers.

gunicorn's ``wsgi.input`` hands each byte through several copies on its way to the
application (``recv`` into new ``bytes``, into its unreader's ``BytesIO`` and out again, into
the body's ``BytesIO`` and out again). For a tus PATCH of gigabytes that was the largest cost
after the digests themselves: ``perf record -a`` over bench/concurrent.py (8 uploads at once)
put ``memmove`` at 9 % of all the machine's CPU. Here the socket is read with ``recv_into``
into a few reused buffers (``core.digests.PooledReader``), which staging writes and the
digests hash in place: no copy in Python at all.

Only on a body nobody has read yet, framed by Content-Length, under gunicorn's own reader
classes; anything else (another server, the test client, chunked bodies) gets ``None`` and
the caller reads ``wsgi.input`` as before. The bytes gunicorn already read ahead with the
headers come first; anything beyond the body (a pipelined next request) is handed back to it,
and nothing is taken from gunicorn before the first read: a request refused before its body
is read (a 409) leaves gunicorn to skip the body itself.
"""

from __future__ import annotations

from core.digests import PooledReader

BUFFER_SIZE = 1024 * 1024
BUFFERS = 8  # per request: the memory bound, and how far reading may run ahead of hashing


def direct_body(environ: dict, length: int) -> PooledReader | None:
    """The body as pooled chunks, or ``None`` where it must be read through ``wsgi.input``."""
    try:
        from gunicorn.http.body import Body, LengthReader
        from gunicorn.http.unreader import SocketUnreader
    except ImportError:
        return None
    body, sock = environ.get("wsgi.input"), environ.get("gunicorn.socket")
    if type(body) is not Body or sock is None or length <= 0:
        return None
    reader = getattr(body, "reader", None)
    if type(reader) is not LengthReader or type(getattr(reader, "unreader", None)) is not SocketUnreader:
        return None
    if body.buf.tell() or reader.length != length or not hasattr(reader.unreader, "take_buffered"):
        return None  # partly read already, or a gunicorn whose internals are not these
    return PooledReader(_SocketBody(reader, sock).readinto, count=BUFFERS, size=BUFFER_SIZE)


class _SocketBody:
    """``readinto`` over the rest of the body; keeps gunicorn's own count of what is left in
    step, so that after the response it neither waits for bytes already taken nor skips any."""

    def __init__(self, reader, sock):
        self.reader, self.sock = reader, sock
        self.error: OSError | None = None

    def readinto(self, buffer) -> int:
        """Fill ``buffer`` as far as the body goes; 0 at its end or once the client closed the
        connection. A timeout or reset raises ``OSError`` as gunicorn's own reading does — after
        the bytes that did arrive have been returned."""
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        view = memoryview(buffer)[: self.reader.length]
        # what gunicorn read ahead (with the headers) first; whatever does not fit, or is past
        # the body (a pipelined next request), goes back to it at once: its state is always
        # what it would be had it read these bytes itself
        pending = self.reader.unreader.take_buffered()
        filled = min(len(pending), len(view))
        view[:filled] = memoryview(pending)[:filled]
        if len(pending) > filled:
            self.reader.unreader.unread(pending[filled:])
        closed = False
        while filled < len(view):
            try:
                n = self.sock.recv_into(view[filled:])
            except OSError as exc:
                if not filled:
                    raise
                self.error = exc  # raised by the next call
                break
            if not n:
                closed = True
                break
            filled += n
        self.reader.length = 0 if closed else self.reader.length - filled
        return filled
