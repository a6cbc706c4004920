"""Put right a case's screening answers and medicines before the patient checks in.

The answers are checked again as at booking: a positive answer needs a clinician's override
with a reason, unless a clinician had already overridden the same answers (a correction that
adds a blocker needs a new one). Held medicines are added and removed with their first day
without worked out from the case's day, and the patient's unsent messages are planned again
(a new hold text, none for a drug taken off). The correction is a step on the case's history,
with who made it and what changed; the audit log has the rows.
"""

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from audit import records as audit
from notifications.services import reminders_patient_changed

from .. import timing
from ..errors import SchedulingError
from ..locks import case_locked
from ..models import NOT_ARRIVED_STATUSES, Case, CaseAction, CaseEvent, CaseMedication, Drug
from ..screening import ScreeningAnswers, screening_blockers
from .booking import screening_override

OVERRIDE_FIELDS = (
    "screening_override_reason", "screening_overridden_by", "screening_overridden_at"
)


def case_corrections_allowed(case: Case) -> bool:
    """Screening answers and medicines may be corrected until the patient checks in."""
    return case.status in NOT_ARRIVED_STATUSES


def case_screening_correct(
    *,
    case: Case,
    by: AbstractBaseUser,
    screening: ScreeningAnswers,
    medications: Sequence[Drug],
    takes_no_medicines: bool,
    other_medicines: str = "",
    override_reason: str | None = None,
    expected_version: str | None = None,
) -> list[str]:
    """Correct the case; returns what changed, in words (empty when nothing did)."""
    if takes_no_medicines and medications:
        raise SchedulingError(
            "medicines_conflict",
            "Either tick the medicines the patient takes or “takes none of these”, not both.",
            field="medications",
        )
    with transaction.atomic():
        locked = case_locked(case.pk, expected_version=expected_version)
        if not case_corrections_allowed(locked):
            raise SchedulingError(
                "case_not_changeable",
                f"The case is {locked.get_status_display().lower()}: screening answers and "
                "medicines can no longer be corrected here. Record them on the day's checklist.",
            )
        changes = _screening_changes(locked, screening)
        override = _override_kept_or_new(locked, screening, override_reason, by)
        if override["screening_overridden_at"] not in (None, locked.screening_overridden_at):
            changes.append("screening overridden")
        for name, value in {**vars(screening), **override}.items():
            setattr(locked, name, value)
        changes += _medicines_changed(locked, medications)
        other_medicines = other_medicines.strip()
        if takes_no_medicines != locked.takes_no_medicines:
            changes.append("takes none of the listed medicines" if takes_no_medicines
                           else "no longer “takes none”")
        if other_medicines != locked.other_medicines:
            changes.append(f"other medicines: “{other_medicines or 'none'}”")
        if not changes:
            return []
        locked.takes_no_medicines = takes_no_medicines
        locked.other_medicines = other_medicines
        locked.save(update_fields=[
            *vars(screening), *OVERRIDE_FIELDS, "takes_no_medicines", "other_medicines",
            "updated_at",
        ])
        CaseEvent.objects.create(
            case=locked, action=CaseAction.CORRECT, status_before=locked.status,
            at=timezone.now(), by=by, reason=_sentence(changes),
        )
        reminders_patient_changed(locked)
    return changes


def _screening_changes(case: Case, screening: ScreeningAnswers) -> list[str]:
    changes = []
    for name, value in vars(screening).items():
        before = getattr(case, name)
        if before != value:
            words = name.replace("_", " ")
            if isinstance(value, bool):
                changes.append(f"{words}: {'yes' if value else 'no'}")
            else:
                changes.append(f"{words}: {before} to {value}")
    return changes


def _override_kept_or_new(
    case: Case, screening: ScreeningAnswers, override_reason: str | None, by
) -> dict:
    """The override fields the corrected case carries: none without a blocker; the clinician's
    earlier override while the blockers are among those it was given for; else a new one,
    as at booking (which refuses a positive answer without a clinician's reason)."""
    minimum = case.site.conservative_treatment_min_weeks
    blockers = {b.field for b in screening_blockers(screening, min_conservative_weeks=minimum)}
    if not blockers:
        return dict.fromkeys(OVERRIDE_FIELDS) | {"screening_override_reason": ""}
    before = ScreeningAnswers(**{name: getattr(case, name) for name in vars(screening)})
    overridden = {
        b.field for b in screening_blockers(before, min_conservative_weeks=minimum)
    } if case.screening_override_reason else set()
    if override_reason is None and blockers <= overridden:
        return {name: getattr(case, name) for name in OVERRIDE_FIELDS}
    return screening_override(
        site=case.site, screening=screening, override_reason=override_reason, user=by
    )


def _medicines_changed(case: Case, medications: Sequence[Drug]) -> list[str]:
    held = {row.drug_id: row for row in case.held_medications.select_related("drug")}
    wanted = {drug.pk: drug for drug in medications}
    gone = [row for drug_id, row in held.items() if drug_id not in wanted]
    new = [drug for drug_id, drug in wanted.items() if drug_id not in held]
    for row in gone:
        row.delete()  # one by one: the audit log hears each delete
    audit.created(CaseMedication.objects.bulk_create(
        CaseMedication(
            case=case, drug=drug,
            hold_starts_on=timing.medication_hold_starts_on(case.day, drug.hold_days),
        )
        for drug in new
    ))
    # The case's prefetched drugs (if any) no longer say what it holds.
    getattr(case, "_prefetched_objects_cache", {}).pop("held_medications", None)
    return [f"{drug.name} held" for drug in new] + [f"{row.drug.name} not held" for row in gone]


def _sentence(changes: list[str]) -> str:
    said = "; ".join(changes)
    return said[:1].upper() + said[1:] + "."
