"""manage.py witness: the custody-log witness (custody/witness.py), for a machine with Django.

The same program as ``python -m custody.witness`` (which needs no Django settings):

    manage.py witness init --state DIR --name NAME --log-key VKEY
    manage.py witness poll --state DIR --url URL [--token T | env AVR_WITNESS_TOKEN] [--watch SECONDS]
    manage.py witness show --state DIR

Exit status: 0 co-signed or unchanged, 1 alarm (fork, rollback, invalid signature),
2 platform unreachable or unusable (or the witness state unreadable).
"""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand

from custody import witness


class Command(BaseCommand):
    help = "保管日志见证人：校验平台检查点的一致性并副署 / custody-log witness (init, poll, show)"
    requires_system_checks: list = []  # runs on a witness's machine: no database, no platform keys

    def add_arguments(self, parser):
        witness.add_arguments(parser)

    def handle(self, *args, **options):
        code = witness.run(argparse.Namespace(**options), out=self.stdout, err=self.stderr)
        if code:
            raise SystemExit(code)
