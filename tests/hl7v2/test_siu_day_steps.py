"""The day's steps that change what the engine shows of the appointment (its filler status,
SCH-25) are told as S14: checked in (Started), discharged (Complete), and a check-in undone
(Booked again). The stages in between change nothing the engine shows, and are not told."""

import pytest

from hl7v2.models import OutboundMessage
from scheduling import roles
from scheduling.models import CaseStatus
from scheduling.services.tracking import case_check_in, case_undo
from tests.factories import UserFactory, case_made, case_tracked
from tests.hl7v2.siu_read import ENDPOINTS, parsed, rows_of, strictly_valid

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoints(settings):
    settings.HL7_ENDPOINTS = ENDPOINTS


def told(case) -> list[tuple[str, int, str]]:
    return [
        (row.trigger, row.sequence, parsed(row)["SCH.F25.R1.C1"]) for row in rows_of(case)
    ]


def test_a_check_in_is_told_as_started_and_its_undo_as_booked_again(unit, endpoints):
    case = case_made(site=unit, start="2026-03-02T10:00:00-05:00")
    nurse = UserFactory(roles=[roles.NURSE], sites=[unit])
    case_check_in(case=case, by=nurse)
    case_undo(case=case, by=nurse)
    assert told(case) == [("S12", 1, "Booked"), ("S14", 2, "Started"), ("S14", 3, "Booked")]
    s14 = rows_of(case)[1]
    assert strictly_valid(s14)
    assert parsed(s14)["SCH.F20.R1.C1"] == str(nurse.pk)
    assert OutboundMessage.objects.filter(case=case, endpoint="radiology").count() == 3


def test_a_day_from_check_in_to_discharge_tells_started_then_complete(unit, endpoints):
    case = case_tracked(site=unit, through=CaseStatus.DISCHARGED)
    assert told(case) == [("S12", 1, "Booked"), ("S14", 2, "Started"), ("S14", 3, "Complete")]
