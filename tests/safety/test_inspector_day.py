"""The inspector's "today": the overdue (oldest first) and today's tasks, with counts; nothing
due later, nobody else's, nothing finished."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from gasworks.safety.models import InspectionTask
from gasworks.safety.services import inspections
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 27)


def at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def tasks(personas):
    inspector = personas["inspector"]
    day = datetime.timedelta(days=1)

    def task(name, due_on, appointment=None, who=inspector, status=None):
        made = inspections.create_task(make_customer(name=name), due_on, inspector=who)
        fields = {"appointment_at": appointment}
        if status:
            fields["status"] = status
        InspectionTask.objects.filter(pk=made.pk).update(**fields)
        return name

    with time_machine.travel(at(TODAY, 7), tick=False):
        yield {
            "overdue": [
                task("二〇二二年", datetime.date(2022, 3, 1)),
                task("去年", datetime.date(2025, 6, 1)),
                task("昨天约了", TODAY - 30 * day, appointment=at(TODAY - day, 10)),
            ],
            "today": [
                task("九点", TODAY - day, appointment=at(TODAY, 9)),
                task("十五点", TODAY, appointment=at(TODAY, 15)),
                task("今天到期", TODAY),
            ],
            "hidden": [
                task("明天约了", datetime.date(2024, 1, 1), appointment=at(TODAY + day, 9)),
                task("明天到期", TODAY + day),
                task("已完成", datetime.date(2023, 1, 1), status="cancelled"),
                task("别人的", datetime.date(2023, 1, 1), who=make_user("inspector")),
            ],
            "inspector": inspector,
        }


def test_the_day_holds_the_overdue_oldest_first_then_today_in_time_order(tasks):
    day = inspections.inspector_day(tasks["inspector"], TODAY)
    assert [t.customer.name for t in day.overdue] == tasks["overdue"]
    assert [t.customer.name for t in day.today] == tasks["today"]
    assert (day.overdue_count, day.today_count) == (3, 3)


def test_the_page_shows_both_lists_sorted_with_counts(client, tasks):
    client.force_login(tasks["inspector"])
    page = client.get("/safety/inspections/").content.decode()
    overdue = page.split('data-testid="overdue-tasks"')[1].split('data-testid="due-today-tasks"')[0]
    today = page.split('data-testid="due-today-tasks"')[1].split("<form")[0]
    positions = [overdue.index(name) for name in tasks["overdue"]]
    assert positions == sorted(positions)
    positions = [today.index(name) for name in tasks["today"]]
    assert positions == sorted(positions)
    assert not any(name in overdue + today for name in tasks["hidden"])
    assert 'data-testid="overdue-count">3<' in page and 'data-testid="today-count">3<' in page
    # The page around the lists stays whole: the scope switch, one block of today's work.
    assert 'href="?scope=mine"' in page and 'href="?scope=all"' in page
    assert page.count('data-testid="today-tasks"') == 1
