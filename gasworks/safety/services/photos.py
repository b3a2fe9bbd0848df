"""Site photos: refuse what is not an image or is too big, straighten and shrink the rest."""

import io
import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from gasworks.errors import InvalidInput
from gasworks.safety.models import Photo
from gasworks.system import parameters

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"}
# Decompression bombs: refuse absurd pixel counts before decoding.
MAX_PIXELS = 60_000_000


def _refuse(code: str, message: str) -> InvalidInput:
    return InvalidInput(code, message, fields={"photo": [message]})


def prepare(upload) -> ContentFile:
    """Check an uploaded file and return it as a JPEG no larger than the configured size."""
    max_mb = parameters.get("safety_photo_max_mb")
    size = getattr(upload, "size", None)
    if size is None or size > max_mb * 1024 * 1024:
        raise _refuse(
            "photo_too_large",
            _("The photo is larger than %(mb)s MB: please take it at a lower resolution.") % {"mb": max_mb},
        )
    if size == 0:
        raise _refuse("not_an_image", _("The file is empty."))
    upload.seek(0)
    try:
        with Image.open(upload) as probe:
            fmt = probe.format
            if probe.width * probe.height > MAX_PIXELS:
                raise _refuse("photo_too_large", _("The photo has too many pixels."))
            probe.verify()
        upload.seek(0)
        opened = Image.open(upload)
        opened.load()
    except InvalidInput:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise _refuse("not_an_image", _("The file is not a photo (JPEG, PNG or WEBP expected).")) from exc
    if fmt not in ACCEPTED_FORMATS:
        raise _refuse("not_an_image", _("The file is not a photo (JPEG, PNG or WEBP expected)."))
    image = ImageOps.exif_transpose(opened).convert("RGB")
    limit = parameters.get("safety_photo_max_px")
    image.thumbnail((limit, limit))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.jpg")


def store(content: ContentFile, *, kind: str, by, task=None, hazard=None, caption: str = "") -> Photo:
    """Save a prepared photo (call inside the caller's transaction)."""
    photo = Photo(task=task, hazard=hazard, kind=kind, caption=caption[:120], uploaded_by=by)
    photo.uploaded_at = timezone.now()
    photo.image.save(content.name or "photo.jpg", content, save=False)
    photo.save()
    return photo


def attach(upload, *, kind: str, by, task=None, hazard=None, caption: str = "") -> Photo:
    content = prepare(upload)
    with transaction.atomic():
        return store(content, kind=kind, by=by, task=task, hazard=hazard, caption=caption)
