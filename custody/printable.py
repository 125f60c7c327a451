"""The printable checkpoint for the paper file: the tree's size, root hash and every signature
line, as plain text and as a one-page PDF (fpdf2, a CJK font from AVR_PDF_FONT).

Printed and signed by hand, it is a checkpoint held outside every computer: anyone can later
type its text back in (``manage.py verify_custody --checkpoint``) and check the log against it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.pdf import PdfFontMissing, cjk_pdf
from custody.checkpoints import cosigned_note
from custody.keys import public_key_texts
from custody.models import Checkpoint
from custody.verifier import note


def checkpoint_text(checkpoint: Checkpoint, *, printed_at: datetime | None = None) -> str:
    printed_at = timezone.localtime(printed_at or timezone.now())
    cp = note.parse_checkpoint(cosigned_note(checkpoint))
    created = timezone.localtime(checkpoint.created_at)
    lines = [
        _("执法音像记录管理平台 · 保管链检查点（纸质存档联）"),
        "",
        _("来源：%(origin)s") % {"origin": cp.origin},
        _("树大小（事件数）：%(size)s") % {"size": cp.size},
        _("根哈希（SHA-256，十六进制）：%(root)s") % {"root": checkpoint.root},
        _("签发时间：%(t)s") % {"t": created.strftime("%Y-%m-%d %H:%M:%S %z")},
        _("打印时间：%(t)s") % {"t": printed_at.strftime("%Y-%m-%d %H:%M:%S %z")},
        _("签名行：%(n)s 行（平台签名及见证人联署）") % {"n": len(cp.signatures)},
        "",
        _("—— 检查点原文（C2SP tlog-checkpoint，逐字保存，可用于 verify_custody --checkpoint）——"),
        cosigned_note(checkpoint).rstrip("\n"),
        "",
        _("—— 平台公钥 ——"),
        *public_key_texts(),
        "",
        _("核对人签字：____________________    日期：____________"),
    ]
    return "\n".join(lines) + "\n"


def checkpoint_pdf(checkpoint: Checkpoint, *, printed_at: datetime | None = None) -> bytes:
    try:
        pdf = cjk_pdf(title=_("保管链检查点 %(size)s") % {"size": checkpoint.size})
    except PdfFontMissing as exc:
        raise DomainError(exc.message + _("文本版不受影响。")) from exc
    pdf.add_page()
    pdf.set_font("cjk", size=9)
    for line in checkpoint_text(checkpoint, printed_at=printed_at).splitlines():
        # long base64 signature lines wrap at any character
        pdf.multi_cell(0, 5, line or " ", wrapmode="CHAR", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def write_daily(checkpoint: Checkpoint, directory: Path | None = None) -> list[Path]:
    """Text and PDF of ``checkpoint`` under $AVR_VAR_DIR/checkpoints/, named by local date."""
    directory = directory or Path(settings.VAR_DIR) / "checkpoints"
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"{timezone.localtime(checkpoint.created_at):%Y-%m-%d}-{checkpoint.size}"
    written = [stem.with_suffix(".txt")]
    written[0].write_text(checkpoint_text(checkpoint), encoding="utf-8")
    try:
        pdf = checkpoint_pdf(checkpoint)
    except DomainError:
        return written  # the text is the record; the PDF is a convenience
    stem.with_suffix(".pdf").write_bytes(pdf)
    return [*written, stem.with_suffix(".pdf")]
