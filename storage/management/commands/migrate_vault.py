"""manage.py migrate_vault --to s3: copy objects between vault backends, proving every copy (INT-2)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.context import correlation
from core.errors import DomainError
from storage.backends import BACKENDS
from storage.models import StoredObject
from storage.services import migrate_stored_object


class Command(BaseCommand):
    help = "在存储后端之间迁移对象：逐个复制、重新计算摘要、在目标中复核后再改登记，每个对象一条保管链事件 / migrate vault objects"

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, help="目标后端，如 s3 / target backend")
        parser.add_argument("--from", dest="source", help="只迁移该后端中的对象 / only objects on this backend")
        parser.add_argument("--limit", type=int, help="最多迁移 N 个对象 / at most N objects")
        parser.add_argument("--dry-run", action="store_true", help="只列出将迁移的对象 / list, copy nothing")

    def handle(self, *args, to, source, limit, dry_run, **options):
        if to not in BACKENDS:
            raise CommandError(_("未知的存储后端“%(name)s”（可用：%(names)s）。") % {"name": to, "names": "、".join(BACKENDS)})
        objects = StoredObject.objects.exclude(backend=to).order_by("pk")
        if source:
            objects = objects.filter(backend=source)
        if limit is not None:
            if limit < 1:
                raise CommandError(_("--limit 须为正整数。"))
            objects = objects[:limit]
        moved = failed = 0
        with correlation():
            for obj in objects.iterator():
                if dry_run:
                    self.stdout.write(f"[将迁移] {obj.backend} → {to}  {obj.key}  {obj.size} 字节")
                    continue
                try:
                    migrate_stored_object(obj, to=to)
                except DomainError as exc:
                    failed += 1
                    self.stdout.write(f"[失败] {obj.key}：{exc.message}")
                    continue
                moved += 1
                self.stdout.write(f"[已迁移] {obj.key} → {to}")
        if dry_run:
            return
        self.stdout.write(_("迁移完成：成功 %(moved)s，失败 %(failed)s。") % {"moved": moved, "failed": failed})
        if failed:
            raise CommandError(_("%(n)s 个对象未能迁移，详见上方。") % {"n": failed})
