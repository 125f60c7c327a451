import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# The vault new originals go to must be fit before the first request: in S3 mode an unreachable
# store, a wrong key or a bucket without Object Lock stops the web node from starting (gunicorn
# exits), never a silent fall-back to the filesystem.
from storage.startup import check_configured_vault  # noqa: E402

check_configured_vault()
