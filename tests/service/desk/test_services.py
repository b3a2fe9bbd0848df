import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from gasworks.billing.models import ValveCommand
from gasworks.customers.models import Status
from gasworks.errors import DomainError, InvalidInput
from gasworks.metering.models import Meter, MeterStatus, Reading
from gasworks.notifications.models import Message
from gasworks.service.desk import completion, services
from gasworks.service.desk.events import DisconnectionDone, ReconnectionDone
from gasworks.service.desk.models import RequestStatus, ServiceRequest
from gasworks.system.models import Parameter
from tests.factories import make_customer
from tests.service.desk.conftest import jpeg, make_meter, started

pytestmark = pytest.mark.django_db


def test_it_sets_the_deadline_from_the_kinds_parameter(personas):
    Parameter.objects.create(key="service_deadline_repair_hours", value="6")
    before = timezone.now()
    req = services.open_request(
        personas["own_customer"], "repair", "boiler", source="phone", by=personas["dispatcher"]
    )
    assert req.status == RequestStatus.OPEN
    assert req.due_by - req.opened_at == dt.timedelta(hours=6)
    assert req.opened_at >= before
    assert req.work_order.crew is None  # a repair sends a crew
    assert [h.action for h in req.history.all()] == ["opened"]


def test_it_refuses_a_kind_the_customer_may_not_open_and_writes_nothing(personas):
    with pytest.raises(InvalidInput) as caught:
        services.open_request(
            personas["own_customer"], "meter_change", "new one", source="portal", by=personas["customer"]
        )
    assert caught.value.code == "kind_not_allowed"
    assert not ServiceRequest.objects.exists()
    assert not Message.objects.exists()


def test_a_customer_opens_only_for_its_own_account(personas):
    with pytest.raises(DomainError) as caught:
        services.open_request(
            personas["other_customer"], "repair", "x", source="portal", by=personas["customer"]
        )
    assert caught.value.code == "not_your_account"


def test_it_keeps_one_live_disconnection_per_customer(personas):
    customer = personas["own_customer"]
    first = services.open_request(customer, "disconnection", "debt", source="system")
    with pytest.raises(DomainError) as caught:
        services.open_request(customer, "disconnection", "debt", source="system")
    assert caught.value.code == "already_open"
    again = services.open_request(customer, "disconnection", "debt", source="system", existing_ok=True)
    assert again.pk == first.pk
    assert ServiceRequest.objects.count() == 1


def test_illegal_moves_raise(personas):
    boss = personas["dispatcher"]
    req = services.open_request(personas["own_customer"], "repair", "x", source="phone", by=boss)
    with pytest.raises(DomainError) as caught:
        services.start(req, by=boss)
    assert caught.value.code == "invalid_transition"
    services.assign(req, boss, by=boss)
    with pytest.raises(DomainError):
        services.complete(req, "done", by=boss)
    with pytest.raises(DomainError) as caught:
        services.assign(req, boss, by=boss)  # a second assign is refused, not an overwrite
    assert caught.value.code == "invalid_transition"
    assert ServiceRequest.objects.get().status == RequestStatus.ASSIGNED


def test_it_assigns_only_a_person_of_the_owning_role(personas):
    req = services.open_request(
        personas["own_customer"], "repair", "x", source="phone", by=personas["dispatcher"]
    )
    with pytest.raises(InvalidInput) as caught:
        services.assign(req, personas["cashier"], by=personas["dispatcher"])
    assert caught.value.code == "invalid_assignee"
    assert ServiceRequest.objects.get().assigned_to is None


def test_a_role_that_does_not_own_the_kind_may_not_work_it(personas):
    req = services.open_request(
        personas["own_customer"], "repair", "x", source="counter", by=personas["cashier"]
    )
    with pytest.raises(DomainError) as caught:
        services.assign(req, personas["dispatcher"], by=personas["cashier"])
    assert caught.value.code == "not_owner"


def test_completing_a_meter_change_swaps_the_meters_with_both_readings(personas):
    customer = personas["own_customer"]
    old = make_meter(customer)
    reader = personas["meter_reader"]
    req = started(customer, "meter_change", reader)
    work = completion.Work(old_reading="130.456", new_serial_no="NEW-1", new_reading="0.5")
    done = services.complete(req, "swapped", by=reader, work=work)
    old.refresh_from_db()
    new = Meter.objects.get(serial_no="NEW-1")
    assert done.status == RequestStatus.DONE
    assert old.status == MeterStatus.REMOVED
    final = Reading.objects.get(meter=old, reason="removal")
    assert final.value == Decimal("130.456")
    assert final.status == "accepted", final.flags
    assert new.status == MeterStatus.INSTALLED and new.premises_id == customer.premises_id
    assert new.initial_reading == Decimal("0.500")
    assert "NEW-1" in done.work_order.result
    assert [h.action for h in done.history.all()] == ["opened", "assigned", "started", "completed"]
    assert Message.objects.filter(customer=customer, event="service_request_done").exists()


def test_a_meter_change_without_the_final_reading_is_refused_and_nothing_changes(personas):
    customer = personas["own_customer"]
    old = make_meter(customer)
    reader = personas["meter_reader"]
    req = started(customer, "meter_change", reader)
    with pytest.raises(InvalidInput) as caught:
        services.complete(req, "swapped", by=reader, work=completion.Work(new_serial_no="NEW-2"))
    assert caught.value.code == "old_reading_required"
    old.refresh_from_db()
    assert old.status == MeterStatus.INSTALLED
    assert not Meter.objects.filter(serial_no="NEW-2").exists()
    assert ServiceRequest.objects.get().status == RequestStatus.IN_PROGRESS


def test_a_refused_meter_swap_leaves_the_request_in_progress(personas):
    customer = personas["own_customer"]
    old = make_meter(customer)
    make_meter(customer)  # a taken serial: the swap fails inside the transaction
    reader = personas["meter_reader"]
    req = started(customer, "meter_change", reader)
    taken = Meter.objects.exclude(pk=old.pk).get().serial_no
    with pytest.raises(DomainError):
        services.complete(
            req,
            "x",
            by=reader,
            work=completion.Work(old_meter=old.serial_no, old_reading="150", new_serial_no=taken),
        )
    old.refresh_from_db()
    assert old.status == MeterStatus.INSTALLED
    assert not Reading.objects.filter(meter=old).exists()
    assert ServiceRequest.objects.get().status == RequestStatus.IN_PROGRESS


def test_a_disconnection_closes_the_valve_and_suspends(personas, published):
    customer = personas["own_customer"]
    smart = make_meter(customer, kind="smart")
    boss = personas["dispatcher"]
    req = started(customer, "disconnection", boss)
    services.complete(req, "valve closed on site", by=boss)
    customer.refresh_from_db()
    assert customer.status == Status.SUSPENDED
    assert ValveCommand.objects.get(meter=smart).command == "close"
    assert published == [DisconnectionDone(customer.pk, req.pk)]


def test_a_reconnection_reopens_supply(personas, published):
    customer = personas["own_customer"]
    smart = make_meter(customer, kind="smart")
    boss = personas["dispatcher"]
    services.complete(started(customer, "disconnection", boss), "cut", by=boss)
    req = started(customer, "reconnection", boss)
    services.complete(req, "gas back", by=boss)
    customer.refresh_from_db()
    assert customer.status == Status.ACTIVE
    assert list(
        ValveCommand.objects.filter(meter=smart).order_by("pk").values_list("command", flat=True)
    ) == [
        "close",
        "open",
    ]
    assert published[-1] == ReconnectionDone(customer.pk, req.pk)


def test_a_new_connection_installs_the_meter_with_its_first_reading(personas):
    customer = make_customer()
    inspector = personas["inspector"]
    req = started(customer, "new_connection", inspector)
    services.complete(
        req, "ignited", by=inspector, work=completion.Work(new_serial_no="FIRST-1", new_reading="0.012")
    )
    meter = Meter.objects.get(serial_no="FIRST-1")
    assert meter.premises_id == customer.premises_id
    assert meter.initial_reading == Decimal("0.012")


def test_transfer_is_completed_only_by_the_move_out_flow(personas):
    cashier = personas["cashier"]
    req = started(personas["own_customer"], "transfer", cashier)
    with pytest.raises(DomainError) as caught:
        services.complete(req, "done", by=cashier)
    assert caught.value.code == "completed_by_move_out"
    fresh = services.open_request(
        personas["other_customer"], "move_out", "leaving", source="counter", by=cashier
    )
    done = services.complete_linked(fresh, "final bill 12.00", cashier)
    assert done.status == RequestStatus.DONE
    assert [h.action for h in done.history.all()] == ["opened", "assigned", "started", "completed"]


def test_cancel_and_refuse_need_a_reason(personas):
    boss = personas["dispatcher"]
    req = services.open_request(personas["own_customer"], "repair", "x", source="phone", by=boss)
    with pytest.raises(InvalidInput):
        services.cancel(req, " ", by=boss)
    refused = services.cancel(req, "not our pipe", by=boss, refused=True)
    assert refused.status == RequestStatus.CANCELLED and refused.refused
    assert refused.history.last().action == "refused"
    with pytest.raises(DomainError):
        services.cancel(req, "again", by=boss)


def test_overdue_lists_live_requests_past_their_deadline(personas):
    boss = personas["dispatcher"]
    late = services.open_request(personas["own_customer"], "repair", "x", source="phone", by=boss)
    services.open_request(personas["other_customer"], "repair", "y", source="phone", by=boss)
    ServiceRequest.objects.filter(pk=late.pk).update(due_by=timezone.now() - dt.timedelta(minutes=1))
    assert list(services.overdue()) == [late]


def test_it_keeps_a_photo_of_the_job(personas):
    boss = personas["dispatcher"]
    req = services.open_request(personas["own_customer"], "repair", "x", source="phone", by=boss)
    photo = services.add_photo(req, jpeg(), by=boss, caption="valve")
    assert photo.image.name.endswith(".jpg")
    assert req.history.last().action == "photo"


def test_opening_tells_the_customer_but_a_disconnection_order_does_not(personas):
    customer = personas["own_customer"]
    services.open_request(customer, "repair", "x", source="portal", by=personas["customer"])
    services.open_request(customer, "disconnection", "debt", source="system")
    assert set(Message.objects.filter(customer=customer).values_list("event", flat=True)) == {
        "service_request_opened"
    }


def test_staff_see_the_kinds_their_role_owns(personas):
    services.open_request(personas["own_customer"], "repair", "x", source="phone", by=personas["dispatcher"])
    services.open_request(
        personas["own_customer"], "bill_query", "y", source="phone", by=personas["dispatcher"]
    )
    assert set(services.visible_to(personas["cashier"]).values_list("kind", flat=True)) == {"bill_query"}
    assert services.visible_to(personas["manager"]).count() == 2
    assert services.visible_to(personas["filler"]).count() == 0
    assert services.visible_to(personas["customer"]).count() == 2


def test_a_reconnection_is_refused_while_a_major_hazard_blocks_supply(personas):
    from gasworks.safety.services import hazards

    customer = personas["own_customer"]
    boss = personas["dispatcher"]
    services.complete(started(customer, "disconnection", boss), "cut", by=boss)
    hazards.raise_hazard(customer, "major", "corroded riser", by=None)
    req = started(customer, "reconnection", boss)
    with pytest.raises(DomainError) as caught:
        services.complete(req, "gas back", by=boss)
    assert caught.value.code == "supply_blocked"
    customer.refresh_from_db()
    assert customer.status == Status.SUSPENDED
    assert ServiceRequest.objects.get(pk=req.pk).status == RequestStatus.IN_PROGRESS


def test_the_systems_disconnection_orders_no_crew_started_are_cancelled_and_no_other(personas):
    """The ladder's call when a debt is paid before the cut: only the system's own orders that
    are open or assigned; a started one, one opened at the desk, another customer's stay."""
    dispatcher = personas["dispatcher"]
    paid, started_one, asked = make_customer(), make_customer(), make_customer()
    order = services.open_request(paid, "disconnection", "debt", source="system", existing_ok=True)
    crew_on_it = services.open_request(
        started_one, "disconnection", "debt", source="system", existing_ok=True
    )
    crew_on_it = services.start(services.assign(crew_on_it, dispatcher, by=dispatcher), by=dispatcher)
    at_desk = services.open_request(asked, "disconnection", "leaving", source="phone", by=dispatcher)

    cancelled = services.cancel_system_disconnections(paid.pk, "paid")
    assert [(r.pk, r.status, r.outcome) for r in cancelled] == [(order.pk, RequestStatus.CANCELLED, "paid")]
    assert services.cancel_system_disconnections(paid.pk, "paid") == []  # nothing left to cancel
    assert services.cancel_system_disconnections(started_one.pk, "paid") == []
    assert services.cancel_system_disconnections(asked.pk, "paid") == []
    statuses = dict(ServiceRequest.objects.values_list("pk", "status"))
    assert statuses[crew_on_it.pk] == RequestStatus.IN_PROGRESS
    assert statuses[at_desk.pk] == RequestStatus.OPEN
