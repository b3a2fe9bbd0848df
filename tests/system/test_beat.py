"""The beat schedule: every periodic task of Gasworks is in it once, names a registered task, and
runs once (eagerly, on an empty station) without failing."""

import pytest
from celery.schedules import crontab

from gasworks.celery import SCHEDULE_MODULES, app, beat_schedule, install_schedule

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_schedule_joins_every_module_and_refuses_a_name_twice(monkeypatch):
    schedule = beat_schedule()
    from importlib import import_module

    for name in SCHEDULE_MODULES:
        assert import_module(name).BEAT_SCHEDULE.items() <= schedule.items()
    monkeypatch.setitem(import_module("gasworks.reports.tasks").BEAT_SCHEDULE, "send-notifications", {})
    with pytest.raises(ValueError, match="send-notifications"):
        beat_schedule()


def test_the_schedule_is_installed_only_with_a_broker(settings):
    class Target:
        class conf:
            beat_schedule: dict = {}

    settings.REDIS_URL = ""
    install_schedule(Target)
    assert Target.conf.beat_schedule == {}
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    install_schedule(Target)
    assert Target.conf.beat_schedule == beat_schedule()


def test_each_periodic_task_runs_once():
    app.loader.import_default_modules()
    schedule = beat_schedule()
    assert len(schedule) >= 10
    for name, entry in schedule.items():
        assert isinstance(entry["schedule"], (int, float, crontab)), name
        task = app.tasks.get(entry["task"])
        assert task is not None, f"{name}: no task {entry['task']}"
        result = task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
        assert result.successful(), f"{name}: {result.traceback}"
