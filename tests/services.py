"""Reachability of the outside services some tests need. Unreachable means skip, except under
REQUIRE_SERVICES=1 (CI), where a test that would be skipped fails instead."""

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest

REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


def require(name: str, available: bool) -> None:
    if available:
        return
    message = f"{name} is not reachable"
    if REQUIRED:
        pytest.fail(f"{message}, and REQUIRE_SERVICES=1 forbids skipping", pytrace=False)
    pytest.skip(f"{message}: skipped (set it up, or run under REQUIRE_SERVICES=1 to make this a failure)")


def database_url() -> str:
    """The test database as a DATABASE_URL, for the processes a test starts (a worker, a
    consumer): they must see the test's rows."""
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def require_redis() -> str:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    require("Redis", reachable(url, 6379))
    return url


def require_mqtt() -> str:
    url = os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883")
    require("MQTT broker", reachable(url, 1883))
    return url


def require_chromium() -> str:
    require(f"Chromium ({CHROMIUM})", bool(shutil.which(CHROMIUM)))
    return CHROMIUM
