"""benchmarks/bench_reports.py measures whatever is registered: each report's run(), page and
API (live, then after rollups.refresh()), and says so clearly when nothing is registered."""

import sys
from pathlib import Path

import pytest

from gasworks.reports import framework
from tests.reports.test_framework import Sample

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_reports

pytestmark = pytest.mark.django_db


class Counting(Sample):
    """The frame's sample report, counting its runs."""

    name = "bench-sample"
    calls = 0

    def run(self, params):
        Counting.calls += 1
        return super().run(params)


@pytest.fixture
def no_reports():
    """REPORTS emptied in place (the views hold the same dict), restored afterwards."""
    saved = dict(framework.REPORTS)
    framework.REPORTS.clear()
    yield
    framework.REPORTS.clear()
    framework.REPORTS.update(saved)


@pytest.fixture
def only_sample(no_reports, monkeypatch):
    monkeypatch.setattr(bench_reports, "GOAL_MS", 1e9)
    return framework.register(Counting())


def test_every_registered_report_is_timed_live_and_from_rollups_on_run_page_and_api(only_sample):
    lines: list[str] = []
    Counting.calls = 0
    rows = bench_reports.run(runs=2, out=lines.append)
    (row,) = rows
    assert row["report"] == "bench-sample"
    assert set(row) >= {"run", "page", "api", "live_p50", "ratio"}
    # run() twice live and twice from rollups, and once per page or API request (warm-up + 2 each)
    assert Counting.calls == 2 + 2 + 2 * (3 + 3)
    assert any(line.startswith("bench-sample") for line in lines)
    assert any("rollups.refresh" in line for line in lines)


def test_a_full_year_is_asked_of_each_kind_of_report(only_sample):
    from datetime import date

    assert bench_reports.year_query(only_sample, date(2026, 11, 27)) == {"from": "2025-11", "to": "2026-10"}
    only_sample.period = "day"
    assert bench_reports.year_query(only_sample, date(2026, 11, 27)) == {
        "from": "2025-11-28",
        "to": "2026-11-27",
    }


def test_with_no_report_registered_it_says_so(no_reports):
    lines: list[str] = []
    assert bench_reports.run(runs=1, out=lines.append) == []
    assert lines == [
        "no reports registered (gasworks.reports.framework.REPORTS is empty): nothing to measure"
    ]
