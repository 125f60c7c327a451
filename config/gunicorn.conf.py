"""The one web-server configuration: bin/up, tests that start a real server, and bench/upload.py.

WSGI under gunicorn streams a tus PATCH body straight from the socket to the
vault (Django's ASGI handler would spool the whole body to a temp file first),
and serves Range responses with sendfile().

Per instance, nothing is shared between two platforms on one machine: the only
file gunicorn keeps for itself is its control socket (``gunicornc``), and that
lives in the instance's ``AVR_VAR_DIR`` — gunicorn's default,
``~/.gunicorn/gunicorn.ctl``, is one path for every instance of a user, so a
second instance would take it over and the first one's shutdown would delete it.
(No pidfile is written; worker heartbeat files are unlinked temporary files.)
"""

import os
import sys
import time
from pathlib import Path

# config/env.py is the one place settings come from; gunicorn reads this file before
# it puts the working directory on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from config.env import env_int, env_str  # noqa: E402
from core.memory import return_large_buffers  # noqa: E402

return_large_buffers()  # before the workers are forked: they inherit it

# Every log line in the platform's time zone, with its offset. gunicorn stamps its
# error and access logs with the process's local time, and the master process never
# loads Django (which sets TZ from TIME_ZONE), so set TZ before the first line.
os.environ["TZ"] = env_str("AVR_TIME_ZONE")
time.tzset()

VAR_DIR = Path(env_str("AVR_VAR_DIR")).resolve()

bind = env_str("AVR_BIND")
worker_class = "gthread"
# One process per core by default: digests release the GIL, but one process's request threads
# still contend for it; concurrent uploads (the dock at shift change) need every core (issue 8).
workers = env_int("AVR_WEB_WORKERS") or (os.cpu_count() or 1)
threads = env_int("AVR_WEB_THREADS")
timeout = 0  # uploads of many GB: never kill a worker mid-body
graceful_timeout = 10
keepalive = 30
accesslog = env_str("AVR_ACCESS_LOG") or None  # empty: no access log
errorlog = "-"
wsgi_app = "config.wsgi:application"

# A Unix socket path holds at most 107 bytes (Linux sun_path); a deeper var dir gets
# no control socket rather than a shared one.
_SUN_PATH_MAX = 107
control_socket = str(VAR_DIR / "gunicorn.ctl")
control_socket_disable = len(os.fsencode(control_socket)) > _SUN_PATH_MAX


def on_starting(server):
    if control_socket_disable:
        server.log.warning(
            "control socket disabled: %s is longer than %s bytes", control_socket, _SUN_PATH_MAX
        )


def post_worker_init(worker):
    """The app is loaded: move its objects (Django, the models, the libraries — several hundred
    thousand) out of the garbage collector's reach, so a full collection no longer walks them
    all again. py-spy showed collections in a web worker during concurrent uploads and none
    after; the throughput gain itself was within bench/concurrent.py's run-to-run noise."""
    import gc

    gc.collect()
    gc.freeze()
