"""Object storage at its HTTP layer: moto's S3 server on a free local port, a real HTTP S3 that
boto3 signs its requests to. A photo uploaded through the API lands in the bucket and comes back
through the photo view as a redirect to a presigned link that works when fetched; a background
export is written to the bucket by the worker side and downloaded the same way; old exports leave
the bucket."""

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
import time_machine
from django.core.files.storage import default_storage
from django.utils import timezone
from moto.server import ThreadedMotoServer

from gasworks.env import object_storage_origins
from gasworks.reports import background
from gasworks.reports.models import Export
from gasworks.safety.services import inspections
from gasworks.system.services import set_parameters
from tests.factories import make_customer
from tests.safety.conftest import jpeg

pytestmark = pytest.mark.django_db
KEYS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch):
    """A fresh bucket, made the default storage exactly as settings.py does for OBJECT_STORAGE_*."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    name = f"gasworks-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
        region_name=KEYS["region_name"],
    )
    s3.create_bucket(Bucket=name)
    options = {
        "bucket_name": name,
        "endpoint_url": s3_endpoint,
        "addressing_style": "path",
        "querystring_expire": 120,
        **KEYS,
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "gasworks.lib.storage.ObjectStorage", "OPTIONS": options},
    }
    s3.bucket = name
    s3.options = options
    return s3


def keys(s3) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=s3.bucket).get("Contents", [])]


def presigned(response, expected_start: str) -> str:
    """The Location of a redirect to a presigned link, checked to be one."""
    assert response.status_code == 302 and response["Cache-Control"] == "private, no-store"
    link = response["Location"]
    query = parse_qs(urlsplit(link).query)
    assert link.startswith(expected_start)
    assert query["X-Amz-Expires"] == ["120"] and query["X-Amz-Signature"] and query["X-Amz-Credential"]
    return link


def test_a_photo_uploaded_through_the_api_lands_in_the_bucket_and_comes_back_presigned(
    client, personas, bucket
):
    client.force_login(personas["inspector"])
    task = inspections.create_task(personas["own_customer"], timezone.localdate() + timedelta(days=3))
    answer = client.post(f"/api/v1/inspections/{task.pk}/photos/", {"photo": jpeg(name="meter box.jpg")})
    assert answer.status_code == 201, answer.content
    photo = task.photos.get()
    assert keys(bucket) == [photo.image.name] and photo.image.name.startswith("safety/photos/")
    stored = bucket.get_object(Bucket=bucket.bucket, Key=photo.image.name)["Body"].read()
    assert stored.startswith(b"\xff\xd8") and (photo.width, photo.height) == (64, 48)

    link = presigned(client.get(answer.json()["url"]), f"{bucket.options['endpoint_url']}/{bucket.bucket}/")
    fetched = requests.get(link, timeout=10)
    assert fetched.status_code == 200 and fetched.content == stored
    # Nobody else gets a link.
    client.force_login(personas["customer"])
    assert client.get(answer.json()["url"]).status_code == 404
    client.logout()
    assert client.get(answer.json()["url"]).status_code == 403


def test_a_self_reading_sent_through_the_portal_form_keeps_its_photo_in_the_bucket(client, bucket):
    from gasworks.metering.models import ReadingPhoto
    from tests.factories import make_user
    from tests.metering.helpers import make_meter
    from tests.portal.helpers import local_time

    customer = make_customer()
    now = local_time(2026, 3, 10, 19, 30)
    meter = make_meter(customer, installed_on=now.date().replace(month=1, day=1))
    client.force_login(make_user("customer", customer=customer))
    with time_machine.travel(now, tick=False):
        sent = client.post("/metering/portal/reading/", {"meter": meter.pk, "value": "120", "photo": jpeg()})
        assert sent.status_code == 302, sent.content
        photo = ReadingPhoto.objects.get()
        answer = client.get(f"/metering/readings/{photo.reading_id}/photo/")  # the session's own time
    assert keys(bucket) == [photo.image.name] and photo.image.name.startswith("readings/")
    link = presigned(answer, f"{bucket.options['endpoint_url']}/")
    assert (
        requests.get(link, timeout=10).content
        == bucket.get_object(Bucket=bucket.bucket, Key=photo.image.name)["Body"].read()
    )


def test_a_second_file_of_the_same_name_does_not_overwrite_the_first(bucket):
    first = default_storage.save("service/photos/a.jpg", jpeg(color=(255, 0, 0)))
    second = default_storage.save("service/photos/a.jpg", jpeg(color=(0, 0, 255)))
    assert first == "service/photos/a.jpg" and second != first
    assert sorted(keys(bucket)) == sorted([first, second])


def test_links_are_signed_for_the_public_address_when_one_is_set(client, personas, bucket, settings):
    public = bucket.options["endpoint_url"].replace("127.0.0.1", "localhost")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "gasworks.lib.storage.ObjectStorage",
            "OPTIONS": {**bucket.options, "public_endpoint_url": public},
        },
    }
    name = default_storage.save("safety/photos/x.jpg", jpeg())
    link = default_storage.url(name)
    assert link.startswith(f"{public}/{bucket.bucket}/safety/photos/")
    assert (
        requests.get(link, timeout=10).content
        == bucket.get_object(Bucket=bucket.bucket, Key=name)["Body"].read()
    )
    assert object_storage_origins({**bucket.options, "public_endpoint_url": public}) == [public]


def test_a_background_export_goes_through_the_bucket(
    client, personas, bucket, monkeypatch, django_capture_on_commit_callbacks
):
    set_parameters({"export_background_rows": "3"})
    customers = [make_customer() for _ in range(5)]
    # The worker's side: run where the commit happens (the test's transaction is not visible to a thread).
    monkeypatch.setattr(background, "dispatch", background.run_export)
    client.force_login(personas["manager"])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/reports/customers/export/", {"format": "csv"}).status_code == 302
    export = Export.objects.get()
    assert export.status == "done" and keys(bucket) == [export.file] == [f"exports/{export.pk}-customers.csv"]

    link = presigned(
        client.get(f"/reports/exports/{export.pk}/download/"),
        f"{bucket.options['endpoint_url']}/{bucket.bucket}/",
    )
    fetched = requests.get(link, timeout=10)
    assert fetched.status_code == 200 and 'filename="customers.csv"' in fetched.headers["Content-Disposition"]
    text = fetched.content.decode("utf-8-sig")
    assert all(c.account_no in text for c in customers)
    # The API's download is the same redirect.
    api = client.get(f"/api/v1/reports/exports/{export.pk}/file/")
    assert requests.get(presigned(api, bucket.options["endpoint_url"]), timeout=10).content == fetched.content
    # A rerun (a redelivered task) stores the file again under the same name, not a second one.
    Export.objects.filter(pk=export.pk).update(status="running")
    background.run_export(export.pk)
    assert keys(bucket) == [f"exports/{export.pk}-customers.csv"]
    # Kept export_keep_days, then deleted from the bucket with its row.
    assert background.delete_old_exports(now=timezone.now() + timedelta(days=30)) == 1
    assert keys(bucket) == []


def _settings_with(**environ) -> tuple[dict, list]:
    """STORAGES["default"] and the CSP's img-src as settings.py reads them from `environ`."""
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps([s.STORAGES['default'], s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBJECT_STORAGE_")}
    env.update(DJANGO_SETTINGS_MODULE="gasworks.settings", **environ)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    default, img_src = json.loads(done.stdout)
    return default, img_src


def test_the_environment_turns_it_on():
    default, img_src = _settings_with(
        OBJECT_STORAGE_BUCKET="gasworks-files",
        OBJECT_STORAGE_ENDPOINT_URL="https://oss-cn-beijing.aliyuncs.com",
        OBJECT_STORAGE_REGION="oss-cn-beijing",
        OBJECT_STORAGE_ACCESS_KEY_ID="id",
        OBJECT_STORAGE_SECRET_ACCESS_KEY="secret",
        OBJECT_STORAGE_URL_EXPIRY="60",
        OBJECT_STORAGE_PREFIX="station-01",
    )
    assert default["BACKEND"] == "gasworks.lib.storage.ObjectStorage"
    assert default["OPTIONS"] == {
        "bucket_name": "gasworks-files",
        "endpoint_url": "https://oss-cn-beijing.aliyuncs.com",
        "region_name": "oss-cn-beijing",
        "access_key": "id",
        "secret_key": "secret",
        "public_endpoint_url": None,
        "addressing_style": None,
        "location": "station-01",
        "querystring_expire": 60,
    }
    # Photos' redirects go to the bucket's host: the CSP lets the pages show them.
    assert img_src == [
        "'self'",
        "data:",
        "https://oss-cn-beijing.aliyuncs.com",
        "https://gasworks-files.oss-cn-beijing.aliyuncs.com",
    ]
    default, img_src = _settings_with()
    assert default == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert img_src == ["'self'", "data:"]
