from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.choices import CheckStatus, CheckTrigger
from custody.checks import ChainFinding, first_bad_leaf
from custody.services import verify_custody_chain


class Command(BaseCommand):
    help = (
        "由全部事件重建默克尔树，与保存的节点、检查点、见证联署和查阅登记核对，指出第一个有问题的叶子，"
        "并保存校验结果 / verify the custody log"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint", action="append", default=[], metavar="FILE",
            help="另行核对一个外部保存的检查点（见证人或审计人员保存的签名文本），可重复",
        )

    def handle(self, *args, **options):
        external = []
        for name in options["checkpoint"]:
            try:
                external.append(Path(name).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(_("无法读取检查点文件 %(name)s：%(why)s") % {"name": name, "why": exc}) from exc
        result = verify_custody_chain(actor=None, trigger=CheckTrigger.COMMAND, external_checkpoints=external)
        if result.status == CheckStatus.PASS:
            self.stdout.write(self.style.SUCCESS(_("保管链完整：%(detail)s") % {"detail": result.detail}))
            return
        if result.status == CheckStatus.NOT_RUN:
            raise CommandError(result.detail)
        first = first_bad_leaf(ChainFinding(**{"seq": None, **f}) for f in result.findings)
        if first is not None:
            self.stdout.write(self.style.ERROR(_("第一个有问题的叶子：第 %(leaf)s 号") % {"leaf": first}))
        for finding in result.findings[:20]:
            self.stdout.write(self.style.ERROR("  " + finding["message"]))
        raise CommandError(_("保管链校验失败：%(detail)s") % {"detail": result.detail})
