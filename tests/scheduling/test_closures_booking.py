"""Closures in the slot search, booking and the day planner (on PostgreSQL): a closed day offers
no time and refuses a booking (site_closed, resource_closed, surgeon_on_leave); a closed room is
left out while another of its kind is open; a surgeon may work several periods a day."""

from datetime import date, time, timedelta

import pytest

from scheduling import roles
from scheduling.models import Case, Closure, Resource, Surgeon, SurgeonHours
from scheduling.plan.loader import load_day
from scheduling.plan.proposal import plan_propose
from tests.conftest import TUESDAY, build_unit, case_payload, client_for
from tests.factories import SurgeonFactory, UserFactory, case_made
from tests.scheduling.test_pages_booking import booking, errors_of, shown_token
from tests.scheduling.test_plan_day import at, wait

pytestmark = pytest.mark.django_db
WEDNESDAY = TUESDAY + timedelta(days=1)


def closed(site, *, day=TUESDAY, **what):
    return Closure.objects.create(
        site=site, start_date=day, end_date=day, reason="Closed for the test", **what
    )


def availability(client, day=TUESDAY, **extra):
    response = client.get("/api/v1/availability/", {
        "site": "main", "procedure_type": "vertebroplasty", "levels": 1, "date": day.isoformat(),
        **extra,
    })
    assert response.status_code == 200, response.json()
    return response.json()["slots"]


def book(client, **overrides):
    return client.post("/api/v1/cases/", case_payload(**overrides), format="json")


def rooms_used(slots):
    return {stage["resource"] for slot in slots for stage in slot["stages"]
            if stage["kind"] == "procedure"}


def test_a_closed_day_offers_no_time_and_refuses_a_booking_with_site_closed(unit, front_desk):
    assert availability(front_desk)
    closed(unit)
    assert availability(front_desk) == []
    for overrides in ({}, {"start": "2026-03-03T10:00:00-05:00"}):
        response = book(front_desk, **overrides)
        assert response.status_code == 409
        assert response.json()["code"] == "site_closed"
        assert "Closed for the test" in response.json()["detail"]
    # The next day is open as usual.
    assert availability(front_desk, day=WEDNESDAY)


def test_a_closure_over_several_days_closes_each_of_them(unit, front_desk):
    Closure.objects.create(site=unit, start_date=TUESDAY, end_date=TUESDAY + timedelta(days=2),
                           reason="Refit")
    for offset in range(3):
        assert availability(front_desk, day=TUESDAY + timedelta(days=offset)) == []
    assert availability(front_desk, day=TUESDAY + timedelta(days=3))


def test_a_weekday_without_opening_hours_answers_409_site_closed(unit, front_desk):
    response = book(front_desk, date="2026-03-07")
    assert response.status_code == 409
    assert response.json()["code"] == "site_closed"


def test_a_closed_room_is_left_out_while_another_of_its_kind_is_open(unit, front_desk):
    # On an empty day every start is offered in the first room by name.
    assert rooms_used(availability(front_desk)) == {"Room 1"}
    closed(unit, resource=Resource.objects.get(name="Room 1"))
    slots = availability(front_desk)
    assert slots
    assert rooms_used(slots) == {"Room 2"}
    response = book(front_desk)
    assert response.status_code == 201
    assert {s["resource"] for s in response.json()["stages"]} >= {"Room 2"}
    # Another day, Room 1 again.
    assert rooms_used(availability(front_desk, day=WEDNESDAY)) == {"Room 1"}


def test_every_room_of_a_kind_closed_answers_resource_closed(unit, front_desk):
    for name in ("Recovery 1", "Recovery 2", "Recovery 3"):
        closed(unit, resource=Resource.objects.get(name=name))
    assert availability(front_desk) == []
    response = book(front_desk)
    assert response.status_code == 409
    assert response.json()["code"] == "resource_closed"
    assert "Recovery 3" in response.json()["detail"]


def test_a_surgeon_on_leave_is_refused_by_name_and_another_takes_the_day(unit, front_desk):
    away = Surgeon.objects.get()
    other = SurgeonFactory(sites=[unit])
    closed(unit, surgeon=away)
    assert availability(front_desk, surgeon=away.code) == []
    response = book(front_desk, surgeon=away.code)
    assert response.status_code == 409
    assert response.json()["code"] == "surgeon_on_leave"
    assert away.name in response.json()["detail"]
    assert {slot["surgeon"] for slot in availability(front_desk)} == {other.code}
    booked = book(front_desk)
    assert booked.status_code == 201
    assert booked.json()["surgeon"] == other.code


def test_leave_recorded_at_another_site_keeps_the_surgeon_off_this_one(unit, front_desk):
    surgeon = Surgeon.objects.get()
    north = build_unit(code="north", name="North Clinic", surgeons=0)
    surgeon.sites.add(north)
    closed(north, surgeon=surgeon)
    assert availability(front_desk) == []
    assert book(front_desk, surgeon=surgeon.code).json()["code"] == "surgeon_on_leave"


def test_moving_a_case_onto_a_closed_day_is_refused(unit, front_desk):
    case = case_made(site=unit, day=WEDNESDAY)
    closed(unit)
    response = front_desk.post(f"/api/v1/cases/{case.pk}/reschedule/",
                               {"date": TUESDAY.isoformat()}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "site_closed"


def test_a_surgeon_works_several_periods_a_day(unit, front_desk):
    surgeon = Surgeon.objects.get()
    SurgeonHours.objects.filter(surgeon=surgeon, weekday=TUESDAY.weekday()).update(
        opens=time(7), closes=time(10, 30)
    )
    SurgeonHours.objects.create(surgeon=surgeon, weekday=TUESDAY.weekday(), opens=time(13),
                                closes=time(18))
    starts = [slot["start"][11:16] for slot in availability(front_desk)]
    # The procedure (60 min, the surgeon's) fits in the morning until 09:30, then from 13:00.
    assert starts[0] == "08:30"
    assert "09:30" in starts
    assert "13:00" in starts
    assert not [start for start in starts if "09:30" < start < "13:00"]
    afternoon = book(front_desk, start="2026-03-03T13:00:00-05:00")
    assert afternoon.status_code == 201
    noon = book(front_desk, start="2026-03-03T12:00:00-05:00",
                patient=case_payload()["patient"] | {"mrn": "MRN-2"})
    assert noon.status_code == 409
    assert noon.json()["code"] == "surgeon_unavailable"


def test_the_planner_leaves_a_closed_room_out(unit):
    room = Resource.objects.get(name="Room 1")
    closed(unit, resource=room)
    wait(unit)
    wait(unit)
    loaded = load_day(site=unit, day=TUESDAY, waiting_list=True)
    assert str(room.pk) not in {u.key for u in loaded.day.units}
    proposal = plan_propose(site=unit, day=TUESDAY, waiting_list=True, time_limit=2)
    rooms = {row.proposed_room for row in proposal.rows if row.proposed_start}
    assert rooms == {"Room 2"}


def test_the_planner_says_every_room_is_closed_when_none_is_left(unit):
    for name in ("Room 1", "Room 2"):
        closed(unit, resource=Resource.objects.get(name=name))
    entry = wait(unit)
    proposal = plan_propose(site=unit, day=TUESDAY, waiting_list=True, time_limit=2)
    (row,) = [row for row in proposal.rows if row.key == f"entry:{entry.pk}"]
    assert row.proposed_start is None
    assert row.reason == "every procedure room is closed on this day"


def test_the_planner_places_nothing_on_a_closed_day(unit):
    case = case_made(site=unit)
    closed(unit)
    wait(unit)
    proposal = plan_propose(site=unit, day=TUESDAY, waiting_list=True, time_limit=2)
    assert proposal.plan.status == "closed"
    assert proposal.changes == 0
    assert {row.key for row in proposal.rows} >= {f"case:{case.pk}"}


def test_the_planner_keeps_a_surgeons_case_inside_one_of_their_periods(unit):
    surgeon = Surgeon.objects.get()
    SurgeonHours.objects.filter(surgeon=surgeon, weekday=TUESDAY.weekday()).update(
        opens=time(7), closes=time(9, 40)
    )
    SurgeonHours.objects.create(surgeon=surgeon, weekday=TUESDAY.weekday(), opens=time(12),
                                closes=time(18))
    for _ in range(3):
        wait(unit)
    proposal = plan_propose(site=unit, day=TUESDAY, waiting_list=True, time_limit=5)
    starts = sorted(row.proposed_start for row in proposal.rows if row.proposed_start)
    assert len(starts) == 3
    for start in starts:
        end = start + timedelta(minutes=60)
        assert (at(7) <= start and end <= at(9, 40)) or (at(12) <= start and end <= at(18))
    assert any(start < at(12) for start in starts)
    assert any(start >= at(12) for start in starts)
    # The morning's case and the afternoon's are both the surgeon's, whichever period.
    assert proposal.plan.status == "optimal"
    assert {p.surgeon for p in proposal.plan.placements.values()} == {str(surgeon.pk)}


def planner(client, site):
    user = UserFactory(roles=[roles.ADMIN])
    site.staff.add(user)
    client.force_login(user)


def test_the_plan_page_opens_on_the_next_open_day_when_tomorrow_is_closed(client, unit):
    planner(client, unit)
    closed(unit)  # tomorrow, Tuesday
    html = client.get("/plan/").content.decode()
    assert "Wednesday 4 March 2026" in html
    assert "showing the next open day" in html


def test_the_plan_page_on_a_closed_day_asked_for_says_so_and_links_the_next_open_day(
    client, unit
):
    planner(client, unit)
    closed(unit)
    html = client.get("/plan/", {"site": "main", "date": "2026-03-03"}).content.decode()
    assert "is closed on this day (Closed for the test)" in html
    assert "date=2026-03-04" in html


def test_the_booking_page_says_the_site_is_closed_and_why(unit, staff_page):
    closed(unit)
    response = staff_page.post("/book/", booking(shown_token(staff_page)))
    assert response.status_code == 200
    assert "Riverside Spine Center is closed on Tuesday, March 3, 2026 (Closed for the test)." in (
        errors_of(response, "date")
    )
    assert not Case.objects.exists()


def test_only_closures_covering_the_day_count(unit, front_desk):
    closed(unit, day=date(2026, 3, 2))
    closed(unit, day=WEDNESDAY)
    assert availability(front_desk)
    assert case_made(site=unit).procedure_start == at(8, 30)
    assert client_for(roles.NURSE).get("/api/v1/sites/main/closures/").status_code == 200


def surgeon_added(client, unit, periods):
    data = {
        "name": "Dr Two Lists", "code": "two-lists", "sites": [unit.pk], "active": "on",
        "working_hours-TOTAL_FORMS": str(len(periods)), "working_hours-INITIAL_FORMS": "0",
        "working_hours-MIN_NUM_FORMS": "0", "working_hours-MAX_NUM_FORMS": "1000",
    }
    for n, (opens, closes) in enumerate(periods):
        data |= {f"working_hours-{n}-weekday": str(TUESDAY.weekday()),
                 f"working_hours-{n}-opens": opens, f"working_hours-{n}-closes": closes}
    return client.post("/admin/scheduling/surgeon/add/", data)


def test_the_admin_takes_a_morning_and_an_afternoon_list_but_not_overlapping_ones(client, unit):
    client.force_login(UserFactory(roles=[roles.ADMIN], is_staff=True, is_superuser=True))
    overlapping = surgeon_added(client, unit, [("07:00", "12:00"), ("11:00", "16:00")])
    assert overlapping.status_code == 200
    assert "Two working periods on Tuesday overlap" in overlapping.content.decode()
    assert not Surgeon.objects.filter(code="two-lists").exists()
    saved = surgeon_added(client, unit, [("07:00", "11:00"), ("13:00", "17:00")])
    assert saved.status_code == 302
    periods = SurgeonHours.objects.filter(surgeon__code="two-lists").order_by("opens")
    assert [(p.opens, p.closes) for p in periods] == [(time(7), time(11)), (time(13), time(17))]
