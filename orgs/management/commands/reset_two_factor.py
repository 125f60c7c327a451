"""A security administrator resets someone's two-factor sign-in (phone lost; ACC-6)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.context import correlation
from core.errors import DomainError
from orgs.models import Person
from orgs.twofactor import RESET_COMMENT_MAX, requires_two_factor, reset_two_factor

METHOD_NAMES = {"totp": gettext_lazy("动态口令"), "webauthn": gettext_lazy("通行密钥")}


class Command(BaseCommand):
    help = "安全管理员重置某个账号的双因素认证（手机丢失等）：删除其动态口令、通行密钥和恢复码，并注销其全部会话"

    def add_arguments(self, parser):
        parser.add_argument("username", help="要重置的账号")
        parser.add_argument("--by", required=True, dest="by", help="办理的安全管理员账号")
        parser.add_argument("--comment", required=True, help=f"重置原因，如“手机丢失，本人书面申请”（不超过 {RESET_COMMENT_MAX} 字）")

    def handle(self, *args, **options):
        person = Person.objects.filter(username=options["username"]).first()
        if person is None:
            raise CommandError(_("用户 %(username)s 不存在。") % {"username": options["username"]})
        actor = Person.objects.filter(username=options["by"]).first()
        if actor is None:
            raise CommandError(_("用户 %(username)s 不存在。") % {"username": options["by"]})
        with correlation():
            try:
                methods = reset_two_factor(person, actor=actor, comment=options["comment"])
            except DomainError as exc:
                raise CommandError(exc.message) from exc
        self.stdout.write(
            _("已重置 %(person)s（%(username)s）的双因素认证：删除了%(methods)s和全部恢复码，其会话已全部注销。")
            % {"person": person.display_name, "username": person.username,
               "methods": "、".join(str(METHOD_NAMES[m]) for m in methods)}
        )
        if requires_two_factor(person):
            self.stdout.write(_("该账号的角色必须使用双因素认证：下次登录时须重新绑定身份验证器或添加通行密钥。"))
