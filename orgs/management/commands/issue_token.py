"""Issue an API token for an integration account; the token is printed once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from api.choices import ALL_SCOPES, TokenScope
from core.context import correlation
from core.errors import DomainError
from orgs.models import Person
from orgs.services import issue_api_token


class Command(BaseCommand):
    help = "为某个账号签发接口令牌（令牌只显示一次）"

    def add_arguments(self, parser):
        parser.add_argument("username", help="用户名")
        parser.add_argument("name", help="令牌用途，如“办案系统对接”")
        parser.add_argument(
            "--scope", action="append", choices=ALL_SCOPES, dest="scopes",
            help="令牌权限，可重复：read 查询目录与入库情况，content 播放下载，upload 上传，audit 保管链；默认全部",
        )

    def handle(self, *args, **options):
        person = Person.objects.filter(username=options["username"]).first()
        if person is None:
            raise CommandError(_("用户 %(username)s 不存在。") % {"username": options["username"]})
        with correlation():
            try:
                row, token = issue_api_token(person, options["name"], actor=None, scopes=options["scopes"])
            except DomainError as exc:
                raise CommandError(exc.message) from exc
        self.stdout.write(
            _("已为 %(person)s（%(username)s）签发接口令牌“%(name)s”（前缀 %(prefix)s），有效期至 %(until)s。")
            % {
                "person": person.display_name,
                "username": person.username,
                "name": row.name,
                "prefix": row.prefix,
                "until": timezone.localtime(row.expires_at).strftime("%Y-%m-%d %H:%M"),
            }
        )
        self.stdout.write(_("权限范围：%(scopes)s") % {"scopes": "、".join(str(TokenScope(s).label) for s in row.scopes)})
        self.stdout.write(_("令牌只显示这一次，请妥善保存；使用方式：Authorization: Bearer <令牌>"))
        self.stdout.write(token)
