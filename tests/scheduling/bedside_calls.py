"""The calls a nurse's client makes through a Monday case's day, for the bedside API's tests:
booked for 10:00 New York, the patient arriving at 08:30 (the clock's time)."""

from datetime import datetime, timedelta

from tests.factories import GOOD_VITALS, case_made

URL = "/api/v1/cases/"
MONDAY_START = "2026-03-02T10:00:00-05:00"  # arrival 08:30 in New York
ARRIVAL = datetime.fromisoformat("2026-03-02T13:30:00+00:00")
TICKS = {
    "consent_signed": True, "imaging_verified": True, "fasting_confirmed": True,
    "medications_held_confirmed": True, "iv_placed": True, "driver_confirmed": True,
}


def book_monday(site, **made) -> int:
    return case_made(site=site, start=MONDAY_START, **made).pk


def call(client, case_id, action, body=None, method="post"):
    return getattr(client, method)(f"{URL}{case_id}/{action}/", body, format="json")


def ok(response, status=200):
    assert response.status_code == status, response.json()
    return response.json()


def refused(response, status, code):
    assert (response.status_code, response.json()["code"]) == (status, code), response.json()
    return response.json()


def checklist(client, case_id, body):
    return call(client, case_id, "checklist", body, "patch")


def to_procedure(client, case_id, clock):
    """Checked in, pre-op started and finished 40 minutes later."""
    ok(call(client, case_id, "check-in"))
    ok(call(client, case_id, "stages/pre_op/start"))
    clock.shift(timedelta(minutes=40))
    ok(call(client, case_id, "stages/pre_op/finish"))


def ready_for_procedure(client, case_id):
    ok(checklist(client, case_id, TICKS))
    ok(call(client, case_id, "vitals", {"phase": "pre_op", **GOOD_VITALS}), 201)


def to_cement_set(client, case_id, clock):
    to_procedure(client, case_id, clock)
    ready_for_procedure(client, case_id)
    ok(call(client, case_id, "stages/procedure/start"))
    clock.shift(timedelta(minutes=45))
    ok(call(client, case_id, "stages/procedure/finish"))
    ok(call(client, case_id, "stages/cement_set/start"))


def to_recovery(client, case_id, clock):
    to_cement_set(client, case_id, clock)
    clock.shift(timedelta(minutes=60))
    ok(call(client, case_id, "stages/cement_set/finish"))
    ok(call(client, case_id, "stages/recovery/start"))


def history(client, case_id):
    return ok(client.get(f"{URL}{case_id}/"))["history"]


def at(text):
    return datetime.fromisoformat(text)
