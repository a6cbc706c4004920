"""A change based on an older version of a case is refused by the service itself, so the case
page, the API and any other caller share one check, made under the case's lock."""

from datetime import datetime

import pytest

from scheduling.errors import SchedulingError
from scheduling.models import Case, CaseStatus
from scheduling.services import case_cancel, case_mark_no_show, case_reschedule
from scheduling.services.drivers import case_driver_set
from tests.factories import UserFactory, case_made

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(unit):
    return case_made(site=unit, driver_name="")


def changed_by_someone_else(case: Case) -> str:
    """The version a page drawn before this change showed."""
    shown = Case.objects.get(pk=case.pk).version
    case_driver_set(case=case, name="Sam Driver", phone="", by=UserFactory())
    return shown


def test_the_version_changes_with_each_change_of_the_case(case):
    before = Case.objects.get(pk=case.pk).version
    case_driver_set(case=case, name="Sam Driver", phone="", by=UserFactory())
    assert Case.objects.get(pk=case.pk).version != before


def test_a_cancel_based_on_an_older_version_is_refused_and_changes_nothing(case):
    shown = changed_by_someone_else(case)
    with pytest.raises(SchedulingError) as refused:
        case_cancel(case=case, reason="Patient asked", by=UserFactory(), expected_version=shown)
    assert refused.value.code == "case_changed"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.BOOKED


def test_a_reschedule_based_on_an_older_version_is_refused_and_keeps_the_time(case):
    start_before = Case.objects.get(pk=case.pk).procedure_start
    shown = changed_by_someone_else(case)
    with pytest.raises(SchedulingError) as refused:
        case_reschedule(
            case=case,
            start=datetime.fromisoformat("2026-03-05T11:00:00-05:00"),
            by=UserFactory(),
            expected_version=shown,
        )
    assert refused.value.code == "case_changed"
    assert Case.objects.get(pk=case.pk).procedure_start == start_before


def test_a_driver_change_based_on_an_older_version_is_refused(case):
    shown = changed_by_someone_else(case)
    with pytest.raises(SchedulingError) as refused:
        case_driver_set(
            case=case, name="Alex Other", phone="", by=UserFactory(), expected_version=shown
        )
    assert refused.value.code == "case_changed"
    assert Case.objects.get(pk=case.pk).driver_name == "Sam Driver"


def test_a_no_show_based_on_an_older_version_is_refused(case, clock):
    shown = changed_by_someone_else(case)
    clock.move_to(case.arrival_at)
    with pytest.raises(SchedulingError) as refused:
        case_mark_no_show(case=case, by=UserFactory(), expected_version=shown)
    assert refused.value.code == "case_changed"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.BOOKED


def test_a_change_based_on_the_current_version_goes_through(case):
    shown = Case.objects.get(pk=case.pk).version
    case_cancel(case=case, reason="Patient asked", by=UserFactory(), expected_version=shown)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CANCELLED
