"""What the patient did, on the case's history for staff: a confirm from the link or by text, a
cancel with the patient's reason, a move. The steps are the patient's (no member of staff), and
the board's undo never reverts them."""

from datetime import date, datetime, timedelta

import pytest

from notifications.inbound import inbound_text_record
from scheduling.errors import SchedulingError
from scheduling.models import CaseEvent, CaseStatus, EventSource
from scheduling.services import case_cancel, case_confirm, case_reschedule
from scheduling.services.patient_changes import case_cancel_by_patient, case_move_by_patient
from scheduling.services.tracking import case_check_in, case_undo
from tests.factories import UserFactory, case_made

pytestmark = pytest.mark.django_db
THURSDAY = date(2026, 3, 5)


@pytest.fixture
def case(unit):
    return case_made(site=unit, day=THURSDAY)


def history_rows(staff_page, case):
    html = staff_page.get(f"/cases/{case.pk}/").content.decode()
    section = html.split('id="history-heading"', 1)[1].split("</section>", 1)[0]
    return section


def test_a_cancel_on_the_link_shows_on_the_case_page_and_in_the_api(case, staff_page, manager):
    case_cancel_by_patient(case=case, reason="I feel better", expected_version=case.version)

    rows = history_rows(staff_page, case)
    assert "Cancelled by the patient on their page" in rows
    assert "I feel better" in rows
    assert rows.count("Cancelled") == 1  # not again from the case row's own time
    history = manager.get(f"/api/v1/cases/{case.pk}/").json()["history"]
    assert [(h["action"], h["source"], h["by"], h["reason"]) for h in history] == [
        ("cancel", "patient_link", None, "I feel better"),
    ]


def test_a_move_on_the_link_shows_from_and_to(case, staff_page):
    case_move_by_patient(
        case=case, start=datetime.fromisoformat("2026-03-06T08:30:00-05:00"),
        expected_version=case.version,
    )

    rows = history_rows(staff_page, case)
    assert "Moved by the patient on their page" in rows
    assert "From Thu 5 Mar 2026 07:00 to Fri 6 Mar 2026 07:00 (arrival)." in rows


def test_a_confirm_by_text_and_on_the_link_say_which(unit, staff_page):
    by_text = case_made(site=unit, day=THURSDAY)
    inbound_text_record(provider_message_id="SM" + "1" * 32, from_phone=by_text.patient.phone,
                        to_phone="", body="YES")
    on_link = case_made(site=unit, day=date(2026, 3, 6), patient={"phone": "+12125550199"})
    case_confirm(case=on_link, source=EventSource.PATIENT_LINK)

    assert "Confirmed by the patient by text" in history_rows(staff_page, by_text)
    assert "Confirmed by the patient on their page" in history_rows(staff_page, on_link)
    event = CaseEvent.objects.get(case=by_text)
    assert (event.action, event.source, event.by, event.status_before) == (
        "confirm", "patient_sms", None, "booked"
    )


def test_a_second_confirm_records_nothing(case):
    case_confirm(case=case, source=EventSource.PATIENT_LINK)
    case_confirm(case=case, source=EventSource.PATIENT_LINK)

    assert CaseEvent.objects.filter(case=case).count() == 1


def test_staff_changes_still_name_the_member_of_staff_and_write_no_patient_step(case):
    clerk = UserFactory()
    case_reschedule(case=case, day=date(2026, 3, 6), by=clerk)
    case_cancel(case=case, reason="Unwell", by=clerk)

    case.refresh_from_db()
    assert case.cancelled_by == clerk
    assert not CaseEvent.objects.filter(case=case).exists()


def test_a_change_names_either_staff_or_the_patient():
    with pytest.raises(ValueError, match="either `by`"):
        case_cancel(case=None, reason="x", by=None)
    with pytest.raises(ValueError, match="either `by`"):
        case_cancel(case=None, reason="x", by=UserFactory(), source=EventSource.PATIENT_LINK)


def test_undo_never_reverts_what_the_patient_did(unit, clock):
    nurse = UserFactory(roles=["nurse"], sites=[unit])
    today = case_made(site=unit, day=date(2026, 3, 2), start="2026-03-02T11:00:00-05:00")
    case_confirm(case=today, source=EventSource.PATIENT_LINK)

    with pytest.raises(SchedulingError) as refused:
        case_undo(case=today, by=nurse)
    assert refused.value.code == "nothing_to_undo"

    clock.shift(timedelta(seconds=30))
    case_check_in(case=today, by=nurse)
    clock.shift(timedelta(seconds=30))
    case_undo(case=today, by=nurse)

    today.refresh_from_db()
    assert today.status == CaseStatus.CONFIRMED  # the check-in undone, the confirm kept
    assert CaseEvent.objects.get(case=today, action="confirm").undone_at is None


def test_the_board_offers_no_undo_for_a_patients_confirm(unit, staff_page):
    today = case_made(site=unit, day=date(2026, 3, 2), start="2026-03-02T11:00:00-05:00")
    case_confirm(case=today, source=EventSource.PATIENT_SMS)

    html = staff_page.get(f"/board/?site={unit.code}&date=2026-03-02").content.decode()

    assert f"/{today.pk}/undo/" not in html
    assert f"/{today.pk}/check-in/" in html
