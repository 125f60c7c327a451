"""The README's environment table is generated from config/env.py and must not drift."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from django.core.management import call_command

from config.env import BASE_DIR, VARIABLES
from core.management.commands.print_env import env_table


def test_print_env_lists_every_variable_with_default():
    out = StringIO()
    call_command("print_env", stdout=out)
    text = out.getvalue()
    for var in VARIABLES:
        assert f"| `{var.name}` |" in text
    assert str(BASE_DIR) not in text  # machine paths are shown as <repo>
    assert "| `AVR_BIND` | `127.0.0.1:8000` |" in text


def test_readme_table_matches_config_env():
    readme = (Path(BASE_DIR) / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- env-table:start -->") + len("<!-- env-table:start -->")
    end = readme.index("<!-- env-table:end -->")
    assert readme[start:end].strip() == env_table().strip(), (
        "README env table is stale: paste the output of `manage.py print_env`"
    )
