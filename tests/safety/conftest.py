import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gasworks.safety.services import checklists


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def template(db):
    return checklists.ensure_standard()


def jpeg(width=64, height=48, name="site.jpg", color=(200, 30, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def all_pass(template, **overrides):
    from gasworks.safety.services.inspections import ResultInput

    return [
        ResultInput(
            item.code, overrides.get(item.code, ("pass", ""))[0], overrides.get(item.code, ("pass", ""))[1]
        )
        for item in template.items.all()
    ]


def form_token(response) -> str:
    """The one-time token of the emergency form on a rendered page."""
    match = re.search(r'name="form_token" value="([0-9a-f-]{36})"', response.content.decode())
    assert match, "no form token on the page"
    return match.group(1)
