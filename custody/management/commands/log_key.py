"""manage.py log_key: print the log's public key(s); --rotate makes new key files."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from core.context import correlation
from custody.choices import EventCode
from custody.keys import LogKeyError, log_origin, public_key_texts, rotate_key_files
from custody.services import record_event


class Command(BaseCommand):
    help = "打印保管日志的签名公钥（C2SP 验证公钥格式）；--rotate 轮换签名密钥 / print or rotate the log key"

    def add_arguments(self, parser):
        parser.add_argument("--rotate", action="store_true",
                            help="生成新的签名密钥，旧密钥改名（带日期）保留在同一目录")

    def handle(self, *args, **options):
        try:
            if options["rotate"]:
                self._rotate()
            for text in public_key_texts():
                self.stdout.write(text)
        except LogKeyError as exc:
            raise CommandError(str(exc)) from exc

    def _rotate(self) -> None:
        code = getattr(EventCode, "LOG_KEY_ROTATED", None)
        with correlation():
            rotations = rotate_key_files()
            if code is not None:
                with transaction.atomic():
                    record_event(
                        code, actor=None, subject=("log_key", log_origin()),
                        details={"keys": [
                            {"old": r.old_key, "new": r.new_key, "retired_file": r.retired_as.name}
                            for r in rotations
                        ]},
                    )
        for r in rotations:
            self.stdout.write(_("已轮换签名密钥：旧密钥保存为 %(file)s，旧公钥 %(old)s")
                              % {"file": r.retired_as, "old": r.old_key})
        if code is None:
            self.stdout.write(self.style.WARNING(
                _("保管链尚无“轮换日志密钥”事件代码，本次轮换未记入保管链。")
            ))
        self.stdout.write(_("新的公钥："))
