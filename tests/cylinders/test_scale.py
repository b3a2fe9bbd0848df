from decimal import Decimal

import pytest

from gasworks.cylinders.scale import ManualScale, ScaleError, SerialScale, SimulatedScale, parse_frame


def test_it_reads_a_manual_weight():
    assert ManualScale("29.4504").read_gross() == Decimal("29.450")
    with pytest.raises(ScaleError):
        ManualScale("abc").read_gross()


def test_it_parses_frames():
    assert parse_frame("ST,GS,+0029.450kg") == (True, Decimal("29.450"))
    assert parse_frame("US,GS,+0029.100kg") == (False, Decimal("29.100"))
    with pytest.raises(ScaleError):
        parse_frame("garbage")


def test_it_waits_for_a_stable_weight():
    frames = iter(
        [
            "US,GS,+0010.000kg",
            "ST,GS,+0029.000kg",
            "ST,GS,+0029.450kg",
            "ST,GS,+0029.450kg",
            "ST,GS,+0029.450kg",
        ]
    )
    assert SerialScale(frames).read_gross() == Decimal("29.450")


def test_it_gives_up_on_a_scale_that_never_settles():
    frames = iter(["US,GS,+0010.000kg"] * 300)
    with pytest.raises(ScaleError):
        SerialScale(frames).read_gross()


@pytest.mark.parametrize("seed", range(5))
def test_it_simulates_a_serial_scale(seed):
    assert SimulatedScale("29.35", seed=seed).read_gross() == Decimal("29.350")
