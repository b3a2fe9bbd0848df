"""Scales. A filling scale gives a stable gross weight; the adapter hides where it comes from:
typed in by hand, or read from a serial scale's stream of frames. The simulator produces such a
stream (as a typical industrial indicator sends: "ST,GS,+0029.450kg" / "US,..." while settling)
so the page and tests run without a serial port."""

import itertools
import random
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Protocol

from gasworks.lib.money import round_volume, to_decimal

FRAME = re.compile(r"^(?P<state>ST|US),(?:GS|NT),(?P<value>[+-]\d+\.\d+)kg$")


class ScaleError(ValueError):
    pass


class Scale(Protocol):
    scale_id: str

    def read_gross(self) -> Decimal:
        """A stable gross weight in kg."""
        ...


class ManualScale:
    """The filler types the weight shown by a scale that has no data link."""

    def __init__(self, value, scale_id: str = "manual"):
        self.scale_id = scale_id
        self._value = value

    def read_gross(self) -> Decimal:
        try:
            return round_volume(to_decimal(self._value))
        except (TypeError, ValueError) as exc:
            raise ScaleError(str(exc)) from None


def parse_frame(frame: str) -> tuple[bool, Decimal]:
    """(stable, kg) from one indicator frame, or ScaleError."""
    match = FRAME.match(frame.strip())
    if not match:
        raise ScaleError(f"unreadable scale frame {frame!r}")
    return match["state"] == "ST", Decimal(match["value"])


class SerialScale:
    """Reads frames from any iterator of text lines (a pyserial port in production, the
    simulator here) and returns the first weight that stays stable for `settle` frames."""

    def __init__(
        self, lines: Iterator[str], scale_id: str = "serial", settle: int = 3, max_frames: int = 200
    ):
        self.scale_id = scale_id
        self._lines = lines
        self._settle = settle
        self._max = max_frames

    def read_gross(self) -> Decimal:
        run: list[Decimal] = []
        for frame in itertools.islice(self._lines, self._max):
            stable, value = parse_frame(frame)
            if not stable:
                run = []
                continue
            run = [*run, value] if run and run[-1] == value else [value]
            if len(run) >= self._settle:
                return round_volume(value)
        raise ScaleError("the scale did not settle")


def simulate_frames(target_kg, seed: int | None = None) -> Iterator[str]:
    """An endless frame stream of a scale settling on target_kg: a few unstable, noisy frames,
    then stable ones (0.005 kg resolution, as on a 150 kg indicator)."""
    rng = random.Random(seed)
    target = to_decimal(target_kg)
    for _ in range(rng.randint(2, 6)):
        noise = Decimal(rng.randint(-400, 400)) / 1000
        yield f"US,GS,{target + noise:+010.3f}kg"
    while True:
        yield f"ST,GS,{target:+010.3f}kg"


class SimulatedScale(SerialScale):
    def __init__(self, target_kg, scale_id: str = "SIM-1", seed: int | None = None):
        super().__init__(simulate_frames(target_kg, seed), scale_id=scale_id)
