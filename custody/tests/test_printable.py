"""The printable checkpoint for the paper file (ACC-5): its text is a checkpoint verify_custody
accepts from outside the database, and its PDF carries the same lines in Chinese."""

from __future__ import annotations

import re
import zlib

import pytest
from django.core.management import call_command
from django.urls import reverse

from core.testing import make_person
from custody.checkpoints import make_checkpoint
from custody.choices import EventCode
from custody.keys import ensure_log_keys
from custody.printable import checkpoint_pdf, checkpoint_text, write_daily
from custody.sequencer import integrate_all
from custody.services import record_event, verify_custody_chain

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-5")]


@pytest.fixture
def checkpoint():
    ensure_log_keys()
    for i in range(6):
        record_event(EventCode.LOGIN, actor=None, subject=("system", ""), details={"i": i})
    integrate_all()
    return make_checkpoint()


def _note_from(text: str) -> str:
    """What a person types back in from the paper: the lines between the two markers."""
    body = text.split("——\n", 1)[1].split("\n\n—— ", 1)[0]
    return body + "\n"


def test_text_names_size_root_and_every_signature_and_verifies_as_an_external_checkpoint(checkpoint):
    text = checkpoint_text(checkpoint)
    assert f"树大小（事件数）：{checkpoint.size}" in text and checkpoint.root in text
    note = _note_from(text)
    assert note == checkpoint.note  # the signed note, verbatim
    assert verify_custody_chain(external_checkpoints=[note]).status == "pass"
    forged = note.replace(note.split("\n")[2], "A" * 43 + "=")
    result = verify_custody_chain(external_checkpoints=[forged])
    assert result.status == "fail" and any(f["problem"] == "checkpoint_signature" for f in result.findings)


def _unicode_in_pdf(pdf: bytes) -> str:
    """Characters the PDF's ToUnicode maps declare (what a reader extracts as text)."""
    chars = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            data = zlib.decompress(stream)
        except zlib.error:
            data = stream  # fpdf2 writes the ToUnicode map uncompressed
        for hex_value in re.findall(rb"<[0-9A-Fa-f]+> <([0-9A-Fa-f]{4})>", data):
            chars.append(chr(int(hex_value, 16)))
    return "".join(chars)


def test_pdf_embeds_a_chinese_font_with_the_text(checkpoint):
    pdf = checkpoint_pdf(checkpoint)
    assert pdf.startswith(b"%PDF-")
    mapped = _unicode_in_pdf(pdf)
    assert set("保管链检查点根哈希核对人签字") <= set(mapped)


def test_without_the_font_the_text_is_still_written(checkpoint, settings, tmp_path):
    settings.PDF_FONT = tmp_path / "missing.ttc"
    paths = write_daily(checkpoint, tmp_path / "out")
    assert [p.suffix for p in paths] == [".txt"]
    assert checkpoint.root in paths[0].read_text(encoding="utf-8")


def test_command_and_audit_download(checkpoint, tmp_path, client, capsys):
    out = tmp_path / "paper"
    call_command("print_checkpoint", "--size", str(checkpoint.size), "--out", str(out))
    written = sorted(p.suffix for p in out.iterdir())
    assert written == [".pdf", ".txt"]
    url = reverse("web:audit_checkpoint_pdf", args=[checkpoint.size])
    client.force_login(make_person("audit_admin"))
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    client.force_login(make_person("system_admin"))
    assert client.get(url).status_code == 403
