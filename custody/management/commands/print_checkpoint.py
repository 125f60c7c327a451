from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.choices import CheckTrigger
from core.errors import DomainError
from custody.checkpoints import make_checkpoint
from custody.models import Checkpoint
from custody.printable import write_daily


class Command(BaseCommand):
    help = "生成可打印的检查点（文本与 PDF），用于纸质存档 / write the printable checkpoint (text and PDF)"

    def add_arguments(self, parser):
        parser.add_argument("--size", type=int, help="已有检查点的树大小；默认立即签发一个新的检查点")
        parser.add_argument("--out", type=Path, help="输出目录，默认 $AVR_VAR_DIR/checkpoints")

    def handle(self, *args, **options):
        try:
            if options["size"] is not None:
                checkpoint = Checkpoint.objects.filter(size=options["size"]).first()
                if checkpoint is None:
                    raise CommandError(_("没有树大小为 %(n)s 的检查点。") % {"n": options["size"]})
            else:
                checkpoint = make_checkpoint(trigger=CheckTrigger.COMMAND)
            paths = write_daily(checkpoint, options["out"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        for path in paths:
            self.stdout.write(str(path))
        if not any(p.suffix == ".pdf" for p in paths):
            self.stderr.write(_("未生成 PDF：找不到中文字体（AVR_PDF_FONT），文本版已写出。"))
