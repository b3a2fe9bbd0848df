"""Site photos: refuse what is not an image or is too big, straighten and shrink the rest."""

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from gasworks.lib import images
from gasworks.safety.models import Photo
from gasworks.system import parameters


def prepare(upload) -> ContentFile:
    """Check an uploaded file and return it as a JPEG no larger than the configured size."""
    return images.prepare(
        upload, parameters.get("safety_photo_max_mb"), parameters.get("safety_photo_max_px")
    )


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
