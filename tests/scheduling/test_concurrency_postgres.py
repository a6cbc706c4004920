"""No double booking under real concurrency, and the exclusion constraints that guarantee it.

These tests commit for real (transaction=True): each thread is a clerk's request on its own
database connection, and the bookings race on PostgreSQL as they would in production. The
constraints of migration 0002 are also checked directly, bypassing the booking service.
"""

from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from scheduling.models import Case, Patient, Resource, Site, Stage, StageKind
from tests.conftest import case_payload
from tests.factories import PatientFactory, case_made
from tests.threads import run_together

URL = "/api/v1/cases/"

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def posting(client, url, payload):
    def call():
        response = client.post(url, payload, format="json")
        return response.status_code, response.json()

    return call


def clients_for(front_desk, count):
    """Separate API clients, one per clerk's request, with the front-desk user's token (made
    here in the main thread and committed before any request starts)."""
    token = Token.objects.get(user=front_desk.user).key
    front_desk.user.sites.set(Site.objects.all())  # the clerk works at the unit under test
    clients = []
    for _ in range(count):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        clients.append(client)
    return clients


def new_patient(number):
    return {
        "first_name": "Concurrent",
        "last_name": f"Patient{number:03d}",
        "date_of_birth": "1950-01-01",
        "mrn": f"MRN-RACE-{number:03d}",
        "phone": "+1 212 555 0100",
        "email": f"race{number}@example.org",
        "preferred_channel": "sms",
        "language": "en",
    }


def errors(results):
    """Requests that raised (the test client re-raises what would be a 500) or answered 5xx."""
    return [r for r in results if isinstance(r, BaseException) or r[0] >= 500]


def unexpected(results, allowed_codes):
    """Everything that is neither a success nor a 409 with one of the allowed codes."""

    def expected(result):
        status, body = result
        return status in (200, 201) or (status == 409 and body.get("code") in allowed_codes)

    return [r for r in results if isinstance(r, BaseException) or not expected(r)]


def stages_of(case: Case):
    # Read from the table, not through whatever the service left cached on the case object.
    return Stage.objects.filter(case_id=case.pk)


def planned_starts(case: Case) -> list[datetime]:
    return list(stages_of(case).order_by("position").values_list("planned_start", flat=True))


def case_without_stages(like: Case) -> Case:
    """Another patient's case on the same day, with no stages yet: a stage needs a case to
    belong to, and a case may have only one stage of each kind."""
    twin = Case.objects.get(pk=like.pk)
    twin.pk = None
    twin._state.adding = True
    twin.patient = PatientFactory()
    twin.save()
    return twin


def stage_fields(stage: Stage, **changes) -> dict:
    """The fields of a copy of `stage` with some changed; held until its end unless told."""
    fields = {
        "case": stage.case,
        "position": stage.position,
        "kind": stage.kind,
        "resource": stage.resource,
        "surgeon": stage.surgeon,
        "planned_start": stage.planned_start,
        "planned_end": stage.planned_end,
        "active": True,
    }
    fields.update(changes)
    fields.setdefault("held_until", fields["planned_end"])
    return fields


def violated_constraint(exc_info) -> str | None:
    cause = exc_info.value.__cause__
    return getattr(getattr(cause, "diag", None), "constraint_name", None)


# Racing clerks, through the API


def test_fifty_clerks_booking_the_same_start_get_one_case_and_49_slot_taken(tiny_unit, front_desk):
    start = "2026-03-03T10:00:00-05:00"
    calls = [
        posting(client, URL, case_payload(start=start, patient=new_patient(number)))
        for number, client in enumerate(clients_for(front_desk, 50))
    ]

    results = run_together(calls)

    assert errors(results) == []
    assert sorted(status for status, _ in results) == [201] + [409] * 49
    assert Case.objects.count() == 1
    assert Stage.objects.count() == 4
    procedure = Stage.objects.get(kind=StageKind.PROCEDURE)
    assert procedure.planned_start == datetime.fromisoformat(start)
    # The patient and the case are saved together: refused bookings leave no patient behind.
    assert Patient.objects.count() == 1
    assert Patient.objects.get() == Case.objects.get().patient
    # APP BUG on commit 598f180 (fails most runs there): some losers heard surgeon_unavailable.
    # DayBook (scheduling/slots.py) read busy rooms and busy surgeons in two statements; under
    # READ COMMITTED the winner could commit between them: room looked free, surgeon busy.
    # Reading both in one statement, as the working-tree DayBook now does, fixes it.
    assert unexpected(results, {"slot_taken"}) == []


OVERLAPPING_ACTIVE_STAGES = """
    SELECT a.id, b.id
    FROM scheduling_stage a
    JOIN scheduling_stage b ON a.resource_id = b.resource_id AND a.id < b.id
    WHERE a.active AND b.active
      AND tstzrange(a.planned_start, a.held_until, '[)')
          && tstzrange(b.planned_start, b.held_until, '[)')
"""


def test_thirty_clerks_booking_the_earliest_slot_never_share_a_room_or_bay(unit, front_desk):
    calls = [
        posting(client, URL, case_payload(patient=new_patient(number)))
        for number, client in enumerate(clients_for(front_desk, 30))
    ]

    results = run_together(calls)

    # A clerk who lost every retry hears slot_taken; once the day is full, no_free_slot.
    assert unexpected(results, {"slot_taken", "no_free_slot"}) == []
    booked = [body for status, body in results if status == 201]
    assert len(booked) == Case.objects.count() > 1
    assert Stage.objects.count() == 4 * len(booked)
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPPING_ACTIVE_STAGES)
        assert cursor.fetchall() == []


def test_a_reschedule_race_to_the_same_start_moves_one_case_and_leaves_the_other(
    tiny_unit, front_desk
):
    first = case_made(site=tiny_unit, start="2026-03-03T08:30:00-05:00", driver_name="")
    second = case_made(site=tiny_unit, start="2026-03-03T14:00:00-05:00", driver_name="")
    # Free in the one room, bay and surgeon whichever of the two cases moves there.
    target = "2026-03-03T11:15:00-05:00"
    before = {case.pk: planned_starts(case) for case in (first, second)}
    clerks = clients_for(front_desk, 2)

    results = run_together(
        [
            posting(clerk, f"{URL}{case.pk}/reschedule/", {"start": target})
            for clerk, case in zip(clerks, (first, second), strict=False)
        ]
    )

    outcome = dict(zip((first.pk, second.pk), results, strict=False))
    assert errors(results) == []
    assert sorted(status for status, _ in outcome.values()) == [200, 409]
    winner, loser = (first, second) if outcome[first.pk][0] == 200 else (second, first)
    assert outcome[loser.pk][1]["code"] == "slot_taken"
    winner.refresh_from_db()
    assert winner.procedure_start == datetime.fromisoformat(target)
    loser_procedure_start = loser.procedure_start
    loser.refresh_from_db()
    assert loser.procedure_start == loser_procedure_start
    assert planned_starts(loser) == before[loser.pk]
    assert Stage.objects.count() == 8


# The constraints themselves, under the ORM


def test_the_database_refuses_an_active_stage_overlapping_a_held_bay(unit):
    case = case_made(site=unit, driver_name="")
    pre_op = stages_of(case).get(kind=StageKind.PRE_OP)
    other = case_without_stages(case)
    half_an_hour = timedelta(minutes=30)

    with pytest.raises(IntegrityError) as exc_info, transaction.atomic():
        Stage.objects.create(
            **stage_fields(
                pre_op,
                case=other,
                planned_start=pre_op.planned_start + half_an_hour,
                planned_end=pre_op.planned_end + half_an_hour,
            )
        )

    assert violated_constraint(exc_info) == "stage_resource_no_overlap"
    assert stages_of(other).count() == 0


def test_the_room_stays_held_through_its_turnover(unit):
    case = case_made(site=unit, driver_name="")
    cement_set = stages_of(case).get(kind=StageKind.CEMENT_SET)
    assert cement_set.held_until == cement_set.planned_end + timedelta(minutes=15)
    other = case_without_stages(case)

    with pytest.raises(IntegrityError) as exc_info, transaction.atomic():
        Stage.objects.bulk_create(
            [
                Stage(
                    **stage_fields(
                        cement_set,
                        case=other,
                        planned_start=cement_set.planned_end,
                        planned_end=cement_set.planned_end + timedelta(hours=1),
                    )
                )
            ]
        )

    assert violated_constraint(exc_info) == "stage_resource_no_overlap"


def test_the_database_accepts_a_stage_starting_when_the_room_is_free_again(unit):
    case = case_made(site=unit, driver_name="")
    cement_set = stages_of(case).get(kind=StageKind.CEMENT_SET)
    other = case_without_stages(case)

    Stage.objects.bulk_create(
        [
            Stage(
                **stage_fields(
                    cement_set,
                    case=other,
                    planned_start=cement_set.held_until,
                    planned_end=cement_set.held_until + timedelta(hours=1),
                )
            )
        ]
    )

    assert stages_of(other).get().resource == cement_set.resource


def test_an_inactive_stage_does_not_hold_the_bay(unit):
    case = case_made(site=unit, driver_name="")
    pre_op = stages_of(case).get(kind=StageKind.PRE_OP)
    other = case_without_stages(case)

    Stage.objects.create(**stage_fields(pre_op, case=other, active=False))

    assert stages_of(other).get().resource == pre_op.resource
    # The same stage is refused once active: its acceptance was down to active=False alone.
    with pytest.raises(IntegrityError) as exc_info, transaction.atomic():
        stages_of(other).update(active=True)
    assert violated_constraint(exc_info) == "stage_resource_no_overlap"


def test_the_database_refuses_a_surgeon_in_two_overlapping_stages(unit):
    case = case_made(site=unit, driver_name="")
    procedure = stages_of(case).get(kind=StageKind.PROCEDURE)
    assert procedure.surgeon is not None
    free_room = Resource.objects.exclude(pk=procedure.resource_id).get(
        site=unit, kind=procedure.resource.kind
    )
    other = case_without_stages(case)
    half_an_hour = timedelta(minutes=30)

    with pytest.raises(IntegrityError) as exc_info, transaction.atomic():
        Stage.objects.create(
            **stage_fields(
                procedure,
                case=other,
                resource=free_room,
                planned_start=procedure.planned_start + half_an_hour,
                planned_end=procedure.planned_end + half_an_hour,
            )
        )

    assert violated_constraint(exc_info) == "stage_surgeon_no_overlap"
    # The surgeon is free the moment the procedure ends (the room's turnover is not theirs).
    Stage.objects.create(
        **stage_fields(
            procedure,
            case=other,
            resource=free_room,
            planned_start=procedure.planned_end,
            planned_end=procedure.planned_end + timedelta(hours=1),
        )
    )
    assert stages_of(other).get().surgeon == procedure.surgeon
