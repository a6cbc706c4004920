"""When a case is cancelled or a no-show, the waiting-list patients who could take its time."""

from datetime import date

import pytest

from scheduling import roles
from scheduling.services import case_cancel, case_mark_no_show
from tests.conftest import client_for
from tests.factories import UserFactory, case_made
from tests.scheduling.test_plan_day import at, wait

pytestmark = pytest.mark.django_db


def backfill(case, role=roles.FRONT_DESK):
    return client_for(role).get(f"/api/v1/cases/{case.pk}/backfill/")


def test_a_cancelled_case_suggests_waiting_patients_who_fit_its_time(tiny_unit):
    # One room: the day is full around a 10:45 case, so only its own time can be taken.
    case_made(site=tiny_unit, start=at(8, 30), driver_name="")
    freed = case_made(site=tiny_unit, start=at(10, 45), driver_name="")
    case_made(site=tiny_unit, start=at(13, 0), driver_name="")
    urgent = wait(tiny_unit, priority="urgent")
    routine = wait(tiny_unit)
    too_long = wait(tiny_unit, levels=3)  # its room time would run into the 13:00 case
    not_screened = wait(tiny_unit, screening=False)
    later = wait(tiny_unit, earliest_date=date(2026, 3, 4))
    assert backfill(freed).json()["suggestions"] == []  # still booked: nothing freed

    case_cancel(case=freed, reason="Patient has a cold", by=UserFactory())
    body = backfill(freed).json()
    assert body["released"] is True
    assert [s["entry"] for s in body["suggestions"]] == [urgent.pk, routine.pk]
    assert body["suggestions"][0]["procedure_start"] == "2026-03-03T10:45:00-05:00"
    assert body["suggestions"][0]["room"] == "Room 1"
    assert {too_long.pk, not_screened.pk, later.pk}.isdisjoint(
        s["entry"] for s in body["suggestions"])


def test_a_no_show_offers_its_remaining_time(tiny_unit, clock):
    case = case_made(site=tiny_unit, start=at(11, 0), driver_name="")
    entry = wait(tiny_unit)
    clock.move_to(at(9, 35))  # 5 minutes past the patient's arrival time
    case_mark_no_show(case=case, by=UserFactory())
    suggestions = backfill(case).json()["suggestions"]
    assert [s["entry"] for s in suggestions] == [entry.pk]
    # Nobody can be asked to arrive in the past: the first start is the one after now.
    assert suggestions[0]["arrival_at"] == "2026-03-03T09:35:00-05:00"


def test_the_case_page_lists_the_suggestions(client, tiny_unit):
    case = case_made(site=tiny_unit, start=at(10, 45), driver_name="")
    entry = wait(tiny_unit, priority="urgent")
    case_cancel(case=case, reason="Moved away", by=UserFactory())
    user = UserFactory(roles=[roles.FRONT_DESK])
    tiny_unit.staff.add(user)
    client.force_login(user)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Could take this time" in html
    assert entry.patient.last_name in html


def test_backfill_is_for_the_front_desk_and_managers_of_the_site(tiny_unit):
    case = case_made(site=tiny_unit, driver_name="")
    assert backfill(case, roles.NURSE).status_code == 403
    assert backfill(case, roles.ADMIN).status_code == 200
    assert client_for(roles.FRONT_DESK, sites=[]).get(
        f"/api/v1/cases/{case.pk}/backfill/").status_code == 404
