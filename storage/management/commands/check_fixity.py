"""manage.py check_fixity: re-read stored objects and record pass / fail / not-run (ING-2)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from core.choices import CheckTrigger
from core.context import correlation
from storage.checks import check_fixity
from storage.choices import FixityStatus
from storage.models import StoredObject
from storage.selectors import list_objects_due_for_fixity
from storage.services import run_fixity_check


class Command(BaseCommand):
    help = "完整性校验：重新读取文件库中的对象，核对 SHA-256、SM3 与大小并记录结果 / re-verify vault objects"

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--all", action="store_true", help="校验全部对象 / every object")
        which.add_argument(
            "--limit", type=int, help="校验最久未校验的 N 个对象（默认 AVR_FIXITY_BATCH）"
        )
        which.add_argument(
            "--key", action="append", help="只校验该对象键（可重复）/ one object key (repeatable)"
        )
        which.add_argument(
            "--report",
            action="store_true",
            help="不读取文件，只列出最近结果需要关注的对象 / list objects needing attention, read nothing",
        )
        parser.add_argument(
            "--max-age-days", type=int, default=30, help="配合 --report：超过多少天未校验视为逾期"
        )

    def handle(self, *args, **options):
        if options["report"]:
            return self._report(options["max_age_days"])
        objects = self._select(options)
        labels = {s.value: str(s.label) for s in FixityStatus}
        counts = {s.value: 0 for s in FixityStatus}
        with correlation():
            for obj in objects:
                check = run_fixity_check(obj, actor=None, trigger=CheckTrigger.MANUAL)
                counts[check.status] += 1
                line = _("[%(status)s] %(key)s（%(size)s 字节）— %(detail)s") % {
                    "status": labels[check.status],
                    "key": obj.key,
                    "size": obj.size,
                    "detail": check.detail,
                }
                style = {"pass": self.style.SUCCESS, "fail": self.style.ERROR}.get(
                    check.status, self.style.WARNING
                )
                self.stdout.write(style(line))
        total = sum(counts.values())
        summary = _("共校验 %(total)s 个对象：通过 %(p)s，失败 %(f)s，未执行 %(n)s。") % {
            "total": total,
            "p": counts["pass"],
            "f": counts["fail"],
            "n": counts["not_run"],
        }
        if counts["fail"]:
            self.stdout.write(self.style.ERROR(summary))
            raise CommandError(
                _("完整性校验失败：%(n)s 个对象的内容与入库时不符或已缺失。")
                % {"n": counts["fail"]}
            )
        if counts["not_run"]:
            self.stdout.write(self.style.WARNING(summary))
            raise CommandError(
                _("%(n)s 个对象的完整性校验未能执行，请检查文件库。") % {"n": counts["not_run"]}
            )
        self.stdout.write(self.style.SUCCESS(summary))

    def _select(self, options):
        if options["key"]:
            found = {o.key: o for o in StoredObject.objects.filter(key__in=options["key"])}
            missing = [k for k in options["key"] if k not in found]
            if missing:
                raise CommandError(
                    _("目录中没有这些对象键：%(keys)s") % {"keys": "、".join(missing)}
                )
            return [found[k] for k in options["key"]]
        if options["all"]:
            return _all_objects()
        limit = options["limit"] if options["limit"] is not None else settings.FIXITY_BATCH
        if limit < 1:
            raise CommandError(_("--limit 须为正整数。"))
        return list(list_objects_due_for_fixity(limit))

    def _report(self, max_age_days: int):
        findings = check_fixity(
            _all_objects(),
            now=timezone.now(),
            max_age=timedelta(days=max_age_days),
        )
        for finding in findings:
            style = self.style.ERROR if finding.problem == "failed" else self.style.WARNING
            self.stdout.write(
                style(_("%(key)s — %(message)s") % {"key": finding.key, "message": finding.message})
            )
        self.stdout.write(_("需要关注的对象：%(n)s 个。") % {"n": len(findings)})
        if any(f.problem == "failed" for f in findings):
            raise CommandError(_("有对象最近一次完整性校验未通过。"))


_PAGE = 500


def _all_objects():
    """Every object in id order, fetched in keyset pages (safe while checks update rows)."""
    last = 0
    while True:
        page = list(StoredObject.objects.filter(pk__gt=last).order_by("pk")[:_PAGE])
        if not page:
            return
        yield from page
        last = page[-1].pk
