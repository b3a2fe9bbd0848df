import pytest


@pytest.fixture(autouse=True)
def _sms_to_the_development_channel(monkeypatch):
    # A production server names its SMS provider; these tests send SMS and WeChat through the
    # development channel (kept, not sent) unless a test configures a provider.
    monkeypatch.setenv("NOTIFY_SMS_PROVIDER", "dev")
    monkeypatch.setenv("NOTIFY_WECHAT_PROVIDER", "dev")


@pytest.fixture(autouse=True)
def _daytime():
    # SMS waits out the quiet hours (21:00–08:00 local): these tests run at a fixed 10:00 local
    # unless they travel elsewhere themselves, so that the wall clock cannot change an outcome.
    import time_machine

    from tests.billing.helpers import local

    with time_machine.travel(local(2026, 11, 2, 10), tick=True):
        yield
