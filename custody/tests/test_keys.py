"""The log signing keys: files outside the database, created once, printed, rotated."""

from __future__ import annotations

import stat
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from custody import keys
from custody.choices import EventCode
from custody.models import Event
from custody.verifier import note

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def key_files(tmp_path, settings):
    settings.LOG_KEY_FILE = tmp_path / "keys" / "log-ed25519.key"
    settings.LOG_SM2_KEY_FILE = tmp_path / "keys" / "log-sm2.key"
    settings.LOG_SM2 = True
    settings.LOG_ORIGIN = "avrecords.test/custody"
    return tmp_path / "keys"


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_keys_created_0600_in_0700_folder_and_never_overwritten(key_files):
    created = keys.ensure_log_keys()
    assert created == [key_files / "log-ed25519.key", key_files / "log-sm2.key"]
    assert stat.S_IMODE(key_files.stat().st_mode) == 0o700
    for path in created:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = [p.read_bytes() for p in created]
    assert keys.ensure_log_keys() == []
    assert [p.read_bytes() for p in created] == before


def test_origin_defaults_to_root_department_code(settings):
    from orgs.choices import DepartmentLevel
    from orgs.services import create_department

    settings.LOG_ORIGIN = ""
    assert keys.log_origin() == "avrecords.example"
    create_department("某市市场监督管理局", "C0571", DepartmentLevel.CITY, None, actor=None)
    assert keys.log_origin() == "avrecords.example/C0571"


def test_log_key_prints_c2sp_verifier_key():
    keys.ensure_log_keys()
    lines = run("log_key").split()
    parsed = note.VerifierKey.parse(lines[0])
    assert parsed.name == "avrecords.test/custody" and parsed.alg == note.ALG_ED25519
    assert parsed.public == keys.load_ed25519().public
    name, kid, blob = lines[1].split("+", 2)
    assert name == "avrecords.test/custody" and bytes.fromhex(kid) == keys.load_sm2().key_id
    assert note.b64decode(blob)[:4] == keys.SM2_TYPE


def test_log_key_without_key_file_says_so_in_chinese():
    with pytest.raises(CommandError, match="密钥文件不存在"):
        run("log_key")


def test_bootstrap_creates_the_keys(key_files):
    out = run("bootstrap")
    assert "已生成保管日志签名密钥" in out and (key_files / "log-ed25519.key").exists()
    assert "已生成" not in run("bootstrap")


def test_rotate_keeps_old_key_beside_new_one(key_files):
    keys.ensure_log_keys()
    old_text = keys.public_key_texts()[0]
    old_bytes = (key_files / "log-ed25519.key").read_bytes()
    events = Event.objects.count()
    out = run("log_key", "--rotate")
    new_text = keys.public_key_texts()[0]
    assert new_text != old_text and new_text in out and old_text in out
    retired = sorted(key_files.glob("log-ed25519.key.retired-*"))
    assert len(retired) == 1 and retired[0].read_bytes() == old_bytes
    assert stat.S_IMODE((key_files / "log-ed25519.key").stat().st_mode) == 0o600
    assert len(list(key_files.glob("log-sm2.key.retired-*"))) == 1
    if getattr(EventCode, "LOG_KEY_ROTATED", None) is None:
        assert Event.objects.count() == events and "未记入保管链" in out
    else:
        event = Event.objects.order_by("-pk").first()
        assert event.action == EventCode.LOG_KEY_ROTATED
        assert event.details["keys"][0]["old"] == old_text


def test_rotate_without_a_key_refuses():
    with pytest.raises(CommandError, match="密钥文件不存在"):
        run("log_key", "--rotate")
