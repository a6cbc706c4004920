"""The day board: the selector (board.day_board_get), its page, the fragment the page refreshes
and GET /api/v1/board/, through the HTTP client."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext

from scheduling import roles
from scheduling.bedside import ALDRETE_ITEMS
from scheduling.bedside_models import (
    ChecklistTick,
    DischargeAssessment,
    VitalSigns,
    VitalsPhase,
)
from scheduling.board.day import day_board_get
from scheduling.models import (
    Case,
    CaseMedication,
    CaseStatus,
    Drug,
    Patient,
    Resource,
    ResourceKind,
    Site,
    Stage,
    StageKind,
)
from tests.conftest import TUESDAY, build_unit, client_for
from tests.factories import GOOD_VITALS, NOW, UserFactory, case_made

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")
MINUTE = timedelta(minutes=1)
API = "/api/v1/board/"


def ny(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), NEW_YORK)


def cases_made(site, day, count, *, first=0):
    """`count` cases written straight to the database, each in rooms and bays of its own (so they
    never overlap, even under PostgreSQL's exclusion constraints): 08:00 procedure, as booked."""
    resources = Resource.objects.bulk_create(
        Resource(site=site, kind=kind, name=f"{prefix} x{first + number}")
        for number in range(count)
        for kind, prefix in [
            (ResourceKind.PRE_OP_BAY, "Pre-op"),
            (ResourceKind.PROCEDURE_ROOM, "Room"),
            (ResourceKind.RECOVERY_BAY, "Recovery"),
        ]
    )
    patients = Patient.objects.bulk_create(
        Patient(first_name="Ada", last_name=f"Bulk{first + n}", date_of_birth=date(1950, 1, 1),
                mrn=f"BULK-{first + n}", phone="+12125550100")
        for n in range(count)
    )
    start = ny(day, 8)
    cases = Case.objects.bulk_create(
        Case(
            site=site, patient=patient, procedure_type_id=_vertebroplasty_id(), levels=1,
            day=day, arrival_at=start - 90 * MINUTE, procedure_start=start,
            fasting_solids_until=start - 8 * 60 * MINUTE,
            fasting_clear_liquids_until=start - 120 * MINUTE,
            driver_name="Tom", driver_phone="+12125550101", active_infection=False,
            fracture_painful=True, bleeding_disorder=False, tumor_in_canal=False,
            cement_allergy=False, traumatic=False, conservative_treatment_weeks=8,
            imaging_on_file=True, status=CaseStatus.CONFIRMED,
        )
        for patient in patients
    )
    stages = []
    for number, case in enumerate(cases):
        pre_op, room, recovery = resources[3 * number: 3 * number + 3]
        stages += [
            Stage(case=case, position=0, kind=StageKind.PRE_OP, resource=pre_op,
                  planned_start=start - 60 * MINUTE, planned_end=start, held_until=start),
            Stage(case=case, position=1, kind=StageKind.PROCEDURE, resource=room,
                  planned_start=start, planned_end=start + 60 * MINUTE,
                  held_until=start + 60 * MINUTE),
            Stage(case=case, position=2, kind=StageKind.CEMENT_SET, resource=room,
                  planned_start=start + 60 * MINUTE, planned_end=start + 120 * MINUTE,
                  held_until=start + 135 * MINUTE),
            Stage(case=case, position=3, kind=StageKind.RECOVERY, resource=recovery,
                  planned_start=start + 120 * MINUTE, planned_end=start + 240 * MINUTE,
                  held_until=start + 240 * MINUTE),
        ]
    Stage.objects.bulk_create(stages)
    return cases


def _vertebroplasty_id():
    from scheduling.models import ProcedureType

    return ProcedureType.objects.get(code="vertebroplasty").pk


def staff(client, site, *user_roles):
    user = UserFactory(roles=list(user_roles))
    site.staff.add(user)
    client.force_login(user)
    return user


def board_json(site, day=TUESDAY, role=roles.NURSE):
    response = client_for(role).get(API, {"site": site.code, "date": day.isoformat()})
    assert response.status_code == 200, response.json()
    return response.json()


# Who may read it


@pytest.mark.parametrize("role", roles.ALL_ROLES)
def test_every_staff_role_reads_the_board_page_its_fragment_and_its_json(client, unit, role):
    case_made(site=unit, patient={"mrn": "MRN-1", "last_name": "Patient-MRN-1"})
    staff(client, unit, role)
    query = {"site": "main", "date": TUESDAY.isoformat()}

    page = client.get("/board/", query)
    fragment = client.get("/board/partial/", query)
    api = client_for(role).get(API, query)

    assert page.status_code == 200
    assert fragment.status_code == 200
    assert api.status_code == 200
    assert b"Patient-MRN-1" in page.content
    assert b"Patient-MRN-1" in fragment.content
    assert b"<html" not in fragment.content
    assert [case["patient"]["mrn"] for case in api.json()["cases"]] == ["MRN-1"]


def test_the_board_needs_a_login_and_a_role(client, unit):
    assert client.get("/board/").status_code == 302
    assert client.get("/board/partial/").status_code == 302
    assert client.get(API, {"site": "main"}).status_code == 401
    staff(client, unit)
    assert client.get("/board/").status_code == 403
    assert client.get(API, {"site": "main"}).status_code == 403


def test_another_sites_board_is_not_found(client, unit):
    other = build_unit(code="north", name="North Clinic")
    staff(client, unit, roles.NURSE)
    nurse = client_for(roles.NURSE, sites=[unit])

    assert client.get("/board/", {"site": other.code}).status_code == 404
    assert client.get("/board/partial/", {"site": other.code}).status_code == 404
    for code in (other.code, "nowhere"):
        response = nurse.get(API, {"site": code, "date": TUESDAY.isoformat()})
        assert response.status_code == 400
        assert response.json()["code"] == "unknown_site"


def test_the_api_refuses_a_date_that_is_not_a_date(unit, nurse):
    response = nurse.get(API, {"site": "main", "date": "2026-02-30"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "date" in response.json()["errors"]


def test_the_page_says_so_when_the_date_is_not_a_date_and_shows_today(client, unit):
    staff(client, unit, roles.NURSE)

    response = client.get("/board/", {"site": "main", "date": "tomorrow"})

    assert response.status_code == 200
    assert response.context["day"] == date(2026, 3, 2)
    assert "is not a date" in response.content.decode()


def test_a_day_with_no_cases_shows_an_empty_board_with_a_message(client, unit):
    staff(client, unit, roles.NURSE)

    response = client.get("/board/", {"site": "main", "date": TUESDAY.isoformat()})

    html = response.content.decode()
    assert "No cases booked at Riverside Spine Center on Tuesday 3 March 2026." in html
    assert html.count('class="board-row"') == 7  # every room and bay, empty
    data = board_json(unit)
    assert data["cases"] == []
    assert all(room["stages"] == [] for room in data["rooms"])
    assert data["summary"]["planned"] == 0


# What it shows


def test_the_summary_counts_cases_by_how_far_they_have_got(unit, nurse):
    made = cases_made(unit, TUESDAY, 7)
    statuses = [CaseStatus.BOOKED, CaseStatus.CONFIRMED, CaseStatus.IN_PRE_OP,
                CaseStatus.IN_RECOVERY, CaseStatus.DISCHARGED, CaseStatus.CANCELLED,
                CaseStatus.NO_SHOW]
    for case, status in zip(made, statuses, strict=True):
        Case.objects.filter(pk=case.pk).update(status=status)
        if status in (CaseStatus.CANCELLED, CaseStatus.NO_SHOW):
            Stage.objects.filter(case=case).update(active=False)

    summary = board_json(unit)["summary"]

    assert {key: summary[key] for key in
            ["planned", "in_progress", "done", "cancelled", "no_show", "late"]} == {
        "planned": 5, "in_progress": 2, "done": 1, "cancelled": 1, "no_show": 1, "late": 0,
    }
    board = day_board_get(unit, TUESDAY, ny(TUESDAY, 6))
    assert [line.case.pk for line in board.released_cases] == [made[5].pk, made[6].pk]
    # A released case's stages are not on the rows.
    shown = {block.case.pk for row in board.rows for block in row.blocks}
    assert made[5].pk not in shown
    assert made[4].pk in shown


def test_occupancy_is_the_time_rooms_and_bays_were_used_over_the_open_time_so_far(unit, clock):
    (case,) = cases_made(unit, TUESDAY, 1)
    pre_op = case.stages.get(kind=StageKind.PRE_OP)
    Stage.objects.filter(pk=pre_op.pk).update(
        actual_start=ny(TUESDAY, 7), actual_end=ny(TUESDAY, 8)
    )
    procedure = case.stages.get(kind=StageKind.PROCEDURE)
    Stage.objects.filter(pk=procedure.pk).update(actual_start=ny(TUESDAY, 8))

    board = day_board_get(Site.objects.get(pk=unit.pk), TUESDAY, ny(TUESDAY, 9))

    # Opened 07:00, now 09:00: 2 hours. Rooms: 3 (2 + the case's own), 1 h used of 6.
    # Bays: 2 + 3 + 2 of the case's = 7, 1 h used of 14.
    assert board.summary.room_occupancy == pytest.approx(1 / 6)
    assert board.summary.bay_occupancy == pytest.approx(1 / 14)
    assert day_board_get(unit, TUESDAY, ny(TUESDAY, 6)).summary.room_occupancy is None


def test_the_case_list_shows_each_cases_flags(client, unit):
    warfarin = Drug.objects.get(code="warfarin")
    plain, flagged = cases_made(unit, TUESDAY, 2)
    Case.objects.filter(pk=flagged.pk).update(
        status=CaseStatus.BOOKED,
        driver_phone="",
        screening_override_reason="Clinician judged safe.",
    )
    CaseMedication.objects.create(case=flagged, drug=warfarin, hold_starts_on=date(2026, 2, 26))
    data = board_json(unit)
    flags = {case["id"]: case["flags"] for case in data["cases"]}

    assert flags[plain.pk] == []
    assert flags[flagged.pk] == [
        "not_confirmed", "driver_missing", "inr_check", "screening_overridden",
    ]
    staff(client, unit, roles.FRONT_DESK)
    html = client.get("/board/", {"date": TUESDAY.isoformat()}).content.decode()
    row = html[html.index(f'id="case-{flagged.pk}"'):]
    row = row[: row.index("</tr>")]
    for label in ["Not confirmed", "Driver missing", "INR check", "Screening overridden"]:
        assert label in row
    assert f'href="/cases/{flagged.pk}/"' in row  # where the tracking buttons will go


def test_the_board_costs_the_same_queries_for_5_and_30_cases(client, unit):
    staff(client, unit, roles.NURSE)
    nurse = client_for(roles.NURSE)
    query = {"site": "main", "date": TUESDAY.isoformat()}
    calls = {
        "selector": lambda: day_board_get(Site.objects.get(pk=unit.pk), TUESDAY, ny(TUESDAY, 9)),
        "page": lambda: client.get("/board/", query),
        "fragment": lambda: client.get("/board/partial/", query),
        "json": lambda: nurse.get(API, query),
    }

    def counts():
        result = {}
        for name, call in calls.items():
            call()  # warm: the session, the roles cache, the content types
            reset_queries()
            with CaptureQueriesContext(connection) as captured:
                call()
            result[name] = len(captured)
        return result

    cases_made(unit, TUESDAY, 5)
    Case.objects.filter(day=TUESDAY).update(status=CaseStatus.IN_PRE_OP)  # the nurses' steps too
    with_5 = counts()
    cases_made(unit, TUESDAY, 25, first=5)
    # The nurses' records of every case in the unit are read in the same few queries too.
    Case.objects.filter(day=TUESDAY).update(status=CaseStatus.IN_PRE_OP)
    day = list(Case.objects.filter(day=TUESDAY))
    ChecklistTick.objects.bulk_create(
        ChecklistTick(case=case, code="consent_signed", done=True, at=NOW) for case in day
    )
    VitalSigns.objects.bulk_create(
        VitalSigns(case=case, phase=phase, taken_at=NOW, **GOOD_VITALS)
        for case in day for phase in VitalsPhase.values
    )
    DischargeAssessment.objects.bulk_create(
        DischargeAssessment(case=case, total=10, at=NOW, **dict.fromkeys(ALDRETE_ITEMS, 2))
        for case in day
    )
    with_30 = counts()

    assert Case.objects.filter(day=TUESDAY).count() == 30
    assert with_5 == with_30
    assert with_5["selector"] <= 6


def test_a_late_case_shows_projected_times_and_late_on_the_cases_after_it_in_the_room(
    client, tiny_unit, clock
):
    first = case_made(site=tiny_unit, patient={"mrn": "MRN-1", "last_name": "Patient-MRN-1"})
    second = case_made(site=tiny_unit, patient={"mrn": "MRN-2", "last_name": "Patient-MRN-2"})
    stages = {(s.case_id, s.kind): s for s in Stage.objects.filter(case__in=[first, second])}
    room = stages[(first.pk, StageKind.PROCEDURE)]
    assert stages[(second.pk, StageKind.PROCEDURE)].resource_id == room.resource_id
    start = room.planned_start
    # Pre-op ran on time; the procedure started 40 minutes late; it is now 10 minutes in.
    pre_op = stages[(first.pk, StageKind.PRE_OP)]
    Stage.objects.filter(pk=pre_op.pk).update(
        actual_start=pre_op.planned_start, actual_end=pre_op.planned_end
    )
    Stage.objects.filter(pk=room.pk).update(actual_start=start + 40 * MINUTE)
    Case.objects.filter(pk=first.pk).update(status=CaseStatus.IN_PROCEDURE)
    clock.move_to(start + 50 * MINUTE)

    data = board_json(tiny_unit)

    by_case = {case["id"]: case for case in data["cases"]}
    assert by_case[first.pk]["late"]
    assert by_case[second.pk]["late"]
    assert by_case[first.pk]["delay_minutes"] == 40
    blocks = {(b["case"], b["kind"]): b for r in data["rooms"] for b in r["stages"]}
    next_procedure = blocks[(second.pk, "procedure")]
    second_planned = stages[(second.pk, StageKind.PROCEDURE)].planned_start
    assert next_procedure["late"]
    assert next_procedure["state"] == "projected"
    assert next_procedure["planned"]["start"] == second_planned.astimezone(NEW_YORK).isoformat()
    assert next_procedure["projected"]["start"] == (
        (second_planned + 40 * MINUTE).astimezone(NEW_YORK).isoformat()
    )
    assert blocks[(first.pk, "procedure")]["state"] == "running"
    assert blocks[(first.pk, "pre_op")]["state"] == "done"
    assert blocks[(first.pk, "pre_op")]["projected"] is None
    assert data["summary"]["late"] == 2

    staff(client, tiny_unit, roles.NURSE)
    html = client.get("/board/", {"date": TUESDAY.isoformat()}).content.decode()
    late_time = f"{(second_planned + 40 * MINUTE).astimezone(NEW_YORK):%H:%M}"
    block = html[html.index(f'id="stage-{stages[(second.pk, StageKind.PROCEDURE)].pk}"'):]
    block = block[: block.index("</div>")]
    assert "LATE +40" in block
    assert late_time in block
    assert 'class="now-line"' in html


def test_a_running_cement_set_counts_down_and_alerts_when_its_time_is_up(unit, front_desk,
                                                                       client, clock):
    nurse = UserFactory(roles=[roles.NURSE])
    unit.staff.add(nurse)
    case = case_made(site=unit, start="2026-03-02T10:00:00-05:00", by=front_desk.user)
    cement = Stage.objects.get(case_id=case.pk, kind="cement_set")
    Stage.objects.filter(case_id=case.pk, kind__in=["pre_op", "procedure"]).update(
        actual_start=cement.planned_start - timedelta(hours=1), actual_end=cement.planned_start
    )
    Stage.objects.filter(pk=cement.pk).update(actual_start=cement.planned_start)
    Case.objects.filter(pk=case.pk).update(status="cement_setting")

    def board_at(minutes):
        clock.move_to(cement.planned_start + timedelta(minutes=minutes))
        client.force_login(nurse)  # a fresh session: the idle timeout follows the clock
        return client.get("/board/partial/", {"site": "main", "date": "2026-03-02"}).content

    running = board_at(48).decode()
    assert "Cement set: 12 min left" in running
    assert '<span class="block-timer">12 min</span>' in running  # on its block too
    late = board_at(63).decode()
    assert "Cement set: time up +3 min" in late
    assert 'class="timer timer-up"' in late
    assert '<strong class="block-alert">⚠ +3 min OVERDUE</strong>' in late
    # The alert in the board's live region, with a mark and a word.
    alerts = late.split('class="board-alerts"')[1].split("</ul>")[0]
    assert "<strong>OVERDUE</strong>" in alerts
    assert "Cement set: time up +3 min" in alerts
    assert 'role="alert"' not in late  # the summary's live region tells it, once


def test_a_patient_a_message_did_not_reach_is_flagged_on_the_board(client, unit):
    from notifications.models import Reminder, ReminderStatus

    reached, missed = (
        case_made(site=unit, patient={"mrn": mrn, "last_name": f"Patient-{mrn}"})
        for mrn in ("MRN-1", "MRN-2")
    )
    Reminder.objects.filter(pk=missed.reminders.first().pk).update(status=ReminderStatus.FAILED)

    flags = {case["id"]: case["flags"] for case in board_json(unit)["cases"]}

    assert "not_reached" in flags[missed.pk]
    assert "not_reached" not in flags[reached.pk]
    staff(client, unit, roles.NURSE)
    html = client.get("/board/", {"date": TUESDAY.isoformat()}).content.decode()
    row = html[html.index(f'id="case-{missed.pk}"'):]
    assert "Not reached" in row[: row.index("</tr>")]


def test_the_board_reads_each_instant_as_stored_to_the_microsecond(unit):
    (case,) = cases_made(unit, TUESDAY, 1)
    started = ny(TUESDAY, 7, 1) + timedelta(microseconds=123457)
    Stage.objects.filter(case=case, kind=StageKind.PRE_OP).update(actual_start=started)

    board = day_board_get(unit, TUESDAY, ny(TUESDAY, 7, 30))

    [line] = board.cases
    stored = {
        stage.kind: (stage.planned_start, stage.planned_end, stage.held_until, stage.actual_start)
        for stage in Stage.objects.filter(case=case)
    }
    for stage, *_ in line.stages:
        assert (stage.planned_start, stage.planned_end, stage.held_until, stage.actual_start) == (
            stored[stage.kind]
        )
        assert stage.planned_start.utcoffset() == timedelta(0)
    assert line.stages[0][0].actual_start == started
    assert line.case.arrival_at == Case.objects.get(pk=case.pk).arrival_at
