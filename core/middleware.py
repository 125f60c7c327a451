import logging

from core.context import correlation, new_request_id, sane_client_request_id

logger = logging.getLogger("core.request")


class RequestIdMiddleware:
    """Give every request a server-made correlation id; keep a client's X-Request-ID beside it.

    ``request.request_id`` (and ``core.context.get_request_id()``) is always generated here: it is
    the id custody events and access register entries store. A sane client ``X-Request-ID``
    (1–64 ASCII letters, digits, ``-``, ``_``) is kept as ``request.client_request_id`` (and
    ``get_client_request_id()``), logged beside the server id and echoed back as
    ``X-Client-Request-ID``; anything else the client sent is dropped.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = new_request_id()
        sent = request.headers.get("X-Request-ID", "")
        client_rid = sane_client_request_id(sent)
        request.request_id = rid
        request.client_request_id = client_rid
        if client_rid:
            logger.info("request %s: client-supplied X-Request-ID %s", rid, client_rid)
        elif sent:
            logger.info("request %s: client X-Request-ID refused (%d characters, not 1-64 of A-Za-z0-9_-)",
                        rid, len(sent))
        with correlation(rid, client_request_id=client_rid):
            response = self.get_response(request)
        response["X-Request-ID"] = rid
        if client_rid:
            response["X-Client-Request-ID"] = client_rid
        return response


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on whatever a signed-in person or an API token is answered
    (ACC-6): pages and JSON carry record metadata, which no browser or proxy cache may keep.
    A response that sets its own Cache-Control (static files, never_cache views) keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.headers.get("Authorization"):
            response["Cache-Control"] = "no-store"
        return response
