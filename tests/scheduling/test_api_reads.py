from datetime import time

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext

from scheduling.models import OpeningHours
from tests.conftest import case_payload

pytestmark = pytest.mark.django_db
AVAILABILITY = "/api/v1/availability/"


def test_sites_list_their_zone_and_hours(unit, nurse):
    (site,) = nurse.get("/api/v1/sites/").json()
    assert site["code"] == "main"
    assert site["time_zone"] == "America/New_York"
    assert site["opening_hours"][0] == {"weekday": 0, "opens": "07:00:00", "closes": "18:00:00"}


def test_procedure_types_list_their_stages_in_order(unit, nurse):
    (procedure_type,) = nurse.get("/api/v1/procedure-types/").json()
    assert procedure_type["code"] == "vertebroplasty"
    assert [s["kind"] for s in procedure_type["stage_templates"]] == [
        "pre_op", "procedure", "cement_set", "recovery"
    ]


def test_availability_lists_free_starts_with_arrival_and_stages(tiny_unit, front_desk):
    params = {"site": "main", "procedure_type": "vertebroplasty", "date": "2026-03-03"}
    slots = front_desk.get(AVAILABILITY, params).json()["slots"]
    assert slots[0]["start"] == "2026-03-03T08:30:00-05:00"
    assert slots[0]["arrival_at"] == "2026-03-03T07:00:00-05:00"
    assert [s["resource"] for s in slots[0]["stages"]] == ["Pre-op 1", "Room 1", "Room 1",
                                                           "Recovery 1"]
    front_desk.post("/api/v1/cases/", case_payload(), format="json")
    after = front_desk.get(AVAILABILITY, params).json()["slots"]
    assert after[0]["start"] == "2026-03-03T10:45:00-05:00"


def test_availability_today_offers_only_arrivals_still_ahead(tiny_unit, front_desk):
    # The clock stands at 07:00 in New York on Monday 2 March.
    params = {"site": "main", "procedure_type": "vertebroplasty", "date": "2026-03-02"}
    slots = front_desk.get(AVAILABILITY, params).json()["slots"]
    assert slots[0]["arrival_at"] == "2026-03-02T07:00:00-05:00"
    OpeningHours.objects.filter(weekday=0).update(opens=time(6))
    slots = front_desk.get(AVAILABILITY, params).json()["slots"]
    assert slots[0]["arrival_at"] == "2026-03-02T07:00:00-05:00"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"date": "2026-03-01"}, "date_in_past"),
        ({"levels": 9}, "levels_out_of_range"),
        ({"site": "elsewhere"}, "unknown_site"),
        ({"procedure_type": "x"}, "unknown_procedure_type"),
        ({"surgeon": "x"}, "unknown_surgeon"),
        ({"date": "tuesday"}, "invalid"),
    ],
)
def test_availability_refuses_bad_queries(unit, front_desk, params, code):
    query = {"site": "main", "procedure_type": "vertebroplasty", "date": "2026-03-03"} | params
    response = front_desk.get(AVAILABILITY, query)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_a_closed_day_has_no_slots(unit, front_desk):
    query = {"site": "main", "procedure_type": "vertebroplasty", "date": "2026-03-07"}
    assert front_desk.get(AVAILABILITY, query).json()["slots"] == []


def day_list_queries(client) -> int:
    # Each request resets Django's query log, so start the capture from an empty log.
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/cases/", {"site": "main", "date": "2026-03-03"})
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_day_list_costs_the_same_queries_for_1_or_5_cases(unit, front_desk):
    def book(number):
        patient = case_payload()["patient"] | {"mrn": f"MRN-{number}"}
        response = front_desk.post("/api/v1/cases/", case_payload(patient=patient), format="json")
        assert response.status_code == 201

    book(0)
    with_one = day_list_queries(front_desk)
    for number in range(1, 5):
        book(number)
    assert day_list_queries(front_desk) == with_one > 0
    assert len(front_desk.get("/api/v1/cases/", {"site": "main", "date": "2026-03-03"}).json()) == 5


def test_a_case_on_the_spring_forward_day_keeps_real_durations(front_desk):
    from tests.conftest import build_unit
    from tests.factories import SurgeonFactory

    # Open on Sunday 8 March 2026 from midnight, the night clocks go forward at 02:00.
    sunday = {6: (time(0), time(23, 55))}
    site = build_unit(rooms=1, pre_op_bays=1, recovery_bays=1, surgeons=0, hours=sunday)
    SurgeonFactory(sites=[site], hours=sunday)
    response = front_desk.post(
        "/api/v1/cases/",
        case_payload(date="2026-03-08", start="2026-03-08T01:30:00-05:00"),
        format="json",
    )
    assert response.status_code == 201, response.json()
    stages = {s["kind"]: s for s in response.json()["stages"]}
    # 01:30 EST + 60 min procedure = 03:30 EDT; the cement set runs 03:30-04:30 EDT.
    assert stages["procedure"]["planned_end"] == "2026-03-08T03:30:00-04:00"
    assert stages["cement_set"]["planned_end"] == "2026-03-08T04:30:00-04:00"
    assert stages["recovery"]["planned_end"] == "2026-03-08T06:30:00-04:00"
