"""The closures API (/api/v1/sites/{code}/closures/): admins and the front desk close the site,
a room or bay, or a surgeon's diary; nurses read; bad input is a 400 with its own code; a
closure over booked days names the cases and flags them on_closed_day, without moving them."""

import pytest

from scheduling import roles
from scheduling.models import Case, Closure, Surgeon
from tests.conftest import TUESDAY, build_unit, client_for
from tests.factories import UserFactory, case_made

pytestmark = pytest.mark.django_db
URL = "/api/v1/sites/main/closures/"
CHRISTMAS = {"start_date": "2026-12-25", "end_date": "2026-12-25", "reason": "Christmas Day"}
ON_TUESDAY = {"start_date": "2026-03-03", "end_date": "2026-03-03", "reason": "Power works"}


def close(client, **body):
    return client.post(URL, {**CHRISTMAS, **body}, format="json")


@pytest.mark.parametrize("role", [roles.ADMIN, roles.FRONT_DESK])
def test_admins_and_the_front_desk_close_the_site_for_a_day(unit, role):
    client = client_for(role)
    response = close(client)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["start_date"] == body["end_date"] == "2026-12-25"
    assert body["reason"] == "Christmas Day"
    assert body["resource"] is None
    assert body["surgeon"] is None
    assert body["site"] == "main"
    assert body["affected_cases"] == []
    assert body["created_by"] == client.user.username
    closure = Closure.objects.get(pk=body["id"])
    assert closure.site == unit
    assert closure.created_by == client.user


def test_nurses_read_the_closures_but_may_not_add_or_lift_them(unit):
    closure = close(client_for(roles.ADMIN)).json()
    nurse = client_for(roles.NURSE)
    listed = nurse.get(URL)
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()] == [closure["id"]]
    assert close(nurse).status_code == 403
    assert nurse.delete(f"{URL}{closure['id']}/").status_code == 403
    assert Closure.objects.count() == 1


def test_clinicians_and_staff_without_a_role_may_not_add_closures(unit):
    assert close(client_for(roles.CLINICIAN)).status_code == 403
    nobody = client_for()
    assert nobody.get(URL).status_code == 403
    assert close(nobody).status_code == 403
    assert not Closure.objects.exists()


def test_another_sites_staff_are_told_the_site_does_not_exist(unit):
    closure = close(client_for(roles.ADMIN)).json()
    other = build_unit(code="north", name="North Clinic")
    outsider = client_for(roles.ADMIN, roles.FRONT_DESK, sites=[other])
    for response in (outsider.get(URL), close(outsider)):
        assert response.status_code == 400
        assert response.json()["code"] == "unknown_site"
    # A closure's own address is not found, by the other site's code or their own.
    for url in (f"{URL}{closure['id']}/", f"/api/v1/sites/north/closures/{closure['id']}/"):
        gone = outsider.delete(url)
        assert gone.status_code == 404
        assert gone.json()["code"] == "not_found"
    assert Closure.objects.filter(pk=closure["id"]).exists()


def test_a_room_is_named_as_the_availability_answer_names_it(unit, front_desk):
    answer = front_desk.get("/api/v1/availability/", {
        "site": "main", "procedure_type": "vertebroplasty", "levels": 1, "date": "2026-03-04",
    }).json()
    room = answer["slots"][0]["stages"][1]["resource"]
    surgeon = answer["slots"][0]["surgeon"]
    by_room = close(front_desk, resource=room, reason="C-arm service")
    assert by_room.status_code == 201, by_room.json()
    assert by_room.json()["resource"] == room
    on_leave = close(front_desk, surgeon=surgeon, reason="Annual leave")
    assert on_leave.status_code == 201, on_leave.json()
    assert on_leave.json()["surgeon"] == surgeon
    assert Closure.objects.get(pk=on_leave.json()["id"]).surgeon == Surgeon.objects.get()


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"end_date": "2026-12-24"}, "closure_days_out_of_order", "end_date"),
        ({"resource": "Room 1", "surgeon": "surgeon-0"}, "closure_room_or_surgeon", "resource"),
        ({"resource": "Room 9"}, "unknown_resource", "resource"),
        ({"surgeon": "dr-nobody"}, "unknown_surgeon", "surgeon"),
        ({"start_date": "25/12/2026"}, "invalid", "start_date"),
        ({"end_date": "2026-02-30"}, "invalid", "end_date"),
        ({"reason": ""}, "invalid", "reason"),
        ({"reason": ["Christmas"]}, "invalid", "reason"),
        ({"resource": {"name": "Room 1"}}, "invalid", "resource"),
        ({"reason": "x" * 201}, "invalid", "reason"),
    ],
)
def test_bad_input_is_refused_with_its_code_and_nothing_is_saved(unit, front_desk, change,
                                                                  code, field):
    response = close(front_desk, **change)
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == code
    assert list(body["errors"]) == [field]
    assert not Closure.objects.exists()


def test_both_a_room_and_a_surgeon_are_refused_even_when_the_room_is_unknown(unit, front_desk):
    response = close(front_desk, resource="Room 9", surgeon="dr-nobody")
    assert response.status_code == 400
    assert response.json()["code"] == "closure_room_or_surgeon"


def test_an_unknown_site_is_a_400(unit, front_desk):
    response = front_desk.post("/api/v1/sites/nowhere/closures/", CHRISTMAS, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_site"


def test_a_missing_body_or_a_list_for_a_body_is_a_400(unit, front_desk):
    assert front_desk.post(URL, {}, format="json").status_code == 400
    assert front_desk.post(URL, [CHRISTMAS], format="json").status_code == 400
    assert front_desk.post(URL, "not json", content_type="application/json").status_code == 400


def test_a_site_closure_over_booked_days_names_and_flags_the_cases_and_moves_none(unit):
    first = case_made(site=unit)
    second = case_made(site=unit)
    cancelled_start = case_made(site=unit)
    Case.objects.filter(pk=cancelled_start.pk).update(status="cancelled")
    elsewhere = case_made(site=unit, day=TUESDAY.replace(day=4))
    before = {case.pk: case.procedure_start for case in (first, second)}
    front_desk = client_for(roles.FRONT_DESK)

    response = front_desk.post(URL, ON_TUESDAY, format="json")

    assert response.status_code == 201
    assert response.json()["affected_cases"] == [first.pk, second.pk]
    for case in (first, second):
        case.refresh_from_db()
        assert case.procedure_start == before[case.pk]
        assert case.stages.filter(active=True).count() == 4
        assert "on_closed_day" in front_desk.get(f"/api/v1/cases/{case.pk}/").json()["flags"]
    assert "on_closed_day" not in front_desk.get(f"/api/v1/cases/{elsewhere.pk}/").json()["flags"]
    board = front_desk.get("/api/v1/board/", {"site": "main", "date": "2026-03-03"}).json()
    flagged = {line["id"]: line["flags"] for line in board["cases"]}
    assert flagged[first.pk][0] == flagged[second.pk][0] == "on_closed_day"
    assert "on_closed_day" not in flagged[cancelled_start.pk]


def test_the_day_list_and_the_board_page_show_the_flag(unit, staff_page):
    case = case_made(site=unit)
    client_for(roles.FRONT_DESK).post(URL, ON_TUESDAY, format="json")
    day_list = staff_page.get("/day/", {"site": "main", "date": "2026-03-03"})
    html = day_list.content.decode()
    assert "On a closed day" in html
    assert "Power works" in html
    board = staff_page.get("/board/", {"site": "main", "date": "2026-03-03"}).content.decode()
    assert "flag-on_closed_day" in board
    assert "Site closed</strong>: Power works" in board
    Closure.objects.all().delete()
    assert "On a closed day" not in staff_page.get(
        "/day/", {"site": "main", "date": "2026-03-03"}).content.decode()
    assert case.pk


def test_a_room_closure_flags_only_the_cases_in_that_room(unit, front_desk):
    first = case_made(site=unit)
    second = case_made(site=unit)
    room_of = {
        case.pk: case.stages.get(kind="procedure").resource.name for case in (first, second)
    }
    assert room_of[first.pk] != room_of[second.pk]
    response = front_desk.post(URL, {**ON_TUESDAY, "resource": room_of[first.pk]}, format="json")
    assert response.json()["affected_cases"] == [first.pk]
    assert "on_closed_day" in front_desk.get(f"/api/v1/cases/{first.pk}/").json()["flags"]
    assert "on_closed_day" not in front_desk.get(f"/api/v1/cases/{second.pk}/").json()["flags"]


def test_a_surgeons_leave_flags_their_cases(unit, front_desk):
    case = case_made(site=unit)
    response = front_desk.post(
        URL, {**ON_TUESDAY, "surgeon": case.surgeon.code, "reason": "Conference"}, format="json"
    )
    assert response.json()["affected_cases"] == [case.pk]
    assert "on_closed_day" in front_desk.get(f"/api/v1/cases/{case.pk}/").json()["flags"]


def test_lifting_a_closure_clears_the_flag_and_opens_the_day_again(unit, front_desk):
    case = case_made(site=unit)
    closure = front_desk.post(URL, ON_TUESDAY, format="json").json()
    query = {"site": "main", "procedure_type": "vertebroplasty", "levels": 1,
             "date": "2026-03-03"}
    assert front_desk.get("/api/v1/availability/", query).json()["slots"] == []

    assert front_desk.delete(f"{URL}{closure['id']}/").status_code == 204

    assert not Closure.objects.exists()
    assert "on_closed_day" not in front_desk.get(f"/api/v1/cases/{case.pk}/").json()["flags"]
    assert front_desk.get("/api/v1/availability/", query).json()["slots"]
    assert front_desk.delete(f"{URL}{closure['id']}/").status_code == 404


def test_an_admin_adds_a_closure_in_the_django_admin_and_is_told_which_cases_to_move(
    unit, client
):
    case = case_made(site=unit)
    admin = UserFactory(roles=[roles.ADMIN], is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post("/admin/scheduling/closure/add/", {
        "site": unit.pk, "start_date": "2026-03-03", "end_date": "2026-03-03",
        "reason": "Burst pipe",
    }, follow=True)
    assert response.status_code == 200
    closure = Closure.objects.get()
    assert closure.created_by == admin
    assert f"case {case.pk}" in response.content.decode()
    refused = client.post("/admin/scheduling/closure/add/", {
        "site": unit.pk, "start_date": "2026-03-04", "end_date": "2026-03-03", "reason": "x",
    })
    assert refused.status_code == 200  # the form again, with its error
    assert Closure.objects.count() == 1
