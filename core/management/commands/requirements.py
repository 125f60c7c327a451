import json

from django.conf import settings
from django.core.management.base import BaseCommand

from core.requirements import CATALOG


class Command(BaseCommand):
    help = "列出每项要求及其测试结果（读取最近一次测试运行）/ requirement coverage from the last test run"

    def add_arguments(self, parser):
        parser.add_argument("--results", default=str(settings.VAR_DIR / "requirement-results.json"))

    def handle(self, *args, results, **options):
        try:
            data = json.loads(open(results, encoding="utf-8").read())
        except FileNotFoundError:
            data = {}
            self.stdout.write(self.style.WARNING(f"尚无测试结果（{results}），请先运行测试。"))
        known = {r.id for r in CATALOG}
        for req in CATALOG:
            entry = data.get(req.id, {})
            passed, failed = len(entry.get("passed", [])), len(entry.get("failed", []))
            if failed:
                status = self.style.ERROR("未通过")
            elif passed:
                status = self.style.SUCCESS("已验证")
            else:
                status = self.style.WARNING("无测试")
            self.stdout.write(f"{req.id:7} {status}  通过 {passed:3}  失败 {failed:3}  {req.title}  [{req.articles}]")
        for unknown in sorted(set(data) - known):
            self.stdout.write(self.style.WARNING(f"{unknown}: 测试引用了目录中不存在的要求编号"))
