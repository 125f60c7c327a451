"""manage.py check_vault: is the configured vault reachable and fit for originals? (INT-2)"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from storage.backends import configured_backend, get_vault
from storage.backends.base import VaultError


class Command(BaseCommand):
    help = "检查文件库：可连接、存储桶开启版本控制与对象锁定（S3）/ check the configured vault"

    def handle(self, *args, **options):
        name = configured_backend()
        try:
            get_vault()  # a new process: the backend is built and checked now
        except VaultError as exc:
            raise CommandError(_("文件库（%(name)s）不可用：%(error)s") % {"name": name, "error": exc.message}) from exc
        self.stdout.write(_("文件库（%(name)s）可用。") % {"name": name})
