import datetime

import pytest
import time_machine
from django.utils import timezone

from gasworks.errors import DomainError, InvalidInput, NotAllowed
from gasworks.safety import interlock
from gasworks.safety.models import Hazard, HazardStatus, Photo, SupplyOverride
from gasworks.safety.services import hazards
from gasworks.system.models import AuditEntry, Parameter
from tests.factories import make_customer
from tests.safety.conftest import jpeg


def test_it_sets_the_deadline_by_level_from_parameters(personas):
    today = timezone.localdate()
    customer = make_customer()
    assert hazards.raise_hazard(customer, "ordinary", "x", by=None).deadline == today + datetime.timedelta(
        days=30
    )
    assert hazards.raise_hazard(customer, "key", "x", by=None).deadline == today + datetime.timedelta(days=15)
    assert hazards.raise_hazard(customer, "major", "x", by=None).deadline == today + datetime.timedelta(
        days=3
    )
    Parameter.objects.create(key="hazard_deadline_major_days", value="1")
    assert hazards.raise_hazard(customer, "major", "x", by=None).deadline == today + datetime.timedelta(
        days=1
    )


def test_it_refuses_a_bad_hazard_and_writes_nothing(personas):
    customer = make_customer()
    for level, text, deadline, code in (
        ("extreme", "x", None, "invalid_level"),
        ("major", "  ", None, "description_required"),
        ("key", "x", timezone.localdate() - datetime.timedelta(days=1), "deadline_in_past"),
    ):
        with pytest.raises(InvalidInput) as exc:
            hazards.raise_hazard(customer, level, text, by=None, deadline=deadline)
        assert exc.value.code == code
    assert not Hazard.objects.exists()


def test_closing_a_hazard_records_when_by_whom_and_what_was_found(personas):
    inspector = personas["inspector"]
    hazard = hazards.raise_hazard(make_customer(), "key", "flue loose", by=inspector)
    hazards.rectify(hazard, "flue refitted", by=inspector)
    assert Hazard.objects.get(pk=hazard.pk).closed_at is None
    closing = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.UTC)
    with time_machine.travel(closing, tick=False):
        hazards.close(hazard, "re-inspected: sound", by=inspector)
    stored = Hazard.objects.get(pk=hazard.pk)
    assert (stored.status, stored.closed_at, stored.closed_by, stored.reinspection_note) == (
        HazardStatus.CLOSED,
        closing,
        inspector,
        "re-inspected: sound",
    )


def test_it_walks_open_rectified_closed_and_refuses_the_rest(personas):
    inspector = personas["inspector"]
    hazard = hazards.raise_hazard(make_customer(), "key", "flue loose", by=inspector)
    with pytest.raises(DomainError) as exc:
        hazards.close(hazard, "looks fine", by=inspector)  # no closure without rectification
    assert exc.value.code == "invalid_transition"
    with pytest.raises(DomainError):
        hazards.reopen(hazard, "x", by=inspector)
    with pytest.raises(InvalidInput):
        hazards.rectify(hazard, "", by=inspector)
    hazard = hazards.rectify(hazard, "flue refitted", by=inspector, uploads=[jpeg()])
    assert hazard.status == HazardStatus.RECTIFIED and hazard.rectified_at
    assert hazard.photos.get().kind == "rectification"
    with pytest.raises(DomainError):
        hazards.rectify(hazard, "again", by=inspector)
    hazard = hazards.reopen(hazard, "still loose", by=inspector)
    assert hazard.status == HazardStatus.OPEN and hazard.reopen_count == 1
    hazard = hazards.rectify(hazard, "replaced", by=inspector)
    with pytest.raises(InvalidInput):
        hazards.close(hazard, " ", by=inspector)
    hazard = hazards.close(hazard, "re-inspected: sound", by=inspector)
    assert hazard.status == HazardStatus.CLOSED and hazard.closed_by == inspector
    for verb in (hazards.rectify, hazards.close, hazards.reopen):
        with pytest.raises(DomainError):
            verb(hazard, "x", by=inspector)
    notes = list(AuditEntry.objects.filter(model="safety.Hazard").values_list("note", flat=True))
    assert "hazard closed" in notes and "hazard reopened" in notes


def test_it_refuses_a_rectification_with_a_bad_photo_and_writes_nothing(personas):
    from django.core.files.uploadedfile import SimpleUploadedFile

    hazard = hazards.raise_hazard(make_customer(), "key", "flue loose", by=None)
    with pytest.raises(InvalidInput) as exc:
        hazards.rectify(hazard, "fixed", by=None, uploads=[SimpleUploadedFile("a.jpg", b"not an image")])
    assert exc.value.code == "not_an_image"
    hazard.refresh_from_db()
    assert hazard.status == HazardStatus.OPEN and not Photo.objects.exists()


def test_it_lists_overdue_open_hazards(personas):
    customer = make_customer()
    late = hazards.raise_hazard(customer, "key", "late", by=None)
    Hazard.objects.filter(pk=late.pk).update(deadline=timezone.localdate() - datetime.timedelta(days=1))
    hazards.raise_hazard(customer, "key", "on time", by=None)
    rectified = hazards.raise_hazard(customer, "key", "waiting for us", by=None)
    hazards.rectify(rectified, "done", by=None)
    Hazard.objects.filter(pk=rectified.pk).update(deadline=timezone.localdate() - datetime.timedelta(days=5))
    assert list(hazards.overdue()) == [Hazard.objects.get(pk=late.pk)]


def test_it_blocks_supply_on_a_major_hazard_until_it_is_closed(personas):
    customer = make_customer()
    interlock.check_supply_allowed(customer)  # nothing open: allowed
    hazards.raise_hazard(customer, "key", "not major", by=None)
    interlock.check_supply_allowed(customer)
    assert interlock.supply_block_reason(customer) is None
    major = hazards.raise_hazard(customer, "major", "gas smell at the meter", by=None)
    with pytest.raises(interlock.SupplyBlocked) as exc:
        interlock.check_supply_allowed(customer)
    assert exc.value.code == "supply_blocked" and exc.value.status == 409
    assert major.notice_no in exc.value.message
    major = hazards.rectify(major, "joint replaced", by=None)
    with pytest.raises(interlock.SupplyBlocked):
        interlock.check_supply_allowed(customer)  # rectified is not closed
    hazards.close(major, "re-inspected", by=None)
    interlock.check_supply_allowed(customer)
    interlock.check_supply_allowed(make_customer())  # others were never blocked


def test_it_lifts_the_block_with_an_audited_admin_override(personas):
    customer = make_customer()
    major = hazards.raise_hazard(customer, "major", "leak", by=None)
    with pytest.raises(NotAllowed):
        interlock.grant_override(major, "hospital kitchen must cook", by=personas["inspector"])
    with pytest.raises(InvalidInput):
        interlock.grant_override(major, "", by=personas["admin"])
    assert not SupplyOverride.objects.exists()
    override = interlock.grant_override(major, "valve shut, cylinder outdoors", by=personas["admin"])
    interlock.check_supply_allowed(customer)
    entry = AuditEntry.objects.get(model="safety.Hazard", action="action")
    assert entry.actor == personas["admin"] and "valve shut" in entry.note
    with pytest.raises(DomainError) as exc:
        interlock.grant_override(major, "again please", by=personas["admin"])
    assert exc.value.code == "override_exists"
    # A second major hazard blocks again: the override was for the first one only.
    second = hazards.raise_hazard(customer, "major", "another leak", by=None)
    with pytest.raises(interlock.SupplyBlocked):
        interlock.check_supply_allowed(customer)
    hazards.close(hazards.rectify(second, "fixed", by=None), "ok", by=None)
    interlock.check_supply_allowed(customer)
    interlock.revoke_override(override, by=personas["admin"])
    with pytest.raises(interlock.SupplyBlocked):
        interlock.check_supply_allowed(customer)
