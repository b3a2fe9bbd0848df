"""QR label sheets: an A4 grid of labels, each a QR code of the public scan URL plus the code,
model and tare, for printing on self-adhesive sheets."""

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from gasworks.lib import qr
from gasworks.lib.pdf import canvas as pdf_canvas
from gasworks.lib.pdf import font

COLUMNS, ROWS = 3, 8
MARGIN_X, MARGIN_Y = 8 * mm, 10 * mm


def label_sheet(cylinders, url_for) -> bytes:
    """PDF bytes; url_for(code) gives the absolute scan URL printed into each QR code."""
    name = font()  # embedded, like every PDF's font (Helvetica was not)
    out = io.BytesIO()
    pdf = pdf_canvas(out, A4)
    pdf.setTitle("Cylinder labels")
    width, height = A4
    cell_w = (width - 2 * MARGIN_X) / COLUMNS
    cell_h = (height - 2 * MARGIN_Y) / ROWS
    per_page = COLUMNS * ROWS
    cylinders = list(cylinders)
    for index, cylinder in enumerate(cylinders):
        if index and index % per_page == 0:
            pdf.showPage()
        slot = index % per_page
        x = MARGIN_X + (slot % COLUMNS) * cell_w
        y = height - MARGIN_Y - (slot // COLUMNS + 1) * cell_h
        pdf.setLineWidth(0.3)
        pdf.rect(x + 1 * mm, y + 1 * mm, cell_w - 2 * mm, cell_h - 2 * mm)
        qr_size = cell_h - 6 * mm
        pdf.drawImage(qr.pdf_image(url_for(cylinder.code)), x + 3 * mm, y + 3 * mm, qr_size, qr_size)
        text_x = x + qr_size + 5 * mm
        pdf.setFont(name, 11)
        pdf.drawString(text_x, y + cell_h - 9 * mm, cylinder.code)
        pdf.setFont(name, 8)
        for n, line in enumerate(
            (
                cylinder.model,
                f"tare {cylinder.tare_kg} kg",
                f"made {cylinder.manufactured_on:%Y-%m}",
                f"scrap {cylinder.scrap_on:%Y-%m}",
            )
        ):
            pdf.drawString(text_x, y + cell_h - (14 + 4 * n) * mm, line)
    if not cylinders:
        pdf.setFont(name, 10)
        pdf.drawString(MARGIN_X, height - MARGIN_Y - 10 * mm, "No cylinders selected.")
    pdf.showPage()
    pdf.save()
    return out.getvalue()
