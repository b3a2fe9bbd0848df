import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gasworks.errors import InvalidInput
from gasworks.safety.models import Photo
from gasworks.safety.services import hazards, photos
from gasworks.system.models import Parameter
from tests.factories import make_customer
from tests.safety.conftest import jpeg


def test_it_refuses_a_file_that_is_not_an_image(personas):
    hazard = hazards.raise_hazard(make_customer(), "key", "x", by=None)
    fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 definitely not a photo", content_type="image/jpeg")
    with pytest.raises(InvalidInput) as exc:
        photos.attach(fake, kind="rectification", by=None, hazard=hazard)
    assert exc.value.code == "not_an_image"
    assert "not a photo" in exc.value.fields["photo"][0]
    assert not Photo.objects.exists()


def test_it_refuses_an_oversized_file(personas):
    Parameter.objects.create(key="safety_photo_max_mb", value="1")
    hazard = hazards.raise_hazard(make_customer(), "key", "x", by=None)
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8" + b"0" * (1024 * 1024 + 1), content_type="image/jpeg")
    with pytest.raises(InvalidInput) as exc:
        photos.attach(big, kind="rectification", by=None, hazard=hazard)
    assert exc.value.code == "photo_too_large" and "1 MB" in exc.value.message
    assert not Photo.objects.exists()


def test_it_resizes_a_large_photo_to_a_jpeg(personas, settings):
    hazard = hazards.raise_hazard(make_customer(), "key", "x", by=None)
    photo = photos.attach(jpeg(4000, 3000), kind="rectification", by=None, hazard=hazard)
    assert (photo.width, photo.height) == (1600, 1200)
    assert photo.image.name.startswith("safety/photos/") and photo.image.name.endswith(".jpg")
    with Image.open(photo.image.path) as stored:
        assert stored.format == "JPEG" and stored.size == (1600, 1200)
    assert str(settings.MEDIA_ROOT) in photo.image.path
