"""Reschedule, cancel and no-show."""

from datetime import time

import pytest

from scheduling.models import Case, CaseStatus, Stage
from tests.conftest import case_payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/cases/"


def book(client, mrn="MRN-1", **overrides):
    payload = case_payload(patient=case_payload()["patient"] | {"mrn": mrn}, **overrides)
    response = client.post(URL, payload, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def stage_starts(case_id):
    return list(Stage.objects.filter(case_id=case_id).values_list("planned_start", flat=True))


def test_reschedule_to_a_start_moves_every_stage(unit, front_desk):
    case = book(front_desk, medications=["warfarin"])
    response = front_desk.post(
        f"{URL}{case['id']}/reschedule/", {"start": "2026-03-05T11:00:00-05:00"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["date"] == "2026-03-05"
    assert body["arrival_at"] == "2026-03-05T09:30:00-05:00"
    assert body["stages"][1]["planned_start"] == "2026-03-05T11:00:00-05:00"
    assert body["medications"][0]["hold_starts_on"] == "2026-02-28"
    assert Stage.objects.filter(case_id=case["id"]).count() == 4


def test_reschedule_to_a_date_takes_its_earliest_slot(unit, front_desk):
    case = book(front_desk)
    response = front_desk.post(f"{URL}{case['id']}/reschedule/", {"date": "2026-03-06"},
                               format="json")
    assert response.status_code == 200
    assert response.json()["stages"][1]["planned_start"] == "2026-03-06T08:30:00-05:00"


def test_reschedule_by_a_few_minutes_does_not_collide_with_itself(tiny_unit, front_desk):
    case = book(front_desk)  # 08:30 in the only room
    response = front_desk.post(
        f"{URL}{case['id']}/reschedule/", {"start": "2026-03-03T08:45:00-05:00"}, format="json"
    )
    assert response.status_code == 200, response.json()


def test_a_failed_reschedule_keeps_the_old_time(tiny_unit, front_desk):
    first = book(front_desk, mrn="MRN-1")
    second = book(front_desk, mrn="MRN-2")
    before = stage_starts(second["id"])
    response = front_desk.post(
        f"{URL}{second['id']}/reschedule/",
        {"start": first["stages"][1]["planned_start"]},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "slot_taken"
    assert stage_starts(second["id"]) == before
    assert Case.objects.get(pk=second["id"]).procedure_start == before[1]


def test_reschedule_needs_a_start_or_a_date(unit, front_desk):
    case = book(front_desk)
    response = front_desk.post(f"{URL}{case['id']}/reschedule/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "start_or_date_required"


def test_reschedule_to_the_past_is_refused(unit, front_desk):
    case = book(front_desk)
    response = front_desk.post(f"{URL}{case['id']}/reschedule/", {"date": "2026-02-27"},
                               format="json")
    assert response.json()["code"] == "date_in_past"
    assert stage_starts(case["id"])[1].astimezone(unit.zone).time() == time(8, 30)


def test_cancel_keeps_the_reason_and_frees_the_rooms(tiny_unit, front_desk):
    case = book(front_desk, mrn="MRN-1")
    response = front_desk.post(f"{URL}{case['id']}/cancel/", {"reason": "Patient has a cold"},
                               format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "Patient has a cold"
    assert not Stage.objects.filter(case_id=case["id"], active=True).exists()
    again = book(front_desk, mrn="MRN-2")
    assert again["stages"][1]["planned_start"] == case["stages"][1]["planned_start"]


def test_cancel_needs_a_reason(unit, front_desk):
    case = book(front_desk)
    response = front_desk.post(f"{URL}{case['id']}/cancel/", {"reason": " "}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "reason_required"
    assert Case.objects.get().status == CaseStatus.BOOKED


def test_a_cancelled_case_cannot_be_rescheduled_or_cancelled_again(unit, front_desk):
    case = book(front_desk)
    front_desk.post(f"{URL}{case['id']}/cancel/", {"reason": "Moved away"}, format="json")
    again = front_desk.post(f"{URL}{case['id']}/cancel/", {"reason": "x"}, format="json")
    moved = front_desk.post(f"{URL}{case['id']}/reschedule/", {"date": "2026-03-05"},
                            format="json")
    assert again.status_code == moved.status_code == 409
    assert moved.json()["code"] == "case_not_changeable"


def test_no_show_waits_for_the_arrival_time(unit, front_desk, clock):
    case = book(front_desk)
    early = front_desk.post(f"{URL}{case['id']}/no-show/")
    assert early.status_code == 409
    assert early.json()["code"] == "not_yet_due"
    clock.move_to("2026-03-03T13:00:00+00:00")  # 08:00 in New York, an hour after arrival
    late = front_desk.post(f"{URL}{case['id']}/no-show/")
    assert late.status_code == 200
    assert late.json()["status"] == "no_show"
    assert not Stage.objects.filter(case_id=case["id"], active=True).exists()


def test_an_unknown_case_is_404(unit, front_desk):
    for url in [f"{URL}999/", f"{URL}999/cancel/", f"{URL}{10**25}/"]:
        response = front_desk.post(url, {"reason": "x"}, format="json") if "cancel" in url \
            else front_desk.get(url)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
