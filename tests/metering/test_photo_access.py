"""The photo of a self-reading is handed out by /metering/readings/<id>/photo/: to the customer
who sent it and to staff who see or review readings; another customer gets a 404."""

import pytest
import time_machine

from tests.factories import make_customer, make_user
from tests.portal.test_self_reading import NOW, home, photo, submit  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sent(home):  # noqa: F811
    customer, meter = home
    with time_machine.travel(NOW, tick=False):
        return submit(customer, meter, "150.5")


def get(client, user, reading):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client.get(f"/metering/readings/{reading.pk}/photo/")


def test_the_sender_and_staff_who_see_readings_get_the_bytes(client, sent):
    stored = sent.photo.image.open("rb").read()
    for user in (
        make_user("customer", customer=sent.customer),
        make_user("meter_reader"),
        make_user("admin"),
    ):
        answer = get(client, user, sent)
        assert answer.status_code == 200 and b"".join(answer.streaming_content) == stored


def test_others_are_refused(client, sent):
    assert get(client, make_user("customer", customer=make_customer()), sent).status_code == 404
    assert get(client, make_user("filler"), sent).status_code == 403
    assert get(client, None, sent).status_code == 403
    client.force_login(make_user("admin"))
    assert client.get("/metering/readings/999999/photo/").status_code == 404
