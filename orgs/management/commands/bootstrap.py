"""First start: reference data, a root department and the first system administrator."""

from __future__ import annotations

import importlib

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.context import correlation
from core.errors import DomainError
from custody.keys import ensure_log_keys
from orgs.choices import DepartmentLevel, Role
from orgs.models import Department, Person
from orgs.services import create_department, create_person, reset_password


def load_reference_data(stdout) -> None:
    """Each app may ship ``<app>/reference.py`` with ``load_reference_data(*, actor) -> str``
    (idempotent; returns a Chinese summary line). The demo data is separate (seed_demo)."""
    for config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{config.name}.reference")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.reference":
                raise
            continue
        loader = getattr(module, "load_reference_data", None)
        if loader is not None:
            summary = loader(actor=None)
            if summary:
                stdout.write(str(summary))


class Command(BaseCommand):
    help = "初始化：加载基础数据，建立根部门和首位系统管理员（可重复执行）"

    def add_arguments(self, parser):
        parser.add_argument(
            "--department-name",
            default="本级市场监督管理局",
            help="根部门名称（仅在尚无任何部门时使用）",
        )
        parser.add_argument("--department-code", default="000000", help="根部门机构代码")
        parser.add_argument(
            "--level",
            default=DepartmentLevel.CITY,
            choices=DepartmentLevel.values,
            help="根部门层级：national / province / city / county",
        )
        parser.add_argument("--admin-username", default="admin", help="首位系统管理员的用户名")
        parser.add_argument("--admin-name", default="系统管理员", help="首位系统管理员的姓名")
        parser.add_argument(
            "--reset-admin-password",
            action="store_true",
            help="管理员已存在时，为其重新生成一次性密码",
        )

    def handle(self, *args, **options):
        with correlation():
            try:
                self._run(options)
            except DomainError as exc:
                raise CommandError(exc.message) from exc

    def _run(self, options) -> None:
        load_reference_data(self.stdout)
        self._ensure_log_keys()
        root = Department.objects.filter(parent__isnull=True).order_by("pk").first()
        if root is None:
            root = create_department(
                options["department_name"],
                options["department_code"],
                options["level"],
                None,
                actor=None,
            )
            self.stdout.write(
                _("已建立根部门：%(name)s（%(code)s，%(level)s）。")
                % {"name": root.name, "code": root.code, "level": DepartmentLevel(root.level).label}
            )
        else:
            self.stdout.write(
                _("根部门已存在：%(name)s（%(code)s），未作改动。")
                % {"name": root.name, "code": root.code}
            )

        username = options["admin_username"]
        admin = Person.objects.filter(username=username).first()
        if admin is None:
            admin, password = create_person(
                username,
                options["admin_name"],
                department=root,
                roles=[Role.SYSTEM_ADMIN],
                actor=None,
            )
            self.stdout.write(
                self.style.SUCCESS(
                    _(
                        "首位管理员已创建：用户名 %(username)s，一次性密码 %(password)s（首次登录须修改）"
                    )
                    % {"username": admin.username, "password": password}
                )
            )
            self.stdout.write(_("此密码只显示这一次，请立即妥善保管。"))
        elif options["reset_admin_password"]:
            password = reset_password(admin, actor=None)
            self.stdout.write(
                self.style.WARNING(
                    _("管理员 %(username)s 的密码已重置：一次性密码 %(password)s（首次登录须修改）")
                    % {"username": admin.username, "password": password}
                )
            )
        else:
            self.stdout.write(
                _("管理员 %(username)s 已存在，密码未改动（如需重置请加 --reset-admin-password）。")
                % {"username": admin.username}
            )

    def _ensure_log_keys(self) -> None:
        """The custody log's signing keys: files outside the database, created once, never overwritten."""
        for path in ensure_log_keys():
            self.stdout.write(_("已生成保管日志签名密钥：%(path)s（请另行备份，切勿放入数据库）") % {"path": path})
