"""The day board's one click for the whole day when the room runs late (POST /board/tell-late/),
through the HTTP client: who may use it, and bad input. The browser test is
test_browser_board_late.py."""

import pytest

from notifications.models import MessageKind, Reminder
from scheduling import roles
from scheduling.errors import SchedulingError
from scheduling.models import Case, CaseStatus
from tests.factories import (
    BOOKING_FORM_PATIENT,
    PatientFactory,
    UserFactory,
    build_unit,
    case_made,
)
from tests.notifications.test_running_late import run_late

pytestmark = pytest.mark.django_db
URL = "/board/tell-late/"


def book_day(site, count: int) -> list[Case]:
    """`count` cases one after the other in the unit's only room, from 08:30."""
    clerk = UserFactory(roles=[roles.FRONT_DESK], sites=[site])
    cases, minutes, patient = [], 0, None
    while len(cases) < count and minutes < 10 * 60:
        start = f"{8 + (30 + minutes) // 60:02d}:{(30 + minutes) % 60:02d}"
        patient = patient or PatientFactory(**BOOKING_FORM_PATIENT | {
            "mrn": f"LATE-{len(cases)}", "last_name": f"Patient{len(cases)}",
            "phone": f"+1212555020{len(cases)}",
        })
        try:
            cases.append(case_made(site=site, start=f"2026-03-02T{start}:00-05:00", by=clerk,
                                   patient=patient))
            patient = None
        except SchedulingError:
            pass
        minutes += 15
    assert len(cases) == count
    return cases


def logged_in(client, site, role=roles.NURSE):
    user = UserFactory(roles=[role])
    site.staff.add(user)
    client.force_login(user)
    return user


def told() -> list[int]:
    return list(
        Reminder.objects.filter(kind=MessageKind.RUNNING_LATE)
        .order_by("case_id").values_list("case_id", flat=True)
    )


def test_the_front_desk_tells_everyone_still_to_come_and_a_checked_in_patient_is_left_out(
    client, tiny_unit, clock
):
    first, second, third = book_day(tiny_unit, 3)
    Case.objects.filter(pk=second.pk).update(status=CaseStatus.CHECKED_IN)
    run_late(clock, first, 50)
    logged_in(client, tiny_unit, roles.FRONT_DESK)

    response = client.post(URL, {"site": "main", "date": "2026-03-02"}, follow=True)

    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith("Told to arrive later: Patient2, Margaret (")
    assert "Patient1" not in message
    assert told() == [third.pk]
    assert response.redirect_chain[-1][0].endswith("#board-cases-heading")


def test_nobody_to_tell_while_the_room_is_on_time(client, tiny_unit):
    book_day(tiny_unit, 2)
    logged_in(client, tiny_unit)

    response = client.post(URL, {"site": "main", "date": "2026-03-02"}, follow=True)

    assert "Nobody to tell" in str(list(response.context["messages"])[0])
    assert told() == []


@pytest.mark.parametrize("date", ["2026-02-30", "tomorrow", ""])
def test_a_date_that_is_not_a_date_means_today(client, tiny_unit, clock, date):
    first, second = book_day(tiny_unit, 2)
    run_late(clock, first, 50)
    logged_in(client, tiny_unit)

    response = client.post(URL, {"site": "main", "date": date}, follow=True)

    assert response.status_code == 200
    assert told() == [second.pk]


def test_another_sites_or_an_unknown_site_is_not_found_and_a_get_is_refused(client, tiny_unit):
    other = build_unit(code="north", name="North Clinic")
    logged_in(client, tiny_unit)

    assert client.post(URL, {"site": other.code}).status_code == 404
    assert client.post(URL, {"site": "nowhere"}).status_code == 404
    assert client.post(URL, {}).status_code == 404
    assert client.get(URL, {"site": "main"}).status_code == 405


def test_it_needs_a_login_and_a_role(client, tiny_unit, clock):
    first, second = book_day(tiny_unit, 2)
    run_late(clock, first, 50)
    assert client.post(URL, {"site": "main"})["Location"].startswith("/accounts/login/")
    logged_in(client, tiny_unit, roles.ADMIN)  # reads the board, does not act on cases
    assert client.post(URL, {"site": "main"}).status_code == 403
    assert told() == []
