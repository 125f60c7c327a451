"""manage.py print_env: the environment-variable table for the README, from config/env.py."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from config.env import BASE_DIR, VARIABLES


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def env_table() -> str:
    lines = [
        "| "
        + _("变量 / variable")
        + " | "
        + _("默认值 / default")
        + " | "
        + _("说明 / meaning")
        + " |",
        "|---|---|---|",
    ]
    for var in VARIABLES:
        if var.default:
            default = "`" + _cell(var.default.replace(str(BASE_DIR), "<repo>")) + "`"
        else:
            default = _("（空）")
        lines.append(f"| `{var.name}` | {default} | {_cell(var.help)} |")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "打印环境变量表（Markdown）/ print the environment-variable table as Markdown"

    def handle(self, *args, **options):
        self.stdout.write(env_table())
