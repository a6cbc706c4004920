"""The walk of a Monday case through its day by the services, for the bedside rules' tests:
booked for 10:00 New York, the patient arriving at 08:30 (the clock's time), each stage lasting
about what it does on the ward, the cement set its full hour."""

from datetime import datetime, timedelta

import pytest

from scheduling.errors import SchedulingError
from scheduling.models import Case, CaseEvent, Stage
from scheduling.services.tracking import (
    case_check_in,
    stage_finish,
    stage_start,
)
from tests.factories import (
    case_made,
    case_ready_for_procedure,
)

MONDAY_START = "2026-03-02T10:00:00-05:00"  # arrival 08:30 New York
ARRIVAL = datetime.fromisoformat("2026-03-02T13:30:00+00:00")
TICKABLE = [
    "consent_signed", "imaging_verified", "fasting_confirmed", "medications_held_confirmed",
    "iv_placed", "driver_confirmed",
]
STANDARD = [*TICKABLE, "preop_vitals"]  # and the INR, when a held drug asks for it
ALL_TICKED = dict.fromkeys(TICKABLE, True)


def monday_case(unit, clock, **made):
    case = case_made(site=unit, start=MONDAY_START, **made)
    clock.move_to(ARRIVAL)
    return case


def refused(code, call, **kwargs):
    with pytest.raises(SchedulingError) as error:
        call(**kwargs)
    assert error.value.code == code, error.value.detail
    return error.value


def fresh(case):
    return Case.objects.get(pk=case.pk)


def stage(case, kind):
    return Stage.objects.get(case_id=case.pk, kind=kind)


def pre_op_done(case, nurse, clock):
    """Checked in, pre-op started and finished 40 minutes later: the procedure is next."""
    case_check_in(case=case, by=nurse)
    stage_start(case=case, kind="pre_op", by=nurse)
    clock.shift(timedelta(minutes=40))
    stage_finish(case=case, kind="pre_op", by=nurse)


def to_cement_set(case, nurse, clock):
    pre_op_done(case, nurse, clock)
    case_ready_for_procedure(case, nurse=nurse)
    stage_start(case=case, kind="procedure", by=nurse)
    clock.shift(timedelta(minutes=45))
    stage_finish(case=case, kind="procedure", by=nurse)
    stage_start(case=case, kind="cement_set", by=nurse)


def to_recovery(case, nurse, clock):
    to_cement_set(case, nurse, clock)
    clock.shift(timedelta(minutes=60))
    stage_finish(case=case, kind="cement_set", by=nurse)
    stage_start(case=case, kind="recovery", by=nurse)


def events(case, **filters):
    return list(CaseEvent.objects.filter(case_id=case.pk, **filters).order_by("at", "id"))
