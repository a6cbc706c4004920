"""A positive screening at the front desk is handed to a clinician (issue 15, item 3): the case is
saved as needs_review, holds its rooms for the site's review hours, and its patient is told
nothing until a clinician approves it; a decline or an expired hold frees its time."""

import re
from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.models import Reminder
from scheduling import roles
from scheduling.errors import SchedulingError
from scheduling.models import Case, CaseAction, CaseStatus, ProcedureType, Stage
from scheduling.selectors import slots_free
from scheduling.services import case_review_approve, case_review_decline, cases_review_expire
from scheduling.tasks import review_holds_expire
from tests.conftest import case_payload, client_for
from tests.factories import TUESDAY, UserFactory, build_unit, case_made
from vertebro_site.celery import app

pytestmark = pytest.mark.django_db

START = "2026-03-03T08:30:00-05:00"
ALLERGY = {"cement_allergy": True}


def held_for_review(site, **made) -> Case:
    return case_made(site=site, start=START, screening=ALLERGY, request_review=True, **made)


def clinician_of(site):
    user = UserFactory(roles=[roles.CLINICIAN])
    site.staff.add(user)
    return user


def starts_free(site) -> set[datetime]:
    vertebroplasty = ProcedureType.objects.get(code="vertebroplasty")
    return {
        slot.times.procedure_start
        for slot in slots_free(site=site, procedure_type=vertebroplasty, levels=1, day=TUESDAY)
    }


# The service


def test_a_blocked_booking_sent_for_review_holds_its_rooms_for_the_site_s_hours_and_tells_nobody(
    tiny_unit, outbox
):
    tiny_unit.review_hold_hours = 6
    tiny_unit.save(update_fields=["review_hold_hours"])

    case = held_for_review(tiny_unit)

    assert case.status == CaseStatus.NEEDS_REVIEW
    assert case.review_hold_until == timezone.now() + timedelta(hours=6)
    assert case.stages.filter(active=True).count() == 4  # pre-op, procedure, cement, recovery
    assert not Reminder.objects.filter(case=case).exists()
    assert outbox == []
    assert datetime.fromisoformat(START) not in starts_free(tiny_unit)


def test_the_hold_never_runs_past_the_arrival(unit):
    soon = "2026-03-02T13:00:00-05:00"  # today, arrival 11:30 New York: 4.5 hours from now
    case = case_made(site=unit, start=soon, screening=ALLERGY, request_review=True)
    assert case.review_hold_until == case.arrival_at


def test_without_review_or_override_a_blocked_booking_is_still_refused(tiny_unit):
    with pytest.raises(SchedulingError) as refused:
        case_made(site=tiny_unit, start=START, screening=ALLERGY)
    assert refused.value.code == "contraindicated"
    assert not Case.objects.exists()


def test_the_no_overlap_constraint_counts_a_held_case_as_busy(tiny_unit):
    held = held_for_review(tiny_unit).stages.get(kind="procedure")
    with pytest.raises(SchedulingError) as taken:
        case_made(site=tiny_unit, start=START)
    assert taken.value.code == "slot_taken"
    # Underneath the booking service, the database itself refuses the overlap.
    other = case_made(site=tiny_unit, day=TUESDAY + timedelta(days=1)).stages.get(kind="procedure")
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Stage.objects.filter(pk=other.pk).update(
            planned_start=held.planned_start, planned_end=held.planned_end,
            held_until=held.held_until,
        )
    assert refused.value.__cause__.sqlstate == "23P01"  # exclusion_violation


def test_a_clinician_approves_with_a_reason_and_only_then_the_patient_s_messages_are_planned(
    unit, clock
):
    case = held_for_review(unit)
    clinician = clinician_of(unit)
    clock.shift(timedelta(hours=2))

    approved = case_review_approve(case=case, by=clinician, reason="Patch test negative.")

    approved.refresh_from_db()
    assert approved.status == CaseStatus.BOOKED
    assert approved.screening_override_reason == "Patch test negative."
    assert approved.screening_overridden_by == clinician
    assert approved.screening_overridden_at == timezone.now()
    assert approved.review_hold_until is None
    planned = Reminder.objects.filter(case=approved, audience="patient")
    assert planned.exists()
    assert approved.events.get().action == CaseAction.REVIEW_APPROVE


def test_a_clinician_declines_with_a_reason_the_time_is_freed_and_the_patient_sent_nothing(
    tiny_unit, outbox
):
    case = held_for_review(tiny_unit)

    declined = case_review_decline(
        case=case, by=clinician_of(tiny_unit), reason="Infection on the imaging."
    )

    declined.refresh_from_db()
    assert declined.status == CaseStatus.CANCELLED
    assert "Infection on the imaging." in declined.cancel_reason
    assert not declined.stages.filter(active=True).exists()
    assert not Reminder.objects.filter(case=declined).exists()
    assert outbox == []
    assert case_made(site=tiny_unit, start=START).status == CaseStatus.BOOKED


@pytest.mark.parametrize("decide", [case_review_approve, case_review_decline])
def test_the_front_desk_may_not_decide_a_review(unit, decide):
    case = held_for_review(unit)
    with pytest.raises(SchedulingError) as refused:
        decide(case=case, by=case.booked_by, reason="Looks fine.")
    assert refused.value.code == "review_not_allowed"


@pytest.mark.parametrize("decide", [case_review_approve, case_review_decline])
def test_a_decision_needs_a_reason(unit, decide):
    case = held_for_review(unit)
    with pytest.raises(SchedulingError) as refused:
        decide(case=case, by=clinician_of(unit), reason="   ")
    assert refused.value.code == "reason_required"
    assert Case.objects.get().status == CaseStatus.NEEDS_REVIEW


def test_a_booked_case_is_not_awaiting_review(unit):
    case = case_made(site=unit)
    with pytest.raises(SchedulingError) as refused:
        case_review_approve(case=case, by=clinician_of(unit), reason="Fine.")
    assert refused.value.code == "not_awaiting_review"


def test_the_hold_runs_out_after_the_site_s_hours_and_the_rooms_are_released(tiny_unit, clock):
    case = held_for_review(tiny_unit)
    clock.shift(timedelta(hours=23, minutes=59))
    assert review_holds_expire() == 0
    assert Case.objects.get().status == CaseStatus.NEEDS_REVIEW

    clock.shift(timedelta(minutes=1))
    assert cases_review_expire() == 1

    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert not case.stages.filter(active=True).exists()
    assert case.events.get().action == CaseAction.REVIEW_EXPIRE
    with pytest.raises(SchedulingError) as late:
        case_review_approve(case=case, by=clinician_of(tiny_unit), reason="Fine.")
    assert late.value.code == "not_awaiting_review"


def test_the_expiry_runs_on_the_beat_as_a_registered_task():
    app.loader.import_default_modules()
    assert app.conf.beat_schedule["review-holds-expire"]["task"] in app.tasks


def test_approving_after_the_hold_ran_out_but_before_the_sweep_is_refused(unit, clock):
    case = held_for_review(unit)
    clock.shift(timedelta(hours=25))
    with pytest.raises(SchedulingError) as late:
        case_review_approve(case=case, by=clinician_of(unit), reason="Fine.")
    assert late.value.code == "review_expired"


# The API


def test_the_api_books_for_review_on_request_and_shows_the_status(unit):
    front_desk = client_for(roles.FRONT_DESK)
    blocked = case_payload(screening=case_payload()["screening"] | ALLERGY)

    refused = front_desk.post("/api/v1/cases/", blocked, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "contraindicated"

    answer = front_desk.post("/api/v1/cases/", blocked | {"request_review": True}, format="json")
    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "needs_review"
    assert body["flags"][0] == "needs_review"
    assert body["review_hold_until"] is not None


def test_the_api_lets_a_clinician_approve_and_refuses_the_front_desk(unit):
    case = held_for_review(unit)
    front_desk = client_for(roles.FRONT_DESK)
    clinician = client_for(roles.CLINICIAN)
    url = f"/api/v1/cases/{case.pk}/review/approve/"

    assert front_desk.post(url, {"reason": "Fine."}, format="json").status_code == 403
    missing = clinician.post(url, {"reason": ""}, format="json")
    assert (missing.status_code, missing.json()["code"]) == (400, "reason_required")

    answer = clinician.post(url, {"reason": "Fine."}, format="json")
    assert answer.status_code == 200
    assert answer.json()["status"] == "booked"
    assert answer.json()["screening_override"]["reason"] == "Fine."
    again = clinician.post(url, {"reason": "Fine."}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "not_awaiting_review")


def test_the_api_declines(unit):
    case = held_for_review(unit)
    answer = client_for(roles.CLINICIAN).post(
        f"/api/v1/cases/{case.pk}/review/decline/", {"reason": "Not now."}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "cancelled"


# The pages


def test_the_review_list_and_the_booking_form_spell_a_blocker_the_en_us_way(client, unit):
    case_made(site=unit, start=START, screening={"tumor_in_canal": True}, request_review=True)
    client.force_login(clinician_of(unit))

    page = client.get("/review/").content.decode()
    assert "Tumor extends into the spinal canal." in page

    posted = case_payload()
    answers = {name: "yes" if value else "no" for name, value in posted["screening"].items()
               if isinstance(value, bool)}
    page = client.post("/book/", {
        **answers, "tumor_in_canal": "yes", "conservative_treatment_weeks": "8",
        "action": "slots", "site": "main", "procedure_type": "vertebroplasty", "levels": "1",
        "date": "2026-03-03",
    }).content.decode()
    assert "Tumor extends into the spinal canal." in page
    assert "umour" not in page


def test_the_review_list_shows_the_clinician_s_sites_only_and_approves_in_one_post(client, unit):
    other = build_unit(code="north", name="North", sms_number="+12125550199")
    mine = held_for_review(unit)
    theirs = held_for_review(other, patient={"last_name": "Elsewhere"})
    client.force_login(clinician_of(unit))

    page = client.get("/review/").content.decode()
    assert "Whitfield" in page
    assert "Allergy to bone cement." in page
    assert "Elsewhere" not in page

    assert client.post(f"/review/{theirs.pk}/",
                       {"decision": "approve", "reason": "Fine."}).status_code == 404
    done = client.post(f"/review/{mine.pk}/", {"decision": "approve", "reason": "Fine."},
                       follow=True)
    assert "approved and booked" in done.content.decode()
    assert Case.objects.get(pk=mine.pk).status == CaseStatus.BOOKED
    assert Case.objects.get(pk=theirs.pk).status == CaseStatus.NEEDS_REVIEW


def test_a_decision_without_a_reason_is_told_and_changes_nothing(client, unit):
    case = held_for_review(unit)
    client.force_login(clinician_of(unit))
    answer = client.post(f"/review/{case.pk}/", {"decision": "decline", "reason": ""},
                         follow=True)
    assert "Write the reason for your decision." in answer.content.decode()
    assert Case.objects.get().status == CaseStatus.NEEDS_REVIEW


@pytest.mark.parametrize("data", [{}, {"decision": "maybe", "reason": "x"}, {"reason": "x"}])
def test_a_bad_decision_is_told_not_a_500(client, unit, data):
    case = held_for_review(unit)
    client.force_login(clinician_of(unit))
    assert client.post(f"/review/{case.pk}/", data).status_code == 302
    assert Case.objects.get().status == CaseStatus.NEEDS_REVIEW


def test_the_review_list_is_for_clinicians(client, unit):
    user = UserFactory(roles=[roles.FRONT_DESK])
    unit.staff.add(user)
    client.force_login(user)
    assert client.get("/review/").status_code == 403
    client.logout()
    assert client.get("/review/").status_code == 302


def test_the_front_desk_books_a_blocked_case_for_review_from_the_booking_page(client, unit):
    clerk = UserFactory(roles=[roles.FRONT_DESK])
    unit.staff.add(clerk)
    client.force_login(clerk)
    token = re.search(r'name="token" value="([0-9a-f]+)"',
                      client.get("/book/").content.decode()).group(1)
    data = {
        "token": token, "first_name": "Margaret", "last_name": "Whitfield",
        "date_of_birth": "1948-05-17", "mrn": "MRN-1001", "phone": "(212) 555-0100",
        "preferred_channel": "sms", "language": "en", "active_infection": "no",
        "fracture_painful": "yes", "bleeding_disorder": "no", "tumor_in_canal": "no",
        "cement_allergy": "yes", "traumatic": "no", "conservative_treatment_weeks": "8",
        "imaging_on_file": "yes", "site": "main", "procedure_type": "vertebroplasty",
        "levels": "1", "date": TUESDAY.isoformat(), "start": START, "action": "book",
        "no_medicines": "on",
    }

    answer = client.post("/book/", data, follow=True)

    case = Case.objects.get()
    assert case.status == CaseStatus.NEEDS_REVIEW
    assert answer.redirect_chain[-1][0] == f"/cases/{case.pk}/"
    assert "tell the patient no time yet" in answer.content.decode()
    assert not Reminder.objects.exists()


def test_the_day_list_marks_a_case_awaiting_review(client, unit):
    held_for_review(unit)
    user = UserFactory(roles=[roles.FRONT_DESK])
    unit.staff.add(user)
    client.force_login(user)
    page = client.get("/day/", {"site": "main", "date": TUESDAY.isoformat()}).content.decode()
    assert "Awaiting clinician review" in page


def test_the_board_marks_a_case_awaiting_review(client, unit):
    held_for_review(unit)
    day = {"site": "main", "date": TUESDAY.isoformat()}
    board = client_for(roles.NURSE).get("/api/v1/board/", day).json()
    assert [line["flags"] for line in board["cases"]] == [["needs_review"]]
    client.force_login(UserFactory(roles=[roles.NURSE], sites=[unit]))
    assert "Awaiting clinician review" in client.get("/board/", day).content.decode()


def test_the_free_times_panel_says_when_the_booking_will_go_to_review(client, unit):
    """booking.js posts the whole form for the panel: a blocking answer is said beside the times,
    before Book is pressed."""
    clerk = UserFactory(roles=[roles.FRONT_DESK])
    unit.staff.add(clerk)
    client.force_login(clerk)
    data = {
        "active_infection": "no", "fracture_painful": "yes", "bleeding_disorder": "no",
        "tumor_in_canal": "no", "cement_allergy": "no", "traumatic": "no",
        "conservative_treatment_weeks": "8", "imaging_on_file": "yes", "site": "main",
        "procedure_type": "vertebroplasty", "levels": "1", "date": TUESDAY.isoformat(),
    }
    headers = {"X-Requested-With": "booking.js"}

    clear = client.post("/book/times/", data, headers=headers).content.decode()
    blocked = client.post("/book/times/", data | {"cement_allergy": "yes"},
                          headers=headers).content.decode()

    assert 'id="review-notice"' not in clear
    assert ">Book</button>" in clear
    assert 'id="review-notice"' in blocked
    assert "Book for a clinician's review" in blocked
    assert not Case.objects.exists()


def test_the_review_list_writes_times_on_the_site_clock_24_h_en_gb_12_h_en_us(client, unit):
    held_for_review(unit)
    client.force_login(clinician_of(unit))
    page = client.get("/review/").content.decode()
    assert "on Tuesday, March 3, 2026: arrival 7:00 AM, procedure 8:30 AM" in page

    unit.locale = "en-GB"
    unit.save(update_fields=["locale"])
    page = client.get("/review/").content.decode()

    assert "on Tuesday 3 March 2026: arrival 07:00, procedure 08:30" in page
    assert " AM" not in page
    assert " PM" not in page
