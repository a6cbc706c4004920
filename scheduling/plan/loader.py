"""The day at a site read from the database into the solver's plain input, in a fixed number of
queries. The keys are "case:<id>" for booked cases and "entry:<id>" for waiting-list entries."""

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone

from notifications.models import MessageKind, Reminder, ReminderStatus

from .. import timing
from ..models import (
    NOT_ARRIVED_STATUSES,
    PRIORITY_RANK,
    RELEASED_STATUSES,
    Case,
    ProcedureType,
    Site,
    Stage,
    StageTemplate,
    WaitingListEntry,
    WaitingStatus,
)
from ..screening import screening_blockers
from ..slots import site_rules, stage_rules
from ..unit_day import UnitDay
from .day import Busy, DayInput, Request, Shift, Unit
from .waiting import entry_screening

# Messages that gave the patient their arrival time: once one went out for the current plan,
# moving the case means telling them again, which the manager must allow.
TOLD_KINDS = (
    MessageKind.CONFIRMATION, MessageKind.ARRIVAL, MessageKind.ARRIVAL_MORNING,
    MessageKind.RESCHEDULE_NOTICE, MessageKind.RUNNING_LATE,
)
SENT = (ReminderStatus.SENT, ReminderStatus.DELIVERED)


def minutes(instant: datetime) -> int:
    return int(instant.timestamp() // 60)


def instant(epoch_minutes: int) -> datetime:
    return datetime.fromtimestamp(epoch_minutes * 60, tz=UTC)


@dataclass
class LoadedDay:
    day: DayInput
    cases: dict[str, Case] = field(default_factory=dict)
    entries: dict[str, WaitingListEntry] = field(default_factory=dict)  # skipped ones too
    skipped: dict[str, str] = field(default_factory=dict)  # waiting entries not plannable
    fingerprint: str = ""


def day_cases(site: Site, day: date):
    told = Reminder.objects.filter(
        case=OuterRef("pk"), kind__in=TOLD_KINDS, status__in=SENT,
        plan_version=OuterRef("plan_version"),
    )
    return (
        Case.objects.filter(site=site, day=day).exclude(status__in=RELEASED_STATUSES)
        .select_related("patient", "procedure_type", "surgeon")
        .annotate(told=Exists(told))
        .prefetch_related(Prefetch("stages", Stage.objects.select_related("resource")
                                   .order_by("position")))
        .order_by("procedure_start", "pk")
    )


def fingerprint(site: Site, day: date) -> str:
    """What the proposal was made from: every case of the day and its time, and the waiting
    list for the day. Any booking, move, cancellation or check-in since changes it, and so does
    a waiting patient scheduled, removed or changed."""
    cases = Case.objects.filter(site=site, day=day).values_list(
        "pk", "status", "plan_version", "procedure_start").order_by("pk")
    entries = WaitingListEntry.objects.filter(
        site=site, earliest_date__lte=day, latest_date__gte=day
    ).values_list(
        "pk", "status", "levels", "procedure_type_id", "surgeon_id", "screening_done"
    ).order_by("pk")
    text = repr((list(cases), list(entries)))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def load_day(
    *, site: Site, day: date, waiting_list: bool = False, allow_move_told: bool = False
) -> LoadedDay:
    unit_day = UnitDay.load(site=site, day=day)
    opens = closes = noon = None
    if unit_day.opens is not None:
        opens, closes = minutes(unit_day.opens), minutes(unit_day.closes)
        noon = minutes(timing.local_instant(day, time(12), site.zone))
    units = tuple(Unit(str(r.pk), r.kind, r.name) for r in unit_day.resources)
    shifts = tuple(
        Shift(str(s.surgeon.pk), s.surgeon.name, minutes(s.starts), minutes(s.ends))
        for s in unit_day.shifts
    )
    now = timezone.now()
    loaded = LoadedDay(day=None)
    cases = list(day_cases(site, day))
    type_ids = {c.procedure_type_id for c in cases} | _entry_types(site, day, waiting_list)
    types = _procedure_types(type_ids)
    requests = [_case_request(case, types, now, allow_move_told) for case in cases]
    loaded.cases = {f"case:{c.pk}": c for c in cases}
    if waiting_list:
        booked_patients = {c.patient_id for c in cases}
        for entry in _entries(site, day):
            key = f"entry:{entry.pk}"
            loaded.entries[key] = entry
            reason = _not_ready(entry, booked_patients, site) or (
                "" if types[entry.procedure_type_id].stage_templates.all()
                else "the procedure type has no stages set up"
            )
            if reason:
                loaded.skipped[key] = reason
                continue
            requests.append(Request(
                key=key, rules=tuple(stage_rules(types[entry.procedure_type_id])),
                levels=entry.levels, rank=PRIORITY_RANK[entry.priority],
                label=f"{entry.patient.last_name} (waiting list)",
                surgeons=(str(entry.surgeon_id),) if entry.surgeon_id else None,
            ))
    loaded.day = DayInput(
        opens=opens, closes=closes, site=site_rules(site), units=units, shifts=shifts,
        requests=tuple(requests), busy=_busy(unit_day, cases),
        noon=noon, arrive_from=minutes(now) + 1 if opens is not None else None,
        closed_kinds=frozenset(r.kind for r in unit_day.closed_resources),
    )
    loaded.fingerprint = fingerprint(site, day)
    return loaded


def _entry_types(site: Site, day: date, waiting_list: bool) -> set[int]:
    if not waiting_list:
        return set()
    return {e.procedure_type_id for e in _entries(site, day)}


def _entries(site: Site, day: date):
    return (
        WaitingListEntry.objects.filter(
            site=site, status=WaitingStatus.WAITING, earliest_date__lte=day, latest_date__gte=day
        ).select_related("patient", "procedure_type").order_by("created_at", "pk")
    )


def _not_ready(entry: WaitingListEntry, booked_patients: set[int], site: Site) -> str:
    if entry.patient_id in booked_patients:
        return "already booked on this day"
    if not entry.procedure_type.active:
        return "the procedure type is no longer offered"
    answers = entry_screening(entry)
    if answers is None:
        return "screening not done"
    if screening_blockers(answers, min_conservative_weeks=site.conservative_treatment_min_weeks):
        return "screening blocks the booking"
    return ""


def _procedure_types(ids: set[int]) -> dict[int, ProcedureType]:
    return {
        t.pk: t for t in ProcedureType.objects.filter(pk__in=ids).prefetch_related(
            Prefetch("stage_templates", StageTemplate.objects.order_by("position", "id"))
        )
    }


def _case_request(case: Case, types, now: datetime, allow_move_told: bool) -> Request:
    units: list[str] = []
    previous_kind = None
    for stage in case.stages.all():
        if stage.resource.kind != previous_kind:
            units.append(str(stage.resource_id))
        previous_kind = stage.resource.kind
    fixed = (
        case.status not in NOT_ARRIVED_STATUSES
        or case.arrival_at <= now
        or (case.told and not allow_move_told)
    )
    return Request(
        key=f"case:{case.pk}",
        rules=tuple(stage_rules(types[case.procedure_type_id])),
        levels=case.levels,
        label=case.patient.last_name,
        surgeons=(str(case.surgeon_id),) if case.surgeon_requested and case.surgeon_id else None,
        current_start=minutes(case.procedure_start),
        current_units=tuple(units),
        current_surgeon=str(case.surgeon_id) if case.surgeon_id else None,
        fixed=fixed,
    )


def _busy(unit_day: UnitDay, cases: list[Case]) -> tuple[Busy, ...]:
    """Stages of other cases (another day's overrun, a surgeon's list at another site) that
    hold this site's rooms and bays or its surgeons while the day is open."""
    busy = []
    for stage in unit_day.busy(
        after_closing=timedelta(hours=4), exclude_case_ids=[c.pk for c in cases], in_case_order=True
    ):
        start = int(stage.start // 60)
        busy.append(Busy(str(stage.resource_id), None, start, int(stage.held_until // 60)))
        if stage.surgeon_id is not None:
            busy.append(Busy(None, str(stage.surgeon_id), start, int(stage.end // 60)))
    return tuple(busy)
