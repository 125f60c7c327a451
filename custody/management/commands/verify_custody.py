from django.core.management.base import BaseCommand, CommandError

from custody.checks import check_custody_chain
from custody.models import Event


class Command(BaseCommand):
    help = "校验保管链日志的哈希链，指出第一个断开的环节 / verify the custody hash chain"

    def handle(self, *args, **options):
        total = Event.objects.count()
        findings = check_custody_chain()
        if not findings:
            self.stdout.write(self.style.SUCCESS(f"保管链完整：共 {total} 个事件，哈希链全部相符。"))
            return
        first = findings[0]
        self.stdout.write(self.style.ERROR(f"第一个断开的环节：第 {first.seq} 号事件 — {first.message}"))
        for finding in findings[1:20]:
            self.stdout.write(f"  另见第 {finding.seq} 号事件：{finding.message}")
        raise CommandError(f"保管链校验失败：{len(findings)} 处问题，首个为第 {first.seq} 号事件。")
