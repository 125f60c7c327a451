from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.choices import CheckStatus, CheckTrigger
from custody.services import verify_custody_chain


class Command(BaseCommand):
    help = "校验保管链日志的哈希链，指出第一个断开的环节，并保存校验结果 / verify the custody hash chain"

    def handle(self, *args, **options):
        result = verify_custody_chain(actor=None, trigger=CheckTrigger.COMMAND)
        if result.status == CheckStatus.PASS:
            self.stdout.write(self.style.SUCCESS(
                _("保管链完整：共 %(n)s 个事件，哈希链全部相符。") % {"n": result.events_checked}
            ))
            return
        if result.status == CheckStatus.NOT_RUN:
            raise CommandError(result.detail)
        first = result.findings[0]
        if first.get("seq") is not None:
            self.stdout.write(self.style.ERROR(
                _("第一个断开的环节：第 %(seq)s 号事件 — %(message)s") % first
            ))
        else:
            self.stdout.write(self.style.ERROR(_("首个问题：%(message)s") % first))
        for finding in result.findings[1:20]:
            if finding.get("seq") is not None:
                self.stdout.write(_("  另见第 %(seq)s 号事件：%(message)s") % finding)
            else:
                self.stdout.write(_("  另见：%(message)s") % finding)
        raise CommandError(_("保管链校验失败：%(detail)s") % {"detail": result.detail})
