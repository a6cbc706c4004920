"""The SIU messages are written by the booking services in their own transaction (issue 18): a
row per configured endpoint, in each case's order, for a booking (S12), a move (S13), a
cancellation (S15) and a no-show (S26); none when the change does not happen, and none at all,
at no cost, when no endpoint is configured."""

from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from hl7v2.models import OutboundMessage, OutboundStatus, SiuTrigger
from hl7v2.outbox import siu_write
from scheduling import roles
from scheduling.errors import SchedulingError
from scheduling.models import Case, CaseStatus
from scheduling.services import (
    case_cancel,
    case_mark_no_show,
    case_reschedule,
    case_review_approve,
    case_review_decline,
)
from scheduling.services.patient_changes import case_move_by_patient
from tests.factories import UserFactory, case_made
from tests.hl7v2.siu_read import ENDPOINTS, parsed, resource_groups, rows_of, strictly_valid

pytestmark = pytest.mark.django_db

START = "2026-03-03T09:00:00-05:00"
MOVED_TO = datetime.fromisoformat("2026-03-04T11:00:00-05:00")


@pytest.fixture
def endpoints(settings):
    settings.HL7_ENDPOINTS = ENDPOINTS


def booked(site, **made) -> Case:
    return case_made(site=site, **({"start": START} | made))


def test_a_booking_writes_one_planned_s12_per_endpoint(unit, endpoints):
    case = booked(unit)
    rows = list(OutboundMessage.objects.filter(case=case).order_by("endpoint"))
    assert [(row.endpoint, row.trigger, row.sequence) for row in rows] == [
        ("engine", "S12", 1), ("radiology", "S12", 1)
    ]
    for row in rows:
        assert row.status == OutboundStatus.PLANNED
        assert row.due_at == timezone.now()
        assert row.site_id == unit.pk
        assert len(row.control_id) <= 20
        assert parsed(row)["MSH.F10"] == row.control_id
        assert strictly_valid(row)
    assert rows[0].control_id != rows[1].control_id


def test_nothing_is_written_without_an_endpoint_and_it_costs_no_statement(
    unit, settings, django_assert_num_queries
):
    settings.HL7_ENDPOINTS = {}
    case = booked(unit)
    assert not OutboundMessage.objects.exists()
    with django_assert_num_queries(0):
        assert siu_write(case=case, trigger=SiuTrigger.CHANGED) == []


def test_a_booking_refused_writes_no_message(unit, endpoints):
    with pytest.raises(SchedulingError):
        booked(unit, screening={"cement_allergy": True})
    assert not OutboundMessage.objects.exists()


def test_the_messages_go_with_the_booking_s_transaction(unit, endpoints):
    """Written in the booking's transaction: rolled back with it, they were never told."""
    written = []

    def book_then_fail():
        with transaction.atomic():
            booked(unit)
            written.append(OutboundMessage.objects.count())
            raise RuntimeError("the caller's transaction fails after the booking")

    with pytest.raises(RuntimeError):
        book_then_fail()
    assert written == [2]
    assert not Case.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_a_move_keeps_the_appointment_s_ids_and_writes_s13_next_in_order(unit, endpoints):
    case = booked(unit)
    [first] = rows_of(case)
    moved = case_reschedule(case=case, by=case.booked_by, start=MOVED_TO)
    s12, s13 = rows_of(case)
    assert s12 == first
    assert (s13.trigger, s13.sequence) == ("S13", 2)
    assert strictly_valid(s13)
    before, after = parsed(s12), parsed(s13)
    assert str(after.segment("MSH")(9)) == "SIU^S13^SIU_S12"
    for field in ("SCH.F1.R1.C1", "SCH.F1.R1.C2", "SCH.F2.R1.C1", "SCH.F2.R1.C2"):
        assert after[field] == before[field]
    procedure = moved.stages.get(kind="procedure")
    assert str(resource_groups(after)[1][0](3)(1)(1)) == "procedure"
    ail = [s for s in resource_groups(after)[1] if str(s[0]) == "AIL"][0]
    assert str(ail(6)) == procedure.planned_start.astimezone(unit.zone).strftime(
        "%Y%m%d%H%M%S%z"
    ) == "20260304110000-0500"
    assert after["SCH.F25.R1.C1"] == "Booked"
    assert [row.sequence for row in rows_of(case, "radiology")] == [1, 2]


def test_a_cancellation_writes_s15_with_the_reason(unit, endpoints):
    case = booked(unit)
    case_reschedule(case=case, by=case.booked_by, start=MOVED_TO)
    case_cancel(case=case, reason="Patient has a chest infection", by=case.booked_by)
    s15 = rows_of(case)[-1]
    assert (s15.trigger, s15.sequence) == ("S15", 3)
    assert strictly_valid(s15)
    message = parsed(s15)
    assert message["SCH.F6.R1.C1"] == "S15"
    assert message["SCH.F6.R1.C2"] == "Patient has a chest infection"
    assert message["SCH.F25.R1.C1"] == "Cancelled"
    assert message["SCH.F1.R1.C1"] == str(case.pk)


def test_a_no_show_writes_s26(unit, endpoints, clock):
    case = booked(unit)
    clock.move_to(case.arrival_at + timedelta(minutes=5))
    case_mark_no_show(case=case, by=UserFactory())
    s26 = rows_of(case)[-1]
    assert (s26.trigger, s26.sequence) == ("S26", 2)
    assert strictly_valid(s26)
    assert parsed(s26)["SCH.F25.R1.C1"] == "Noshow"


def test_a_change_refused_writes_nothing(unit, endpoints):
    case = booked(unit)
    with pytest.raises(SchedulingError):
        case_cancel(case=case, reason="", by=case.booked_by)
    with pytest.raises(SchedulingError):
        case_mark_no_show(case=case, by=UserFactory())  # not due yet
    assert [row.trigger for row in rows_of(case)] == ["S12"]


def clinician_of(site):
    return UserFactory(roles=[roles.CLINICIAN], sites=[site])


def test_a_case_under_review_is_told_only_once_a_clinician_approves_it(unit, endpoints):
    case = booked(unit, screening={"cement_allergy": True}, request_review=True)
    assert case.status == CaseStatus.NEEDS_REVIEW
    assert not OutboundMessage.objects.exists()
    case_review_approve(case=case, by=clinician_of(unit), reason="Patch test negative.")
    [s12] = rows_of(case)
    assert (s12.trigger, s12.sequence) == ("S12", 1)
    assert parsed(s12)["SCH.F25.R1.C1"] == "Booked"


def test_a_case_under_review_declined_or_cancelled_was_never_told(unit, endpoints):
    declined = booked(unit, screening={"cement_allergy": True}, request_review=True)
    case_review_decline(case=declined, by=clinician_of(unit), reason="Allergy confirmed.")
    cancelled = booked(unit, screening={"cement_allergy": True}, request_review=True,
                       patient={"mrn": "MRN-OTHER"}, start="2026-03-03T11:00:00-05:00")
    case_cancel(case=cancelled, reason="Went elsewhere.", by=cancelled.booked_by)
    assert not OutboundMessage.objects.exists()


def test_an_endpoint_configured_after_the_booking_hears_of_a_move_as_a_booking(
    unit, settings
):
    settings.HL7_ENDPOINTS = {"engine": ENDPOINTS["engine"]}
    case = booked(unit)
    settings.HL7_ENDPOINTS = ENDPOINTS
    case_reschedule(case=case, by=case.booked_by, start=MOVED_TO)
    assert [(row.trigger, row.sequence) for row in rows_of(case, "engine")] == [
        ("S12", 1), ("S13", 2)
    ]
    [late] = rows_of(case, "radiology")
    assert (late.trigger, late.sequence) == ("S12", 1)
    assert parsed(late)["SCH.F11.R1.C4"] == "20260304100000-0500"  # its pre-op


def test_an_endpoint_configured_after_the_booking_is_not_told_of_a_cancellation(
    unit, settings
):
    settings.HL7_ENDPOINTS = {"engine": ENDPOINTS["engine"]}
    case = booked(unit)
    settings.HL7_ENDPOINTS = ENDPOINTS
    case_cancel(case=case, reason="Unwell.", by=case.booked_by)
    assert [row.trigger for row in rows_of(case, "engine")] == ["S12", "S15"]
    assert rows_of(case, "radiology") == []


def test_a_move_the_patient_made_is_told_as_entered_by_the_unit_s_application(
    unit, endpoints, settings
):
    settings.HL7_SENDING_APPLICATION = "VERTEBRO"
    # Far enough ahead for the patient to move it from their link page.
    case = booked(unit, start="2026-03-05T09:00:00-05:00")
    case_move_by_patient(case=case, start=datetime.fromisoformat("2026-03-06T10:00:00-05:00"),
                         expected_version=case.version)
    s13 = rows_of(case)[-1]
    assert (s13.trigger, s13.sequence) == ("S13", 2)
    message = parsed(s13)
    assert message["SCH.F20.R1.C1"] == "VERTEBRO"
    assert message["SCH.F1.R1.C1"] == str(case.pk)
