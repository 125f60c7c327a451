"""The one web-server configuration: bin/up, tests that start a real server, and bench/upload.py.

WSGI under gunicorn streams a tus PATCH body straight from the socket to the
vault (Django's ASGI handler would spool the whole body to a temp file first),
and serves Range responses with sendfile().
"""

import os

bind = os.environ.get("AVR_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("AVR_WEB_WORKERS", "1"))
threads = int(os.environ.get("AVR_WEB_THREADS", "16"))
timeout = 0  # uploads of many GB: never kill a worker mid-body
graceful_timeout = 10
keepalive = 30
accesslog = os.environ.get("AVR_ACCESS_LOG", "-") or None  # empty: no access log
errorlog = "-"
wsgi_app = "config.wsgi:application"
