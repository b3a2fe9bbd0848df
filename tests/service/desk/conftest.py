import datetime as dt
import io
import itertools
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from gasworks.lib import events
from gasworks.metering import services as metering
from gasworks.service.desk import services

_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def make_meter(customer, kind="diaphragm", value="100"):
    return metering.install_meter(
        f"SD{next(_serial):06d}",
        customer.premises,
        kind=kind,
        initial_reading=Decimal(value),
        installed_on=timezone.localdate() - dt.timedelta(days=30),
    )


def started(customer, kind, by, worker=None, description="please"):
    """A request of ``kind`` opened, assigned to ``worker`` (or ``by``) and started."""
    req = services.open_request(customer, kind, description, source="phone", by=by)
    req = services.assign(req, worker or by, by=by)
    return services.start(req, by=by)


def jpeg(name="job.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def published():
    """The desk's events published while the test runs (delivered at once or on commit)."""
    from gasworks.service.desk.events import DisconnectionDone, ReconnectionDone

    seen: list = []
    for kind in (DisconnectionDone, ReconnectionDone):
        events.subscribe(kind, seen.append, in_transaction=True)
    yield seen
    for kind in (DisconnectionDone, ReconnectionDone):
        events.unsubscribe(kind, seen.append)
