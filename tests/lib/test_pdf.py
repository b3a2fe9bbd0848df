"""Every PDF embeds its font (a subset), spaces Latin text right and breaks lines by width in
both scripts: the bill, the receipt, the rectification notice and the cylinder labels. The PDFs
are written to PDF_DIR (when set) to be rendered with pdftoppm and looked at."""

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import time_machine
from pypdf import PdfReader

from gasworks.billing import runs
from gasworks.billing.models import Bill
from gasworks.billing.pdf import render_bill
from gasworks.cylinders.labels import label_sheet
from gasworks.lib.pdf import font, wrap
from gasworks.payments import receipts
from gasworks.payments import services as payments
from gasworks.safety.pdf import rectification_notice
from gasworks.safety.services import hazards
from gasworks.system.models import Parameter
from tests.billing.helpers import beijing, local, read
from tests.cylinders.helpers import make_cylinder
from tests.factories import make_customer, make_user

DESCRIPTION = (
    "The hose to the cooker is cracked and the pipe clip is loose: the new hose must be clamped "
    "at both ends before the gas is turned on again. 灶前软管老化开裂，管卡松动，须更换软管并在两端用管卡固定后方可恢复用气。"
)


def test_latin_words_break_at_spaces_and_cjk_between_characters():
    font()
    lines = wrap(DESCRIPTION, 200, 12)
    words = [w for line in lines for w in line.split(" ") if w and w.isascii()]
    assert "clamped" in words and "".join(lines).replace(" ", "") == DESCRIPTION.replace(" ", "")
    assert all(len(line) > 0 for line in lines)
    latin = " ".join(line for line in lines if line.isascii())
    assert latin.split() == DESCRIPTION.split("灶")[0].split()[: len(latin.split())]  # no word cut
    chinese = [line for line in lines if not line.isascii()]
    assert len(chinese) >= 2 and not any(line[0] in "，。：；" for line in chinese)


def test_a_word_longer_than_a_line_is_cut_and_nothing_is_lost():
    word = "Gasworks" * 12
    lines = wrap(word, 100, 10)
    assert len(lines) > 1 and "".join(lines) == word


@pytest.fixture
def documents(personas, settings):
    """The four PDFs, with Latin and Chinese text in the parts that wrap."""
    Parameter.objects.create(key="station_name", value="Gasworks Station 城东燃气站")
    beijing()
    customer = make_customer(
        name="Gasworks Tester 张三",
        address="Building 7, Unit 3, Riverside Gardens, 朝阳区望京街道8号院3单元402室",
    )
    read(customer, 120, local(2026, 10, 3))
    with time_machine.travel(local(2026, 11, 1), tick=False):
        runs.execute(runs.start_run("2026-10"))
    bill = Bill.objects.get(customer=customer)
    payment = payments.take_counter_payment(customer, "123.45", "cash", make_user("cashier"), "200")
    hazard = hazards.raise_hazard(customer, "major", DESCRIPTION, by=None)
    cylinders = [make_cylinder(code=f"LBL-{n:04d}") for n in range(5)]
    made = {
        "bill-en": render_bill(bill, "en"),
        "bill-zh": render_bill(bill, "zh-hans"),
        "receipt": receipts.render(payment),
        "notice": rectification_notice(hazard),
        "labels": label_sheet(cylinders, lambda code: f"https://gas.example.com/c/{code}"),
    }
    if os.environ.get("PDF_DIR"):
        out = Path(os.environ["PDF_DIR"])
        out.mkdir(parents=True, exist_ok=True)
        for name, pdf in made.items():
            (out / f"{name}.pdf").write_bytes(pdf)
    return made


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _fonts(pdf: bytes) -> set:
    """(name, embedded) of every font of every page, from the PDF's own resources."""
    found = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            found.add((str(font["/BaseFont"]), embedded))
    return found


@pytest.mark.django_db
def test_every_pdf_embeds_a_subset_of_its_font(documents):
    for name, pdf in documents.items():
        fonts = _fonts(pdf)
        assert fonts and all(embedded for _font, embedded in fonts), (name, fonts)
        # A subset's name carries a six-letter tag: ABCDEF+Name (PDF 32000-1, 9.6.4).
        assert all(re.match(r"/?[A-Z]{6}\+", font) for font, _embedded in fonts), (name, fonts)


@pytest.mark.django_db
@pytest.mark.skipif(not shutil.which("pdffonts"), reason="poppler-utils not installed")
def test_pdffonts_sees_every_font_embedded_and_subset(documents, tmp_path):
    for name, pdf in documents.items():
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(pdf)
        rows = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        fonts = rows.splitlines()[2:]
        assert fonts, name
        for row in fonts:
            emb, sub = row.split()[-5:-3]
            assert (emb, sub) == ("yes", "yes"), (name, row)


@pytest.mark.django_db
def test_latin_text_is_spaced_right_and_words_are_not_broken(documents):
    for name in ("bill-en", "bill-zh", "receipt", "notice"):
        text = _text(documents[name])
        assert "Gasworks Station" in text, (name, text[:300])
    assert "Gasworks Tester" in _text(documents["bill-en"])
    notice = _text(documents["notice"])
    words = set(DESCRIPTION.split())
    described = notice.split("隐患描述")[1].split("经入户")[0]
    printed = [w for line in described.splitlines() for w in line.split() if w.isascii()]
    assert "clamped" in printed and set(printed) <= words  # no Latin word cut across lines
    assert "灶前软管老化开裂" in notice.replace("\n", "")
    assert "Riverside Gardens" in _text(documents["receipt"])  # the whole address, not cut at 40
    assert "LBL-0000" in _text(documents["labels"])
