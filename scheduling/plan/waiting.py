"""Waiting-list writes: add a patient to be scheduled, change the entry, take it off the list."""

from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ..errors import SchedulingError
from ..models import Patient, ProcedureType, Site, Surgeon, WaitingListEntry, WaitingStatus
from ..screening import ScreeningAnswers, screening_answers
from ..services.booking import check_levels
from ..services.patients import phone_e164

EDITABLE = (
    "procedure_type", "levels", "earliest_date", "latest_date", "priority", "surgeon",
    "screening", "driver_name", "driver_phone", "note",
)


def _check(entry: WaitingListEntry) -> None:
    check_levels(entry.procedure_type, entry.levels)
    if entry.latest_date < entry.earliest_date:
        raise SchedulingError(
            "waiting_window_invalid",
            "The latest date must be on or after the earliest date.",
            field="latest_date",
        )
    if entry.driver_phone:
        entry.driver_phone = phone_e164(entry.driver_phone, field="driver_phone")
    # Screening counts as done only with every answer the booking flow asks.
    entry.screening_done = screening_answers(entry.screening) is not None


def entry_screening(entry: WaitingListEntry) -> ScreeningAnswers | None:
    return screening_answers(entry.screening) if entry.screening_done else None


def waiting_entry_add(
    *,
    site: Site,
    patient: Patient,
    procedure_type: ProcedureType,
    levels: int,
    earliest_date: date,
    latest_date: date,
    created_by: AbstractBaseUser,
    priority: str = "routine",
    surgeon: Surgeon | None = None,
    screening: dict | None = None,
    driver_name: str = "",
    driver_phone: str = "",
    note: str = "",
) -> WaitingListEntry:
    entry = WaitingListEntry(
        site=site, patient=patient, procedure_type=procedure_type, levels=levels,
        earliest_date=earliest_date, latest_date=latest_date, priority=priority,
        surgeon=surgeon, screening=screening or {}, driver_name=driver_name,
        driver_phone=driver_phone, note=note, created_by=created_by,
    )
    _check(entry)
    with transaction.atomic():
        entry.save()
    return entry


def waiting_entry_update(*, entry: WaitingListEntry, changes: dict) -> WaitingListEntry:
    with transaction.atomic():
        locked = WaitingListEntry.objects.select_for_update().get(pk=entry.pk)
        _check_waiting(locked)
        for name, value in changes.items():
            if name not in EDITABLE:
                raise ValueError(f"{name} is not editable")
            setattr(locked, name, value)
        _check(locked)
        locked.save(update_fields=[*changes, "screening_done"])
    return locked


def waiting_entry_remove(*, entry: WaitingListEntry) -> WaitingListEntry:
    with transaction.atomic():
        locked = WaitingListEntry.objects.select_for_update().get(pk=entry.pk)
        _check_waiting(locked)
        locked.status = WaitingStatus.REMOVED
        locked.save(update_fields=["status"])
    return locked


def _check_waiting(entry: WaitingListEntry) -> None:
    if entry.status != WaitingStatus.WAITING:
        raise SchedulingError(
            "entry_not_waiting",
            f"The entry is {entry.get_status_display().lower()} and can no longer be changed.",
        )
