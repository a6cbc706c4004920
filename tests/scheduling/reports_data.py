"""Cases with known planned and actual times for the report tests, written straight to the
database (the past cannot be booked through the services, which refuse a passed date)."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from notifications.models import Reminder, ReminderRule
from scheduling import timing
from scheduling.models import (
    RELEASED_STATUSES,
    Case,
    CaseStatus,
    ProcedureType,
    Resource,
    ResourceKind,
    Stage,
)
from scheduling.slots import site_rules, stage_rules
from tests.conftest import CLEAR_SCREENING
from tests.factories import PatientFactory

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2026, 2, 9)  # ISO week 2026-W07, four weeks before the frozen clock's week
TUESDAY = date(2026, 2, 10)


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), NEW_YORK)


def case_written(
    site, day, hour, minute=0, *, levels=1, room="Room 1", pre_op="Pre-op 1",
    recovery="Recovery 1", status=CaseStatus.DISCHARGED, procedure_type="vertebroplasty",
) -> Case:
    """A past case written straight into the database in the rooms and with the status given,
    as the reports read history (tests/factories.case_made books a case through the services)."""
    kind = ProcedureType.objects.get(code=procedure_type)
    times = timing.case_times(stage_rules(kind), levels, ny(day, hour, minute), site_rules(site))
    case = Case.objects.create(
        site=site, patient=PatientFactory(), procedure_type=kind, levels=levels, day=day,
        status=status, arrival_at=times.arrival_at, procedure_start=times.procedure_start,
        fasting_solids_until=times.fasting_solids_until,
        fasting_clear_liquids_until=times.fasting_clear_liquids_until,
        driver_name="Tom", driver_phone="+12125550101", **CLEAR_SCREENING,
    )
    names = {
        ResourceKind.PRE_OP_BAY: pre_op,
        ResourceKind.PROCEDURE_ROOM: room,
        ResourceKind.RECOVERY_BAY: recovery,
    }
    resources = {r.name: r for r in Resource.objects.filter(site=site)}
    Stage.objects.bulk_create(
        Stage(
            case=case, position=position, kind=stage.kind,
            resource=resources[names[stage.resource_kind]],
            planned_start=stage.start, planned_end=stage.end, held_until=stage.held_until,
            active=status not in RELEASED_STATUSES,
        )
        for position, stage in enumerate(times.stages)
    )
    return case


def ran(case: Case, kind: str, start: tuple[int, int], end: tuple[int, int]) -> None:
    """The stage really ran from start to end (hours, minutes in New York on the case's day)."""
    case.stages.filter(kind=kind).update(
        actual_start=ny(case.day, *start), actual_end=ny(case.day, *end)
    )


def message_made(case: Case, kind: str, due: datetime, status: str, *, sent: bool, note: str):
    return Reminder.objects.create(
        case=case, rule=ReminderRule.objects.filter(kind=kind).first(),
        kind=kind, audience="patient", channel="sms", recipient="+12125550100", note=note,
        plan_version=1, due_at=due, send_by=due, status=status, sent_at=due if sent else None,
    )
