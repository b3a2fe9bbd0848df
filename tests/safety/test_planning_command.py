import datetime

from django.core.management import call_command

from gasworks.celery import install_schedule
from gasworks.safety import tasks
from gasworks.safety.models import InspectionTask, InspectorArea
from tests.factories import make_customer


def test_it_plans_from_the_command_and_is_safe_to_rerun(personas, capsys):
    InspectorArea.objects.create(district="朝阳区", inspector=personas["inspector"])
    customer = make_customer(category="industrial", district="朝阳区")
    day = (customer.opened_on + datetime.timedelta(days=366)).isoformat()
    call_command("plan_inspections", "--date", day)
    call_command("plan_inspections", "--date", day)
    task = InspectionTask.objects.get(customer=customer)
    assert task.inspector == personas["inspector"]
    out = capsys.readouterr().out
    assert "Planned 0 inspection tasks" in out  # the second run found nothing new


def test_it_runs_as_a_celery_task_and_schedules_only_with_redis(personas, settings):
    result = tasks.plan_inspections.delay().get()
    assert set(result) == {"created", "assigned", "skipped"}

    class FakeConf:
        beat_schedule: dict = {}

    class FakeApp:
        conf = FakeConf()

    settings.REDIS_URL = ""
    install_schedule(FakeApp)
    assert FakeApp.conf.beat_schedule == {}
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    install_schedule(FakeApp)
    assert (
        FakeApp.conf.beat_schedule["safety-plan-inspections"]["task"]
        == "gasworks.safety.tasks.plan_inspections"
    )
