"""Photos are handed out by /safety/photos/<id>/ to whoever may see the page they are shown on
(an inspection's: staff with the permission; a hazard's: those staff and the customer concerned),
by session or API token; never from a public /media/ address."""

import datetime

import pytest
from rest_framework.authtoken.models import Token

from gasworks.safety.services import hazards, inspections, photos
from tests.safety.conftest import jpeg

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def task_photo(personas):
    task = inspections.create_task(personas["own_customer"], datetime.date(2026, 5, 1))
    return photos.attach(jpeg(), kind="inspection", by=None, task=task)


@pytest.fixture
def hazard_photos(personas):
    """A photo of the customer's own hazard and one of another account's."""
    own = hazards.raise_hazard(personas["own_customer"], "key", "rusty hose", by=None)
    other = hazards.raise_hazard(personas["other_customer"], "key", "rusty hose", by=None)
    return (
        photos.attach(jpeg(), kind="rectification", by=None, hazard=own),
        photos.attach(jpeg(), kind="rectification", by=None, hazard=other),
    )


def get(client, user, photo):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client.get(f"/safety/photos/{photo.pk}/")


def test_staff_with_the_permission_get_the_bytes(client, personas, task_photo, hazard_photos):
    stored = task_photo.image.open("rb").read()
    for role in ("inspector", "admin"):
        answer = get(client, personas[role], task_photo)
        assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
        assert body(answer) == stored and answer["Cache-Control"] == "private, no-store"
    assert get(client, personas["inspector"], hazard_photos[1]).status_code == 200


def test_the_customer_concerned_sees_its_hazard_photo_and_nobody_else_does(client, personas, hazard_photos):
    own, other = hazard_photos
    answer = get(client, personas["customer"], own)
    assert answer.status_code == 200 and body(answer) == own.image.open("rb").read()
    # Another account's photo, and an inspection's (not on any portal page): as if missing.
    assert get(client, personas["customer"], other).status_code == 404


def test_a_customer_does_not_see_an_inspection_photo(client, personas, task_photo):
    assert get(client, personas["customer"], task_photo).status_code == 404


def test_a_role_without_the_permission_and_an_anonymous_user_are_refused(client, personas, task_photo):
    assert get(client, personas["filler"], task_photo).status_code == 403
    assert get(client, None, task_photo).status_code == 403


def test_an_api_client_fetches_it_with_its_token(client, personas, task_photo):
    client.logout()
    token = Token.objects.create(user=personas["inspector"])
    url = f"/safety/photos/{task_photo.pk}/"
    answer = client.get(url, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert answer.status_code == 200 and body(answer) == task_photo.image.open("rb").read()
    assert client.get(url, HTTP_AUTHORIZATION="Token " + "0" * 40).status_code == 403


def test_a_missing_photo_is_404_and_there_is_no_media_route(client, personas, task_photo):
    client.force_login(personas["admin"])
    assert client.get("/safety/photos/999999/").status_code == 404
    assert client.get(f"/media/{task_photo.image.name}").status_code == 404
    task_photo.image.storage.delete(task_photo.image.name)
    assert client.get(f"/safety/photos/{task_photo.pk}/").status_code == 404
