
import pytest

from scheduling.models import Case
from tests.conftest import TUESDAY, case_payload

URL = "/api/v1/cases/"


@pytest.mark.django_db
def test_it_books_the_earliest_free_slot_and_answers_with_arrival_and_stages(unit, front_desk):
    response = front_desk.post(URL, case_payload(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "booked"
    # Opening at 07:00: arrival 07:00, pre-op 07:30, procedure 08:30 (New York, UTC-5).
    assert body["arrival_at"] == "2026-03-03T07:00:00-05:00"
    assert [(s["kind"], s["planned_start"], s["planned_end"]) for s in body["stages"]] == [
        ("pre_op", "2026-03-03T07:30:00-05:00", "2026-03-03T08:30:00-05:00"),
        ("procedure", "2026-03-03T08:30:00-05:00", "2026-03-03T09:30:00-05:00"),
        ("cement_set", "2026-03-03T09:30:00-05:00", "2026-03-03T10:30:00-05:00"),
        ("recovery", "2026-03-03T10:30:00-05:00", "2026-03-03T12:30:00-05:00"),
    ]
    assert body["stages"][1]["resource"] == body["stages"][2]["resource"] == "Room 1"
    assert body["fasting"] == {
        "solids_until": "2026-03-03T00:30:00-05:00",
        "clear_liquids_until": "2026-03-03T06:30:00-05:00",
    }
    assert body["patient"]["phone"] == "+12125550100"
    assert body["driver"] == {"name": "Tom Whitfield", "phone": "+12125550101"}
    case = Case.objects.get(pk=body["id"])
    assert case.stages.count() == 4
    assert case.booked_by == front_desk.user


@pytest.mark.django_db
def test_it_books_at_a_given_start(unit, front_desk):
    response = front_desk.post(
        URL, case_payload(start="2026-03-03T10:15:00-05:00"), format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["stages"][1]["planned_start"] == "2026-03-03T10:15:00-05:00"


@pytest.mark.django_db
def test_it_reads_the_case_back(unit, front_desk):
    created = front_desk.post(URL, case_payload(medications=["warfarin"]), format="json").json()
    body = front_desk.get(f"{URL}{created['id']}/").json()
    assert body["medications"] == [
        {"drug": "warfarin", "name": "Warfarin", "hold_starts_on": "2026-02-26", "inr_check": True}
    ]
    listed = front_desk.get(URL, {"site": "main", "date": TUESDAY.isoformat()}).json()
    assert [case["id"] for case in listed] == [created["id"]]


@pytest.mark.django_db
def test_the_booking_answer_is_what_a_later_read_shows(unit, clinician):
    payload = case_payload(
        medications=["warfarin", "apixaban"],
        screening=case_payload()["screening"] | {"imaging_on_file": False},
        override_reason="Imaging seen on the referring hospital's system.",
    )
    created = clinician.post(URL, payload, format="json").json()
    assert clinician.get(f"{URL}{created['id']}/").json() == created
    moved = clinician.post(
        f"{URL}{created['id']}/reschedule/", {"date": "2026-03-04"}, format="json"
    ).json()
    assert clinician.get(f"{URL}{created['id']}/").json() == moved
