"""Photos people upload (a site photo, a meter's register): refuse what is not an image or is
too big, straighten by its EXIF orientation and shrink it to a JPEG of bounded size."""

import io
import uuid

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from gasworks.errors import InvalidInput

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"}
# Decompression bombs: refuse absurd pixel counts before decoding.
MAX_PIXELS = 60_000_000


def _refuse(code: str, message: str, field: str) -> InvalidInput:
    return InvalidInput(code, message, fields={field: [message]})


def prepare(upload, max_mb: int, max_px: int, field: str = "photo") -> ContentFile:
    """Check an uploaded file and return it as a JPEG at most ``max_px`` on its long side;
    a file that is empty, larger than ``max_mb`` or not a photo raises InvalidInput on ``field``."""
    size = getattr(upload, "size", None)
    if size is None or size > max_mb * 1024 * 1024:
        raise _refuse(
            "photo_too_large",
            _("The photo is larger than %(mb)s MB: please take it at a lower resolution.") % {"mb": max_mb},
            field,
        )
    if size == 0:
        raise _refuse("not_an_image", _("The file is empty."), field)
    upload.seek(0)
    try:
        with Image.open(upload) as probe:
            fmt = probe.format
            if probe.width * probe.height > MAX_PIXELS:
                raise _refuse("photo_too_large", _("The photo has too many pixels."), field)
            probe.verify()
        upload.seek(0)
        opened = Image.open(upload)
        opened.load()
    except InvalidInput:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise _refuse(
            "not_an_image", _("The file is not a photo (JPEG, PNG or WEBP expected)."), field
        ) from exc
    if fmt not in ACCEPTED_FORMATS:
        raise _refuse("not_an_image", _("The file is not a photo (JPEG, PNG or WEBP expected)."), field)
    image = ImageOps.exif_transpose(opened).convert("RGB")
    image.thumbnail((max_px, max_px))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.jpg")
