"""FHIR date search values: the span a value's precision covers, its offset, and what each
prefix keeps, on the instants around a day's edges."""

from datetime import UTC, date, datetime

import pytest
from django.db.models import Q

from api.errors import ApiError
from fhir.params import date_range, reference_id


def test_a_date_covers_its_day_month_or_year_in_utc():
    day = date_range("date", "2026-03-03")
    assert (day.prefix, day.low) == ("eq", datetime(2026, 3, 3, tzinfo=UTC))
    assert day.high == datetime(2026, 3, 4, tzinfo=UTC)
    assert date_range("date", "2026-12").high == datetime(2027, 1, 1, tzinfo=UTC)
    assert date_range("date", "2024-02").high == datetime(2024, 3, 1, tzinfo=UTC)
    assert date_range("date", "2026").high == datetime(2027, 1, 1, tzinfo=UTC)


def test_a_time_carries_its_offset_and_covers_its_precision():
    span = date_range("date", "ge2026-03-03T09:00-05:00")
    assert (span.prefix, span.low) == ("ge", datetime(2026, 3, 3, 14, 0, tzinfo=UTC))
    assert span.high == datetime(2026, 3, 3, 14, 1, tzinfo=UTC)
    assert date_range("date", "2026-03-03T09:00:30Z").high == datetime(
        2026, 3, 3, 9, 0, 31, tzinfo=UTC
    )


@pytest.mark.parametrize(("value", "expected"), [
    ("eq", {"on the day"}), ("ne", {"day before", "day after"}), ("gt", {"day after"}),
    ("sa", {"day after"}), ("lt", {"day before"}), ("eb", {"day before"}),
    ("ge", {"on the day", "day after"}), ("le", {"day before", "on the day"}),
])
def test_each_prefix_keeps_what_the_spec_says(value, expected):
    instants = {
        "day before": datetime(2026, 3, 2, 23, 59, tzinfo=UTC),
        "on the day": datetime(2026, 3, 3, 14, 0, tzinfo=UTC),
        "day after": datetime(2026, 3, 4, 0, 0, tzinfo=UTC),
    }
    span = date_range("date", f"{value}2026-03-03")
    kept = {name for name, moment in instants.items() if _holds(span.q("at"), moment)}
    assert kept == expected


def _holds(q: Q, moment: datetime) -> bool:
    """Whether a Q of `at__gte`/`at__lt` lookups (possibly negated) holds for `moment`."""
    results = []
    for child in q.children:
        if isinstance(child, Q):
            results.append(_holds(child, moment))
        else:
            lookup, bound = child
            results.append(moment >= bound if lookup.endswith("__gte") else moment < bound)
    held = all(results) if q.connector == "AND" else any(results)
    return not held if q.negated else held


def test_a_birth_date_span_is_whole_days():
    span = date_range("birthdate", "1948-05").as_dates()
    assert (span.low, span.high) == (date(1948, 5, 1), date(1948, 6, 1))


@pytest.mark.parametrize("value", [
    "2026-3-3", "2026-03-03T09:00", "2026-02-29", "2026-03-03T25:00Z", "tomorrow", "",
    "zz2026-03-03", "2026-03-03 ", "9999", "9999-12-31", "0001-01-01T00:00+01:00",
])
def test_what_is_not_a_fhir_date_is_refused(value):
    with pytest.raises(ApiError) as refused:
        date_range("date", value)
    assert refused.value.code == "fhir_invalid_parameter"


def test_a_reference_names_its_type_or_is_a_bare_id():
    assert reference_id("patient", "Patient/42", "Patient") == "42"
    assert reference_id("patient", "https://unit.example/fhir/R4/Patient/42", "Patient") == "42"
    assert reference_id("location", "site-3", "Location") == "site-3"
    with pytest.raises(ApiError):
        reference_id("patient", "Location/42", "Patient")
