import pytest
from django.core.exceptions import ImproperlyConfigured

from gasworks.env import env_bool, env_int


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_it_reads_yes(monkeypatch, value):
    monkeypatch.setenv("GW_FLAG", value)
    assert env_bool("GW_FLAG") is True


@pytest.mark.parametrize("value", ["0", "false", "No", "off"])
def test_it_reads_no(monkeypatch, value):
    monkeypatch.setenv("GW_FLAG", value)
    assert env_bool("GW_FLAG", default=True) is False


def test_it_takes_the_default_when_unset_or_empty(monkeypatch):
    monkeypatch.delenv("GW_FLAG", raising=False)
    assert env_bool("GW_FLAG", default=True) is True
    monkeypatch.setenv("GW_FLAG", "")
    assert env_bool("GW_FLAG", default=True) is True


@pytest.mark.parametrize("value", ["flase", "y", "2", "enabled"])
def test_it_refuses_a_value_it_cannot_read(monkeypatch, value):
    monkeypatch.setenv("GW_FLAG", value)
    with pytest.raises(ImproperlyConfigured, match="GW_FLAG"):
        env_bool("GW_FLAG")


def test_it_refuses_a_number_it_cannot_read(monkeypatch):
    monkeypatch.setenv("GW_NUMBER", "6O")
    with pytest.raises(ImproperlyConfigured, match="GW_NUMBER"):
        env_int("GW_NUMBER", 5)
    monkeypatch.setenv("GW_NUMBER", " 60 ")
    assert env_int("GW_NUMBER", 5) == 60
