"""The one table of API error codes: the request's shape from api/errors.py, each app's own added
when it is ready."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from api.errors import ERROR_CODES, ApiError, error_codes_add
from scheduling.errors import ERROR_CODES as SCHEDULING_CODES
from scheduling.errors import SchedulingError


def test_the_table_holds_the_request_codes_and_the_scheduling_apps_own():
    assert ERROR_CODES["throttled"] == (429, "Too many requests.")
    assert SCHEDULING_CODES.items() <= ERROR_CODES.items()
    assert "throttled" not in SCHEDULING_CODES


def test_a_code_listed_again_with_another_status_is_refused():
    with pytest.raises(ImproperlyConfigured, match="slot_taken"):
        error_codes_add({"slot_taken": (400, "Another meaning.")})
    assert ERROR_CODES["slot_taken"][0] == 409


def test_a_code_listed_again_the_same_way_is_taken_once():
    size = len(ERROR_CODES)
    error_codes_add({"slot_taken": SCHEDULING_CODES["slot_taken"]})
    assert len(ERROR_CODES) == size


def test_a_scheduling_refusal_carries_its_codes_status_for_the_api():
    error = SchedulingError("slot_taken", "Taken.", field="start")
    assert isinstance(error, ApiError)
    assert (error.status, error.errors) == (409, {"start": ["Taken."]})
    with pytest.raises(ValueError, match="Unlisted error code"):
        ApiError("no_such_code", "?")
