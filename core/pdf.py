"""PDFs in Chinese (fpdf2 with the CJK font of AVR_PDF_FONT): one place that loads the font.

The printable checkpoint (custody.printable) and the external provision approval form
(access.approval_form) both start from ``cjk_pdf()``: an A4 document with the font family
``"cjk"`` registered (regular, and bold when the font's bold sibling is installed; otherwise
the regular face stands in for bold so that table headings never fail).
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import DomainError

FAMILY = "cjk"
# In a Noto CJK collection (.ttc) font number 2 is the Simplified Chinese face.
TTC_SIMPLIFIED_CHINESE = 2

# fontTools reports each subsetting step at INFO; the platform's log is not the place for it
logging.getLogger("fontTools").setLevel(logging.WARNING)


class PdfFontMissing(DomainError):
    code = "pdf_font_missing"
    status = 503


def font_path() -> Path:
    """The configured CJK font; ``PdfFontMissing`` (Chinese message) when it is not there."""
    font = Path(settings.PDF_FONT)
    if not font.is_file():
        raise PdfFontMissing(
            _("找不到中文字体文件 %(font)s（请安装 fonts-noto-cjk 或设置 AVR_PDF_FONT），无法生成 PDF。")
            % {"font": font}
        )
    return font


def _options(font: Path) -> dict:
    return {"collection_font_number": TTC_SIMPLIFIED_CHINESE} if font.suffix.lower() == ".ttc" else {}


def _bold_sibling(font: Path) -> Path | None:
    if "Regular" not in font.name:
        return None
    bold = font.with_name(font.name.replace("Regular", "Bold"))
    return bold if bold.is_file() else None


def add_cjk_fonts(pdf) -> None:
    """Register the ``cjk`` family (regular and bold) on ``pdf``."""
    font = font_path()
    pdf.add_font(FAMILY, fname=str(font), **_options(font))
    bold = _bold_sibling(font) or font
    pdf.add_font(FAMILY, style="B", fname=str(bold), **_options(bold))


def cjk_pdf(*, title: str = "", pdf_class=None):
    """An A4 portrait FPDF (or ``pdf_class``) with the ``cjk`` family registered and set."""
    from fpdf import FPDF

    cls = pdf_class or FPDF
    pdf = cls(format="A4")
    if title:
        pdf.set_title(title)
    pdf.set_creator(str(_("执法音像记录管理平台")))
    add_cjk_fonts(pdf)
    pdf.set_font(FAMILY, size=10)
    return pdf
