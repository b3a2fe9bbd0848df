import pytest
import time_machine

from tests.service.arrangements.helpers import TODAY


@pytest.fixture
def frozen():
    """Noon of TODAY in the station's time zone; tests move on with frozen.move_to."""
    with time_machine.travel(f"{TODAY.isoformat()} 12:00 +0800", tick=False) as traveller:
        yield traveller
