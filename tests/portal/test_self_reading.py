"""Self-reading with a photo (自报读数): through VEE, flagged ones to the review queue with their
photo, and every refusal a clear 4xx with nothing stored."""

import io
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gasworks.errors import DomainError, InvalidInput
from gasworks.metering import self_reading, services
from gasworks.metering.models import Reading, ReadingPhoto, ReadingSource
from gasworks.system.models import Parameter
from tests.factories import make_customer, make_user
from tests.metering.helpers import make_meter
from tests.portal.helpers import local_time

pytestmark = pytest.mark.django_db
NOW = local_time(2026, 3, 10, 19, 30)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def photo(name="meter.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (20, 20, 20)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def home():
    """A customer with a meter read monthly since January (about 20 m³ a month)."""
    customer = make_customer()
    meter = make_meter(customer, installed_on=NOW.date().replace(month=1, day=1))
    for month, value in ((1, "120"), (2, "141")):
        services.record_reading(meter, value, local_time(2026, month + 1, 1, 9), now=NOW)
    return customer, meter


def submit(customer, meter, value, **kw):
    kw.setdefault("photo", photo())
    return self_reading.submit(customer, meter.pk, value, kw.pop("photo"), by=None, now=NOW, **kw)


def stored():
    return Reading.objects.filter(source=ReadingSource.SELF).count(), ReadingPhoto.objects.count()


def test_a_plausible_reading_is_accepted_with_its_photo(home):
    customer, meter = home
    reading = submit(customer, meter, "150.5")
    assert (reading.status, reading.source, reading.consumption) == ("accepted", "self", Decimal("9.500"))
    assert reading.taken_at == NOW.replace(second=0) and reading.customer_id == customer.pk
    assert reading.photo.image.name.startswith("readings/")


def test_an_unusual_reading_is_flagged_and_waits_for_review_with_its_photo(home, client):
    customer, meter = home
    reading = submit(customer, meter, "5000")  # more than the meter can pass since February
    assert reading.status == "flagged" and "spike" in reading.flags
    assert list(services.review_queue()) == [reading]
    client.force_login(make_user("admin"))
    page = client.get("/metering/review/").content.decode()
    assert 'data-testid="reading-photo"' in page and f"/metering/readings/{reading.pk}/photo/" in page
    assert "/media/" not in page


@pytest.mark.parametrize(
    ("value", "kw", "code"),
    [
        ("130", {}, "goes_backwards"),  # below February's 141
        ("abc", {}, "invalid"),
        ("-3", {}, "invalid"),
        ("150", {"read_at": NOW.replace(hour=21)}, "future_time"),
        ("150", {"read_at": local_time(2026, 3, 9, 22)}, "not_today"),
        ("150", {"photo": None}, "photo_required"),
        ("150", {"photo": SimpleUploadedFile("x.jpg", b"not a photo at all")}, "not_an_image"),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(home, value, kw, code):
    customer, meter = home
    with pytest.raises(InvalidInput) as refused:
        submit(customer, meter, value, **kw)
    assert refused.value.code == code and refused.value.status == 400
    assert stored() == (0, 0)


def test_one_reading_per_meter_per_day_from_the_portal_by_parameter(home):
    customer, meter = home
    submit(customer, meter, "150")
    with pytest.raises(DomainError) as refused:
        submit(customer, meter, "151", read_at=local_time(2026, 3, 10, 19, 10))
    assert (refused.value.code, refused.value.status) == ("daily_limit", 409)
    assert stored() == (1, 1)
    Parameter.objects.create(key="self_readings_per_day", value="3")
    submit(customer, meter, "151", read_at=local_time(2026, 3, 10, 19, 10))
    assert stored() == (2, 2)


def test_twice_the_same_minute_is_refused(home):
    customer, meter = home
    Parameter.objects.create(key="self_readings_per_day", value="5")
    submit(customer, meter, "150", read_at=local_time(2026, 3, 10, 19, 0))
    with pytest.raises(InvalidInput) as refused:
        submit(customer, meter, "150.2", read_at=local_time(2026, 3, 10, 19, 0))
    assert refused.value.code == "same_minute"
    assert stored() == (1, 1)


def test_another_customers_meter_is_refused(home):
    _customer, meter = home
    with pytest.raises(InvalidInput) as refused:
        submit(make_customer(), meter, "150")
    assert refused.value.code == "unknown_meter"
    assert stored() == (0, 0)


def test_the_page_takes_a_reading_and_says_when_it_goes_to_review(home, client):
    customer, meter = home
    client.force_login(make_user("customer", customer=customer))
    with time_machine.travel(NOW, tick=False):
        assert client.get("/metering/portal/reading/").status_code == 200
        response = client.post(
            "/metering/portal/reading/", {"meter": meter.pk, "value": "5000", "photo": photo()}, follow=True
        )
    text = response.content.decode()
    assert "our staff check it with the photo" in text and "Being checked" in text


def test_the_page_answers_a_refusal_with_a_4xx_and_writes_nothing(home, client):
    customer, meter = home
    client.force_login(make_user("customer", customer=customer))
    with time_machine.travel(NOW, tick=False):
        backwards = client.post(
            "/metering/portal/reading/", {"meter": meter.pk, "value": "100", "photo": photo()}
        )
        no_meter = client.post(
            "/metering/portal/reading/", {"meter": "999999", "value": "150", "photo": photo()}
        )
        submit(customer, meter, "150")
        again = client.post(
            "/metering/portal/reading/", {"meter": meter.pk, "value": "152", "photo": photo()}
        )
    assert backwards.status_code == 400 and "is below the last reading" in backwards.content.decode()
    assert no_meter.status_code == 400
    assert again.status_code == 409 and "already sent a reading" in again.content.decode()
    assert stored() == (1, 1)


def test_staff_may_not_use_the_customer_page(client):
    client.force_login(make_user("meter_reader"))
    assert client.get("/metering/portal/reading/").status_code == 403
