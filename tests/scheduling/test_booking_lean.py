"""What a booking reads and writes: the unit's configuration kept between bookings and read
again after any change to it, the audit rows of a booking in one insert, and no read of the MRN
before the insert that the unique constraint already guards."""

from auditlog.models import LogEntry
from auditlog.receivers import log_create
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling.models import Case, CaseMedication, Patient, Resource, Stage
from tests.conftest import case_payload
from tests.factories import TUESDAY, SiteFactory, build_unit

URL = "/api/v1/cases/"
AVAILABILITY = "/api/v1/availability/"
CONFIGURATION_TABLES = (
    "scheduling_proceduretype",
    "scheduling_stagetemplate",
    "scheduling_openinghours",
    "scheduling_resource",
    "scheduling_surgeonhours",
    "notifications_reminderrule",
)


def booked(client, mrn: str, **overrides):
    payload = case_payload(**overrides)
    payload["patient"] = payload["patient"] | {"mrn": mrn}
    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, payload, format="json")
    return response, [query["sql"] for query in queries.captured_queries]


def reading(sqls: list[str], table: str) -> list[str]:
    return [sql for sql in sqls if sql.startswith("SELECT") and f'FROM "{table}"' in sql]


def slots(client, site_code: str = "main") -> list[dict]:
    response = client.get(AVAILABILITY, {
        "site": site_code, "procedure_type": "vertebroplasty", "date": TUESDAY.isoformat(),
        "levels": 1,
    })
    assert response.status_code == 200, response.json()
    return response.json()["slots"]


def test_a_second_booking_reads_none_of_the_configuration_again(unit, front_desk):
    first, first_sqls = booked(front_desk, "MRN-2001")
    second, second_sqls = booked(front_desk, "MRN-2002")

    assert first.status_code == second.status_code == 201
    assert all(reading(first_sqls, table) for table in CONFIGURATION_TABLES[:3])
    assert [table for table in CONFIGURATION_TABLES if reading(second_sqls, table)] == []


def test_a_room_taken_out_of_use_in_the_admin_is_not_booked_next(db, admin_client, front_desk):
    unit = build_unit(rooms=1, pre_op_bays=1, recovery_bays=1)
    assert slots(front_desk)  # the unit's setup is now kept by this process
    room = Resource.objects.get(site=unit, kind="procedure_room")

    response = admin_client.post(f"/admin/scheduling/resource/{room.pk}/change/", {
        "site": unit.pk, "kind": room.kind, "name": room.name,  # "active" left unticked
    })

    assert response.status_code == 302
    assert slots(front_desk) == []
    refused, _ = booked(front_desk, "MRN-2003")
    assert refused.status_code == 409
    assert refused.json()["code"] == "no_free_slot"


def test_a_change_written_without_the_models_is_seen_by_the_next_booking(unit, front_desk):
    """Plain SQL, as another process or a bulk update writes it: no Django signal is sent, the
    database's triggers renew the stamp all the same."""
    before = slots(front_desk)[0]["start"]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE scheduling_openinghours SET opens = '11:00' WHERE site_id = %s", [unit.pk]
        )

    after = slots(front_desk)[0]["start"]
    response, _ = booked(front_desk, "MRN-2004")

    assert after > before
    assert after.startswith(f"{TUESDAY.isoformat()}T12:30")  # arrival 11:00 + 90 minutes
    assert response.json()["procedure_start"] == after


def test_each_sites_setup_is_kept_apart(unit, front_desk):
    build_unit(code="north", name="North", rooms=0)  # nothing to book at North
    assert slots(front_desk)
    assert slots(front_desk, "north") == []
    assert slots(front_desk)


def test_a_bookings_audit_rows_go_in_one_insert_as_auditlog_writes_them(unit, front_desk):
    response, sqls = booked(front_desk, "MRN-2005", medications=["warfarin"])
    assert response.status_code == 201
    case = Case.objects.get(pk=response.json()["id"])
    rows = [
        case.patient, case,
        *Stage.objects.filter(case=case).order_by("position"),
        *CaseMedication.objects.filter(case=case),
    ]

    inserts = [sql for sql in sqls if sql.startswith('INSERT INTO "auditlog_logentry"')]
    written = list(LogEntry.objects.order_by("pk"))
    # What auditlog writes by itself for the same rows, read back from the table.
    for row in rows:
        log_create(sender=type(row), instance=row, created=True)
    own = list(LogEntry.objects.order_by("pk"))[len(written):]

    assert len(inserts) == 1
    assert [(e.content_type_id, e.object_id) for e in written] == [
        (ContentType.objects.get_for_model(row).pk, row.pk) for row in rows
    ]
    for entry, expected in zip(written, own, strict=True):
        assert entry.action == expected.action == LogEntry.Action.CREATE
        assert entry.object_pk == expected.object_pk
        assert entry.object_repr == expected.object_repr
        assert entry.changes == expected.changes
        assert entry.serialized_data == expected.serialized_data
        assert entry.actor == front_desk.user
        assert entry.remote_addr == "127.0.0.1"
    assert [e.timestamp for e in written] == sorted(e.timestamp for e in written)


def test_a_known_mrn_is_left_to_the_unique_constraint_and_answered_as_before(unit, front_desk):
    # Registered at a site this clerk does not work at, under another name: not linked.
    elsewhere = SiteFactory(code="west", name="West")
    Patient.objects.create(
        first_name="Other", last_name="Person", date_of_birth="1950-01-01", mrn="MRN-2006"
    )
    front_desk.sites = [unit]
    front_desk.user.sites.set([unit])

    response, sqls = booked(front_desk, "MRN-2006")

    assert response.status_code == 409
    assert response.json()["code"] == "patient_exists"
    assert response.json()["detail"] == "A patient with MRN MRN-2006 is already registered."
    assert response.json()["errors"] == {
        "patient.mrn": ["A patient with MRN MRN-2006 is already registered."]
    }
    assert [sql for sql in sqls if sql.startswith('SELECT 1 AS "a" FROM "scheduling_patient"')] \
        == []
    assert Patient.objects.count() == 1
    assert Case.objects.count() == 0
    assert elsewhere.cases.count() == 0


def test_a_change_logged_inside_a_booking_keeps_its_place_in_the_trail(unit, front_desk):
    """A booking sent for review saves its hold after the case: the held creations go in before
    that change's row, the stages' after it, as auditlog alone would order them."""
    screening = case_payload()["screening"] | {"cement_allergy": True}
    response, sqls = booked(front_desk, "MRN-2007", screening=screening, request_review=True)
    assert response.status_code == 201, response.json()

    trail = [
        (entry.content_type.model, entry.action)
        for entry in LogEntry.objects.order_by("pk").select_related("content_type")
    ]

    assert trail == [
        ("patient", LogEntry.Action.CREATE),
        ("case", LogEntry.Action.CREATE),
        ("case", LogEntry.Action.UPDATE),
        *[("stage", LogEntry.Action.CREATE)] * 4,
    ]
    assert len([sql for sql in sqls if sql.startswith('INSERT INTO "auditlog_logentry"')]) == 3
