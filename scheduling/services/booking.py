"""Book, reschedule, cancel and mark no-show: every write of a case and its stages.

Each verb runs in one transaction: a case is written with all its stages or not at all. The slot
is searched inside the same transaction that writes it. On PostgreSQL the exclusion constraints
of migration 0002 are the last word: if another clerk's booking committed the same room first,
the insert fails, the whole transaction rolls back and is run again from the start with the new
picture (a second room may still be free). A caller that writes more in the same transaction
(the API registers a new patient with the case) runs it all through `booking_attempts`, so that
the retry takes in its writes too, with no savepoint. On SQLite the write lock taken at BEGIN
serialises bookings, so the search alone is enough.
"""

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from audit import records as audit
from hl7v2.models import SiuTrigger
from hl7v2.outbox import siu_write
from notifications.services import reminders_cancel, reminders_plan, reminders_replan

from .. import horizon, roles, timing
from ..errors import SchedulingError
from ..holding import hold_booked, hold_pinned, hold_take, slot_holds_expire
from ..locks import case_locked
from ..models import (
    CANCELLABLE_STATUSES,
    NOT_ARRIVED_STATUSES,
    Case,
    CaseAction,
    CaseEvent,
    CaseMedication,
    CaseStatus,
    Drug,
    Patient,
    ProcedureType,
    Site,
    SlotHold,
    Stage,
    Surgeon,
)
from ..offers.freed import freed_time_record
from ..screening import ScreeningAnswers, screening_blockers
from ..slots import DayBook, Pinned, Slot
from ..timing import local_hm
from .calls import unit_will_call_check
from .closures import closure_refusal
from .patients import phone_e164

ATTEMPTS = 5
EXCLUSION_VIOLATION = "23P01"
DEADLOCK_DETECTED = "40P01"

T = TypeVar("T")
# True while booking_attempts runs: a booking inside it leaves the retry to it.
_attempting: ContextVar[bool] = ContextVar("booking_attempting", default=False)


def case_book(
    *,
    site: Site,
    procedure_type: ProcedureType,
    levels: int,
    day: date,
    patient: Patient,
    screening: ScreeningAnswers,
    booked_by: AbstractBaseUser,
    start: datetime | None = None,
    surgeon: Surgeon | None = None,
    medications: Sequence[Drug] = (),
    takes_no_medicines: bool = False,
    other_medicines: str = "",
    driver_name: str = "",
    driver_phone: str = "",
    override_reason: str | None = None,
    request_review: bool = False,
    unit_will_call: bool = False,
    pinned: Pinned | None = None,
    hold: SlotHold | None = None,
) -> Case:
    """Book the case (into the time `hold` keeps, when given: its start, rooms and surgeon;
    refused with `hold_expired` once it has run out). A screening answer that blocks it needs
    a clinician's `override_reason`, or `request_review`: the case is then saved as
    needs_review, holding its rooms for the site's review hours, and its patient is told nothing
    until a clinician approves it. A patient with no phone (or email) for their channel needs
    `unit_will_call`."""
    check_levels(procedure_type, levels)
    if takes_no_medicines and medications:
        raise SchedulingError(
            "medicines_conflict",
            "Either tick the medicines the patient takes or “takes none of these”, not both.",
            field="medications",
        )
    check_day(site, day)
    if start is not None:
        _check_start(site, day, start)
    override = screening_override(
        site=site, screening=screening, override_reason=override_reason, user=booked_by,
        request_review=request_review,
    )
    unit_will_call = unit_will_call_check(patient=patient, acknowledged=unit_will_call)
    if driver_phone:
        driver_phone = phone_e164(driver_phone, field="driver.phone")

    def write() -> Case:
        taken = hold_take(hold) if hold is not None else None
        book = DayBook.load(
            site=site, procedure_type=procedure_type, levels=levels, day=day,
            surgeon=surgeon,
        )
        book.pin(hold_pinned(taken) if taken is not None else pinned)
        slot = _slot(book, taken.procedure_start if taken is not None else start)
        case = Case.objects.create(
            site=site,
            patient=patient,
            procedure_type=procedure_type,
            levels=levels,
            surgeon=slot.surgeon,
            surgeon_requested=surgeon is not None,
            day=day,
            driver_name=driver_name,
            driver_phone=driver_phone,
            takes_no_medicines=takes_no_medicines,
            other_medicines=other_medicines.strip(),
            booked_by=booked_by,
            unit_will_call=unit_will_call,
            **_times_fields(slot),
            **vars(screening),
            **override,
        )
        if case.status == CaseStatus.NEEDS_REVIEW:
            # Held for the site's hours, and never past the arrival: a case not approved by
            # then cannot go ahead.
            held_until = timezone.now() + timedelta(hours=site.review_hold_hours)
            case.review_hold_until = min(held_until, case.arrival_at)
            case.save(update_fields=["review_hold_until"])
        stages = _write_stages(case, slot)
        held = audit.created(CaseMedication.objects.bulk_create(
            CaseMedication(
                case=case,
                drug=drug,
                hold_starts_on=timing.medication_hold_starts_on(day, drug.hold_days),
            )
            for drug in medications
        ))
        _with_details(case, stages=stages, held_medications=held, events=[])
        if case.status != CaseStatus.NEEDS_REVIEW:
            reminders_plan(case, just_booked=True)
            siu_write(case=case, trigger=SiuTrigger.BOOKED, by=booked_by)
        if taken is not None:
            hold_booked(taken, case)
        return case

    return booking_attempts(day=day, write=write)


def case_reschedule(
    *,
    case: Case,
    by: AbstractBaseUser | None,
    start: datetime | None = None,
    day: date | None = None,
    expected_version: str | None = None,
    source: str = "",
    pinned: Pinned | None = None,
    hold: SlotHold | None = None,
) -> Case:
    """Move the case (into the time `hold` keeps, when given). `by` is the member of staff who
    moved it, or None with `source` (an EventSource) when the patient did, which the case's
    history then records. `pinned`: the rooms, bays and surgeon it must get (a day plan's),
    instead of the first free ones."""
    _check_actor(by, source)
    if start is None and day is None:
        raise SchedulingError("start_or_date_required", "Give a new start time or a new date.")
    site = case.site
    if day is None:
        day = timing.local_day(start, site.zone)
    check_day(site, day)
    if start is not None:
        _check_start(site, day, start)

    def write() -> Case:
        locked = case_locked(case.pk, expected_version=expected_version)
        _check_changeable(locked)
        taken = hold_take(hold) if hold is not None else None
        book = DayBook.for_move(case=locked, day=day)
        book.pin(hold_pinned(taken) if taken is not None else pinned)
        slot = _slot(book, taken.procedure_start if taken is not None else start)
        freed_time_record(case=locked)  # the old time, offered to the waiting list
        was = locked.arrival_at
        status_before = locked.status
        locked.stages.all().delete()
        stages = _write_stages(locked, slot)
        locked.day = day
        locked.surgeon = slot.surgeon
        locked.plan_version += 1
        for name, value in _times_fields(slot).items():
            setattr(locked, name, value)
        locked.save(
            update_fields=[
                "day", "surgeon", "plan_version", "updated_at", *_times_fields(slot).keys()
            ]
        )
        held = list(locked.held_medications.select_related("drug"))
        for medication in held:
            medication.hold_starts_on = timing.medication_hold_starts_on(
                day, medication.drug.hold_days
            )
        audit.bulk_update(held, ["hold_starts_on"])
        _with_details(locked, stages=stages, held_medications=held)
        reminders_replan(locked)
        siu_write(case=locked, trigger=SiuTrigger.MOVED, by=by)
        if source:
            zone = site.zone
            _patient_step(
                locked, CaseAction.MOVE, source, status_before=status_before,
                reason=f"From {was.astimezone(zone):%a %-d %b %Y %H:%M} to "
                f"{locked.arrival_at.astimezone(zone):%a %-d %b %Y %H:%M} (arrival).",
            )
        if taken is not None:
            hold_booked(taken, locked)
        return locked

    return booking_attempts(day=day, write=write)


def case_cancel(
    *,
    case: Case,
    reason: str,
    by: AbstractBaseUser | None,
    expected_version: str | None = None,
    source: str = "",
) -> Case:
    """Cancel the case. `by` and `source` as for case_reschedule."""
    _check_actor(by, source)
    reason = (reason or "").strip()
    if not reason:
        raise SchedulingError("reason_required", "Say why the case is cancelled.", field="reason")
    with transaction.atomic():
        locked = case_locked(case.pk, expected_version=expected_version)
        if locked.status not in CANCELLABLE_STATUSES:
            raise _not_changeable(locked)
        status_before = locked.status
        locked.status = CaseStatus.CANCELLED
        locked.cancel_reason = reason
        locked.cancelled_at = timezone.now()
        locked.cancelled_by = by
        locked.save(
            update_fields=["status", "cancel_reason", "cancelled_at", "cancelled_by", "updated_at"]
        )
        audit.update(locked.stages.all(), active=False)
        reminders_cancel(locked)
        freed_time_record(case=locked)
        siu_write(case=locked, trigger=SiuTrigger.CANCELLED, by=by)
        if source:
            _patient_step(
                locked, CaseAction.CANCEL, source, status_before=status_before, reason=reason
            )
    return locked


def case_mark_no_show(
    *, case: Case, by: AbstractBaseUser, expected_version: str | None = None
) -> Case:
    with transaction.atomic():
        locked = case_locked(case.pk, expected_version=expected_version)
        _check_changeable(locked)
        if timezone.now() < locked.arrival_at:
            raise SchedulingError(
                "not_yet_due",
                "The patient is not due yet; a no-show can be recorded after the arrival time.",
            )
        locked.status = CaseStatus.NO_SHOW
        locked.save(update_fields=["status", "updated_at"])
        audit.update(locked.stages.all(), active=False)
        reminders_cancel(locked)
        freed_time_record(case=locked)
        siu_write(case=locked, trigger=SiuTrigger.NO_SHOW, by=by)
    return locked


def case_confirm(*, case: Case, source: str = "") -> Case:
    """The patient confirmed (by SMS reply or on their link page; `source` says which, for the
    case's history). Idempotent: a second confirm changes and records nothing."""
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.status == CaseStatus.BOOKED:
            locked.status = CaseStatus.CONFIRMED
            locked.confirmed_at = timezone.now()
            locked.save(update_fields=["status", "confirmed_at", "updated_at"])
            if source:
                _patient_step(locked, CaseAction.CONFIRM, source, status_before=CaseStatus.BOOKED)
    return locked


def _check_actor(by: AbstractBaseUser | None, source: str) -> None:
    # A programming error, not a user's: every change names a member of staff or the patient.
    if (by is None) == (not source):
        raise ValueError("Give either `by` (a member of staff) or `source` (the patient's way).")


def _patient_step(
    case: Case, action: str, source: str, *, status_before: str, reason: str = ""
) -> CaseEvent:
    """A step the patient took, on the case's history: staff see who changed their case."""
    return CaseEvent.objects.create(
        case=case, action=action, source=source, status_before=status_before,
        at=timezone.now(), by=None, reason=reason,
    )


def _slot(book: DayBook, start: datetime | None) -> Slot:
    refusal = closure_refusal(book)
    if refusal is not None:
        raise refusal
    if book.opens is None:
        raise SchedulingError(
            "site_closed", f"{book.site.name} is closed on {book.day:%A %-d %B %Y}.", field="date"
        )
    if start is None:
        slot = book.first_free(arrival_not_before=timezone.now())
        if slot is None:
            raise SchedulingError(
                "no_free_slot",
                f"No free time is left on {book.day:%A %-d %B %Y} for this case; "
                "try another date.",
                field="date",
            )
        return slot
    slot, reason = book.fit(start)
    if slot is not None:
        return slot
    zone = book.site.zone
    at = local_hm(start, zone)
    if reason == "outside_opening_hours":
        times = book.times_at(start)
        raise SchedulingError(
            reason,
            f"A case starting at {at} runs from arrival at {local_hm(times.arrival_at, zone)} to "
            f"{local_hm(times.ends_at, zone)}, outside opening hours "
            f"({local_hm(book.opens, zone)}-{local_hm(book.closes, zone)}).",
            field="start",
        )
    if reason == "surgeon_unavailable":
        surgeon = book.requested_surgeon
        detail = (
            f"{surgeon.name} is not working or not free at {at}."
            if surgeon
            else f"No surgeon is working and free at {at}."
        )
        raise SchedulingError(reason, detail, field="start")
    raise _slot_taken(at)


def _with_details(case: Case, **related: list) -> Case:
    """The case with the rows just written (its stages, held drugs; no history yet for a new
    case), as if prefetched: the caller can show the booking without reading it back."""
    case._prefetched_objects_cache = {}
    for name, rows in related.items():
        # The same shape Django's prefetch_related leaves: the related queryset, already filled.
        queryset = getattr(case, name).all()
        queryset._result_cache = list(rows)
        queryset._prefetch_done = True
        case._prefetched_objects_cache[name] = queryset
    return case


def _write_stages(case: Case, slot: Slot) -> list[Stage]:
    # Through audit.created: bulk_create sends no save signals for the audit log to hear.
    return audit.created(Stage.objects.bulk_create(
        Stage(
            case=case,
            position=position,
            kind=stage.kind,
            resource=resource,
            surgeon=slot.surgeon if stage.needs_surgeon else None,
            planned_start=stage.start,
            planned_end=stage.end,
            held_until=stage.held_until,
        )
        for position, (stage, resource) in enumerate(
            zip(slot.times.stages, slot.resources, strict=True)
        )
    ))


def _times_fields(slot: Slot) -> dict[str, datetime]:
    return {
        "arrival_at": slot.times.arrival_at,
        "procedure_start": slot.times.procedure_start,
        "fasting_solids_until": slot.times.fasting_solids_until,
        "fasting_clear_liquids_until": slot.times.fasting_clear_liquids_until,
    }


def check_levels(procedure_type: ProcedureType, levels: int) -> None:
    if not 1 <= levels <= procedure_type.max_levels:
        raise SchedulingError(
            "levels_out_of_range",
            f"{procedure_type.name} treats 1 to {procedure_type.max_levels} levels.",
            field="levels",
        )


def check_day(site: Site, day: date) -> None:
    today = timezone.now().astimezone(site.zone).date()
    if day < today:
        raise SchedulingError(
            "date_in_past", f"{horizon.day_text(day)} has passed at {site.name}.", field="date"
        )
    horizon.day_bookable_check(day=day, today=today)


def _check_start(site: Site, day: date, start: datetime) -> None:
    if start.tzinfo is None:
        raise SchedulingError(
            "start_needs_offset", "Give the start with its UTC offset.", field="start"
        )
    if timing.local_day(start, site.zone) != day:
        raise SchedulingError(
            "start_not_on_date",
            f"The start {start.isoformat()} is not on {day.isoformat()} at {site.name}.",
            field="start",
        )
    if not timing.is_on_grid(start, site.zone):
        raise SchedulingError(
            "off_grid",
            f"Start at a multiple of {timing.GRID_MINUTES} minutes (e.g. 09:00, 09:05).",
            field="start",
        )
    if start <= timezone.now():
        raise SchedulingError("start_in_past", "That start time has already passed.", field="start")


def _check_changeable(case: Case) -> None:
    if case.status not in NOT_ARRIVED_STATUSES:
        raise _not_changeable(case)


def _not_changeable(case: Case) -> SchedulingError:
    return SchedulingError(
        "case_not_changeable",
        f"The case is {case.get_status_display().lower()} and can no longer be changed.",
    )


def screening_override(
    *,
    site: Site,
    screening: ScreeningAnswers,
    override_reason: str | None,
    user: AbstractBaseUser,
    request_review: bool = False,
) -> dict:
    """The override fields a case booked or corrected with these answers carries: none when
    nothing blocks it; `needs_review` when the front desk asks for a clinician's review; a
    clinician's reason, who and when; else the refusal (`contraindicated`)."""
    if override_reason is not None:
        if not roles.user_has_role(user, roles.OVERRIDE_SCREENING):
            raise SchedulingError(
                "override_not_allowed",
                "Only a clinician may override screening.",
                field="override_reason",
            )
        if not override_reason.strip():
            raise SchedulingError(
                "override_reason_required",
                "Write why the case goes ahead despite the screening answers.",
                field="override_reason",
            )
    blockers = screening_blockers(
        screening, min_conservative_weeks=site.conservative_treatment_min_weeks
    )
    if not blockers:
        return {}
    if override_reason is None and request_review:
        return {"status": CaseStatus.NEEDS_REVIEW}
    if override_reason is None:
        raise SchedulingError(
            "contraindicated",
            "Screening blocks this booking: "
            + " ".join(blocker.reason for blocker in blockers)
            + " A clinician may override with a reason, or book it for a clinician's review.",
            errors={f"screening.{b.field}": [b.reason] for b in blockers},
        )
    return {
        "screening_override_reason": override_reason.strip(),
        "screening_overridden_by": user,
        "screening_overridden_at": timezone.now(),
    }


def booking_attempts(*, day: date, write: Callable[[], T]) -> T:
    """Run `write` in one transaction, again from the start while another booking takes its
    room or bay first: the exclusion constraints refuse the overlap (a deadlock between two
    bookings ends one of them), and the next try looks for a free time anew. After ATTEMPTS
    tries the time is taken. The audit rows of what `write` creates go in one insert.

    A case_book or case_reschedule inside `write` runs straight in this transaction; inside a
    caller's own transaction, each try is a savepoint of it."""
    if _attempting.get():
        return write()
    token = _attempting.set(True)
    try:
        for _ in range(ATTEMPTS):
            try:
                with transaction.atomic(), audit.one_insert():
                    return write()
            except IntegrityError as exc:
                _raise_unless_overlap(exc, day)
                # The slot search passes over a hold that has run out; the constraint does not
                # until it is let go.
                slot_holds_expire(day=day)
            except OperationalError as exc:
                _raise_unless_deadlock(exc)
    finally:
        _attempting.reset(token)
    raise _slot_taken()


def _raise_unless_overlap(exc: IntegrityError, day: date) -> None:
    """Re-raise an IntegrityError as the user's error, or return to let an overlap retry.

    The same patient twice on one day is caught by the unique constraint on (patient, day)
    rather than by a read first, which could race with a second clerk."""
    if getattr(exc.__cause__, "sqlstate", None) == EXCLUSION_VIOLATION:
        return
    message = str(exc)
    if "one_active_case_per_patient_day" in message or "scheduling_case.patient_id" in message:
        raise SchedulingError(
            "patient_already_booked",
            f"The patient already has an active case on {day:%-d %B %Y}.",
            field="date",
        ) from exc
    raise exc


def _raise_unless_deadlock(exc: OperationalError) -> None:
    """Return to let a deadlock retry. Two clerks' stage writes can each wait in the exclusion
    check for a stage the other has just written; PostgreSQL then fails one of them, whose
    attempt rolls back and searches again."""
    if getattr(exc.__cause__, "sqlstate", None) != DEADLOCK_DETECTED:
        raise exc


def _slot_taken(at: str | None = None) -> SchedulingError:
    when = f"at {at} " if at else ""
    return SchedulingError(
        "slot_taken",
        f"The time {when}was just taken: a room, bay or surgeon is no longer free. "
        "Choose another slot.",
        field="start",
    )
