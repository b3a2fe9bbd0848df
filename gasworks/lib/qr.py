"""QR codes made here (no external service): PNG bytes, a data: URI for an <img> on a page, or an
image for a reportlab PDF (bills, cylinder labels)."""

import base64
import io

import qrcode

BOX_SIZE = 8  # pixels a module
BORDER = 2  # modules of quiet zone


def png(text: str, box_size: int = BOX_SIZE, border: int = BORDER) -> bytes:
    image = qrcode.make(text, box_size=box_size, border=border)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_uri(text: str) -> str:
    return "data:image/png;base64," + base64.b64encode(png(text)).decode()


def pdf_image(text: str):
    """A small QR code (4-pixel modules, 1-module border) for reportlab's drawImage."""
    from reportlab.lib.utils import ImageReader

    return ImageReader(io.BytesIO(png(text, box_size=4, border=1)))
