"""A request's photos are handed out by /service/requests/<id>/photos/<photo>/ under the rules of
the request's page: its customer, staff whose role owns the kind (or who opened or hold it), the
overseers; another customer's or a request out of a role's sight is a 404."""

import pytest

from gasworks.service.desk import services
from tests.factories import make_customer, make_user
from tests.service.desk.conftest import jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def repair_photo(personas):
    boss = personas["dispatcher"]
    req = services.open_request(personas["own_customer"], "repair", "leaking valve", source="phone", by=boss)
    return services.add_photo(req, jpeg(), by=boss, caption="valve")


def get(client, user, photo, request_id=None):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client.get(f"/service/requests/{request_id or photo.request_id}/photos/{photo.pk}/")


def test_the_customer_and_the_staff_who_see_the_request_get_the_bytes(client, personas, repair_photo):
    stored = repair_photo.image.open("rb").read()
    for user in (personas["customer"], personas["dispatcher"], personas["manager"]):
        answer = get(client, user, repair_photo)
        assert answer.status_code == 200 and b"".join(answer.streaming_content) == stored
    page = client.get(f"/service/requests/{repair_photo.request_id}/").content.decode()
    assert f"/service/requests/{repair_photo.request_id}/photos/{repair_photo.pk}/" in page


def test_others_are_refused(client, personas, repair_photo):
    stranger = make_user("customer", customer=make_customer())
    assert get(client, stranger, repair_photo).status_code == 404
    assert get(client, personas["cashier"], repair_photo).status_code == 404  # a kind it does not own
    assert get(client, personas["filler"], repair_photo).status_code == 403
    assert get(client, None, repair_photo).status_code == 403


def test_a_photo_asked_for_under_another_request_is_404(client, personas, repair_photo):
    other = services.open_request(
        personas["own_customer"], "repair", "x", source="phone", by=personas["dispatcher"]
    )
    assert get(client, personas["dispatcher"], repair_photo, request_id=other.pk).status_code == 404
