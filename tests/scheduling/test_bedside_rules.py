"""The nurses' rules as plain functions (scheduling/bedside.py), without a database."""

from datetime import UTC, datetime, timedelta

from scheduling.bedside import discharge_unmet

TEN = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
MET = {
    "latest_score": 10, "score_minimum": 9, "recovery_vitals": True, "driver_name": "Ann",
    "driver_present": True, "minimum_minutes": 30,
}


def test_a_recovery_that_ended_early_counts_until_it_ended_not_until_now():
    ended = discharge_unmet(
        recovery_start=TEN, recovery_end=TEN + timedelta(minutes=20),
        now=TEN + timedelta(hours=2), **MET,
    )
    assert ended == {"recovery_minimum": "Recovery has lasted 20 min; the minimum is 30 min."}


def test_a_running_recovery_counts_until_now():
    assert discharge_unmet(recovery_start=TEN, now=TEN + timedelta(minutes=30), **MET) == {}
    assert list(
        discharge_unmet(recovery_start=TEN, now=TEN + timedelta(minutes=29, seconds=59), **MET)
    ) == ["recovery_minimum"]
