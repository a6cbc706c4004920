"""The case page and its actions (reschedule, cancel, no-show, driver). Patient search and the
printable day list are in search.py and day_list.py.

The pages read through the selectors and change a case only through the services. Every case
URL answers 404 for a case of a site the user does not work at, as the API does. Times are shown
in the case's site's time zone.
"""

from collections.abc import Callable
from datetime import date, datetime
from functools import partial

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .. import roles, selectors, services
from ..errors import SchedulingError
from ..locks import STALE_MESSAGE
from ..models import (
    CANCELLABLE_STATUSES,
    CLOSED_STATUSES,
    NOT_ARRIVED_STATUSES,
    Case,
    CaseAction,
    EventSource,
    StageKind,
)
from ..plan.backfill import backfill_suggestions
from ..screening import ScreeningAnswers, screening_blockers
from ..services.booking import check_day
from ..services.case_corrections import case_corrections_allowed
from ..services.drivers import case_driver_set
from ..slots import DayBook
from ..timing import date_text, local_hm, spelled
from .access import role_required
from .case_forms import (
    CancelForm,
    DriverForm,
    NoShowForm,
    RescheduleDateForm,
    RescheduleForm,
)
from .forms import SCREENING_QUESTIONS
from .free_times import SLOT_LOST, SLOT_LOST_MESSAGE, FreeTime
from .patient_forms import CorrectionForm

SCREENING_LABELS = {
    "active_infection": "Active infection",
    "fracture_painful": "Fracture painful",
    "bleeding_disorder": "Uncontrolled bleeding disorder",
    "tumor_in_canal": "Tumour in the spinal canal",
    "cement_allergy": "Allergy to bone cement",
    "traumatic": "Traumatic fracture",
    "conservative_treatment_weeks": "Weeks of conservative treatment",
    "imaging_on_file": "Pre-op imaging on file",
}


# The case page


@role_required(*roles.READ_CASES)
def case_detail(request, pk: int):
    return _case_page(request, _case_or_404(pk, request.user))


def _case_page(request, case: Case, *, cancel_form=None, driver_form=None, correction_form=None):
    zone = case.site.zone
    today = timezone.now().astimezone(zone).date()
    answers = {name: getattr(case, name) for name in SCREENING_LABELS}
    locale = case.site.locale  # "Tumour" is "Tumor" in en-US, as on the booking form
    blocking = {
        blocker.field: spelled(blocker.reason, locale=locale)
        for blocker in screening_blockers(
            ScreeningAnswers(**answers),
            min_conservative_weeks=case.site.conservative_treatment_min_weeks,
        )
    }
    stages = list(case.stages.all())
    context = {
        "case": case,
        "site": case.site,
        "patient": case.patient,
        "stages": stages,
        "ready_to_leave": stages[-1].planned_end if stages else None,
        "screening": [
            (spelled(label, locale=locale), answers[name], blocking.get(name))
            for name, label in SCREENING_LABELS.items()
        ],
        "holds": [(hold, hold.hold_starts_on <= today) for hold in case.held_medications.all()],
        "reminders": list(case.reminders.select_related("drug").order_by("due_at", "id")),
        "history": _history(case),
        "can_change": roles.user_has_role(request.user, roles.BOOK_CASES),
        "can_reschedule": case.status in NOT_ARRIVED_STATUSES,
        "can_cancel": case.status in CANCELLABLE_STATUSES,
        # Before the procedure day a no-show cannot be right: the button appears on the day.
        "can_no_show": case.status in NOT_ARRIVED_STATUSES and case.day <= today,
        "can_set_driver": case.status not in CLOSED_STATUSES,
        "cancel_form": cancel_form or CancelForm(case=case),
        "no_show_form": NoShowForm(case=case),
        "driver_form": driver_form or DriverForm(case=case),
        # Screening and medicines are put right until check-in (pages/patients.py).
        "can_correct": case_corrections_allowed(case),
        "screening_fields": SCREENING_QUESTIONS,
        "correction_form": correction_form or CorrectionForm(case=case, user=request.user),
        "backfill": backfill_suggestions(case),
    }
    with timezone.override(zone):
        return render(request, "pages/case_detail.html", context)


# "Cancelled by the patient on their page: I feel better".
BY_PATIENT = {
    EventSource.PATIENT_LINK: "by the patient on their page",
    EventSource.PATIENT_SMS: "by the patient by text",
}

EXCEPTION_WORDS = {
    "preop_incomplete": "started with the pre-op checklist incomplete",
    "stage_too_early": "finished before its minimum",
    "discharge_criteria_not_met": "discharged before the criteria were met",
}


def _history(case: Case) -> list[tuple[str, datetime, str, str]]:
    """What happened to the case (label, when, who, a note), in time order: the booking as the
    case row records it, then each step of its day, the nurses' records, and every exception
    with its reason."""
    events = [("Booked", case.created_at, _name(case.booked_by), "")]
    if case.screening_overridden_at:
        events.append(
            ("Screening overridden", case.screening_overridden_at,
             _name(case.screening_overridden_by), case.screening_override_reason)
        )
    steps = list(case.events.all())
    # Confirms, cancels and moves recorded as steps say who did them; the case row's own
    # times stand in only for those made before they were recorded so.
    recorded = {event.action for event in steps}
    if case.confirmed_at and CaseAction.CONFIRM not in recorded:
        events.append(("Confirmed by the patient", case.confirmed_at, "", ""))
    if case.cancelled_at and CaseAction.CANCEL not in recorded:
        events.append(("Cancelled", case.cancelled_at, _name(case.cancelled_by), ""))
    for event in steps:
        label = event.get_action_display()
        if event.source:
            events.append((
                f"{label} {BY_PATIENT[event.source]}", event.at, "", event.reason,
            ))
            continue
        if event.stage_kind and event.action != CaseAction.DISCHARGE:
            label = f"{StageKind(event.stage_kind).label}: {label.lower().split()[-1]}"
        # A correction says what it changed.
        note = event.reason if event.action == CaseAction.CORRECT else ""
        if event.exception:
            label += f", {EXCEPTION_WORDS.get(event.exception, event.exception)}"
            note = f"Reason: {event.reason}"
        if event.undone_at:
            undone = local_hm(event.undone_at, case.site.zone, locale=case.site.locale)
            note = f"{note} (undone at {undone})".strip()
        events.append((label, event.at, _name(event.by), note))
    for vitals in case.vitals.select_related("by"):
        events.append((
            f"{vitals.get_phase_display()} vitals", vitals.taken_at, _name(vitals.by),
            f"BP {vitals.systolic}/{vitals.diastolic}, HR {vitals.heart_rate}, "
            f"SpO2 {vitals.spo2}%, RR {vitals.resp_rate}",
        ))
    for score in case.assessments.select_related("by"):
        events.append(("Aldrete score", score.at, _name(score.by), f"{score.total}/10"))
    events.sort(key=lambda event: event[1])
    events.append(("Last changed", case.updated_at, "", ""))
    return events


def _name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


# Actions: each sends the version the page was drawn from to one service, which refuses the change
# (case_changed) under the case's lock when the case moved on; is_stale() only answers earlier.


def _change(request, case, form, change: Callable[..., object], *, done: str):
    """Make one change through its service, which refuses it (case_changed) when the case moved
    on since the page was drawn: that answer is the page drawn anew; any other refusal goes back
    to the case page as a message, and a change made says `done` there."""
    try:
        change(expected_version=form.shown_version)
    except SchedulingError as error:
        if error.code == "case_changed":
            return _stale(request, case)
        messages.error(request, error.detail)
        return redirect("case-detail", pk=case.pk)
    messages.success(request, done)
    return redirect("case-detail", pk=case.pk)


@role_required(*roles.BOOK_CASES)
@require_POST
def case_cancel(request, pk: int):
    case = _case_or_404(pk, request.user)
    form = CancelForm(request.POST, case=case)
    if form.is_stale():
        return _stale(request, case)
    if not form.is_valid():
        return _case_page(request, case, cancel_form=form)
    return _change(
        request, case, form,
        partial(services.case_cancel, case=case, reason=form.cleaned_data["reason"],
                by=request.user),
        done="The case is cancelled. Its rooms and bays are free again.",
    )


@role_required(*roles.BOOK_CASES)
@require_POST
def case_no_show(request, pk: int):
    case = _case_or_404(pk, request.user)
    form = NoShowForm(request.POST, case=case)
    if form.is_stale():
        return _stale(request, case)
    return _change(
        request, case, form,
        partial(services.case_mark_no_show, case=case, by=request.user),
        done="Recorded as a no-show. The patient's remaining messages are off.",
    )


@role_required(*roles.BOOK_CASES)
@require_POST
def case_driver(request, pk: int):
    case = _case_or_404(pk, request.user)
    form = DriverForm(request.POST, case=case)
    if form.is_stale():
        return _stale(request, case)
    if not form.is_valid():
        return _case_page(request, case, driver_form=form)
    name = form.cleaned_data["driver_name"]
    return _change(
        request, case, form,
        partial(case_driver_set, case=case, name=name,
                phone=form.cleaned_data["driver_phone"], by=request.user),
        done=f"The driver is now {name}.",
    )


@role_required(*roles.BOOK_CASES)
def case_reschedule(request, pk: int):
    case = _case_or_404(pk, request.user)
    if case.status not in NOT_ARRIVED_STATUSES:
        messages.error(
            request,
            f"The case is {case.get_status_display().lower()} and can no longer be rescheduled.",
        )
        return redirect("case-detail", pk=case.pk)
    today = timezone.now().astimezone(case.site.zone).date()

    if request.method != "POST":
        query = request.GET if "date" in request.GET else None
        date_form = RescheduleDateForm(query, initial={"date": max(case.day, today)})
        return _reschedule_page(request, case, date_form, RescheduleForm(case=case))

    form = RescheduleForm(request.POST, case=case)
    if form.is_stale():
        return _stale(request, case)
    date_form = RescheduleDateForm({"date": request.POST.get("date", "")})
    if form.is_valid():
        try:
            moved = services.case_reschedule(
                case=case,
                start=form.cleaned_data["start"],
                by=request.user,
                expected_version=form.shown_version,
            )
        except SchedulingError as error:
            if error.code == "case_changed":
                return _stale(request, case)
            if error.code == "case_not_changeable":
                messages.error(request, error.detail)
                return redirect("case-detail", pk=case.pk)
            form.add_error(None, SLOT_LOST_MESSAGE if error.code in SLOT_LOST else error.detail)
            # The free times of the date of the start chosen are the ones to show again.
            day = form.cleaned_data["start"].astimezone(case.site.zone).date()
            date_form = RescheduleDateForm({"date": day.isoformat()})
        else:
            zone, locale = case.site.zone, case.site.locale
            messages.success(
                request,
                f"Rescheduled to {date_text(moved.day, locale=locale)}: arrival "
                f"{local_hm(moved.arrival_at, zone, locale=locale)}, procedure "
                f"{local_hm(moved.procedure_start, zone, locale=locale)}. Messages are re-planned.",
            )
            return redirect("case-detail", pk=case.pk)
    return _reschedule_page(request, case, date_form, form)


def _reschedule_page(request, case: Case, date_form: RescheduleDateForm, form: RescheduleForm):
    day = None
    closed = False
    times: list[FreeTime] = []
    if date_form.is_bound and date_form.is_valid():
        day = date_form.cleaned_data["date"]
    elif not date_form.is_bound:
        day = date_form.initial["date"]
    if day is not None:
        try:
            check_day(case.site, day)
        except SchedulingError as error:
            date_form.add_error("date", error.detail)
            day = None
    if day is not None:
        times, closed = _free_times(case, day)
    context = {
        "case": case,
        "site": case.site,
        "date_form": date_form,
        "form": form,
        "day": day,
        "closed": closed,
        "times": times,
    }
    with timezone.override(case.site.zone):
        return render(request, "pages/case_reschedule.html", context)


def _free_times(case: Case, day: date) -> tuple[list[FreeTime], bool]:
    """The starts free for this case on `day`, with its own current booking set aside (the
    service does the same, so a move by a few minutes that overlaps itself is offered)."""
    zone = case.site.zone
    book = DayBook.for_move(case=case, day=day)
    if book.opens is None:
        return [], True
    return [
        FreeTime.of(slot, zone, locale=case.site.locale)
        for slot in book.free_slots(arrival_not_before=timezone.now())
    ], False


def _case_or_404(pk: int, user) -> Case:
    case = selectors.case_get(pk, user)
    if case is None:
        raise Http404("No such case.")
    return case


def _stale(request, case: Case):
    messages.error(request, STALE_MESSAGE)
    return redirect("case-detail", pk=case.pk)
