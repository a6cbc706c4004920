"""What the nurses have recorded for each case of the day, for the board's next steps: the pre-op
checklist as it stands, the latest vitals' alerts, and what still stands between a patient in
recovery and going home. Five queries for the whole day, whatever its size, and only for cases
in the unit; the rules themselves are scheduling/bedside.py's, as the services apply them.
"""

from dataclasses import dataclass, field
from datetime import datetime

from .. import bedside
from ..bedside import Checklist
from ..bedside_models import (
    ChecklistItem,
    ChecklistTick,
    DischargeAssessment,
    VitalSigns,
    VitalsPhase,
)
from ..models import CLOSED_STATUSES, NOT_ARRIVED_STATUSES, Site, StageKind, StageTemplate
from .projection import StageFacts
from .rows import BoardCase


@dataclass(slots=True)
class Bedside:
    checklist: Checklist
    vitals_phases: set[str] = field(default_factory=set)  # phases with vitals recorded
    alerts: list[str] = field(default_factory=list)  # of the latest vitals
    latest_score: int | None = None
    discharge_unmet: dict[str, str] = field(default_factory=dict)
    # Minutes each stage kind must last before it is finished without a reason.
    minimums: dict[str, int] = field(default_factory=dict)

    @property
    def alert_words(self) -> list[str]:
        return list(dict.fromkeys(bedside.ALERT_WORDS[alert] for alert in self.alerts))


def bedside_of_day(
    cases: list[BoardCase],
    *,
    site: Site,
    stages_of: dict[int, list[StageFacts]],
    now: datetime,
) -> dict[int, Bedside]:
    """Each case in the unit now (checked in, not discharged, cancelled or a no-show), by id:
    a patient still to come has only check-in as a step, and nothing recorded to read."""
    open_cases = [
        case for case in cases
        if case.status not in CLOSED_STATUSES and case.status not in NOT_ARRIVED_STATUSES
    ]
    if not open_cases:
        return {}
    ids = [case.id for case in open_cases]
    items = list(ChecklistItem.objects.filter(site=site))
    ticks: dict[int, dict[str, bool]] = {case_id: {} for case_id in ids}
    for case_id, code, done in ChecklistTick.objects.filter(case_id__in=ids).values_list(
        "case_id", "code", "done"
    ):
        ticks[case_id][code] = done
    vitals_of: dict[int, list[VitalSigns]] = {case_id: [] for case_id in ids}
    for vitals in VitalSigns.objects.filter(case_id__in=ids).order_by("taken_at", "id"):
        vitals_of[vitals.case_id].append(vitals)
    scores = dict(
        DischargeAssessment.objects.filter(case_id__in=ids)
        .order_by("case_id", "at", "id")
        .values_list("case_id", "total")
    )  # the latest of each case wins, being last
    minimums: dict[int, dict[str, int]] = {}
    for type_id, kind, minutes in StageTemplate.objects.filter(
        procedure_type_id__in={case.procedure_type_id for case in open_cases},
        minimum_minutes__isnull=False,
    ).values_list("procedure_type_id", "kind", "minimum_minutes"):
        minimums.setdefault(type_id, {})[kind] = minutes

    found = {}
    for case in open_cases:
        vitals = vitals_of[case.id]
        phases = {each.phase for each in vitals}
        checklist = bedside.checklist_of(
            bedside.checklist_items(
                items, procedure_type_id=case.procedure_type_id, inr_needed=case.inr_check
            ),
            ticks=ticks[case.id],
            preop_vitals=VitalsPhase.PRE_OP in phases,
            inr=case.inr,
            inr_limit=site.inr_limit,
        )
        recovery = next(
            (stage for stage in stages_of.get(case.id, []) if stage.kind == StageKind.RECOVERY),
            None,
        )
        found[case.id] = Bedside(
            checklist=checklist,
            vitals_phases=phases,
            alerts=bedside.vitals_alerts(vitals[-1], site) if vitals else [],
            latest_score=scores.get(case.id),
            discharge_unmet=bedside.discharge_unmet(
                recovery_start=recovery.actual_start if recovery else None,
                recovery_end=recovery.actual_end if recovery else None,
                now=now,
                minimum_minutes=site.recovery_minimum_minutes,
                latest_score=scores.get(case.id),
                score_minimum=site.discharge_score_minimum,
                recovery_vitals=VitalsPhase.RECOVERY in phases,
                driver_name=case.driver_name,
                driver_present=case.driver_present_at is not None,
            ),
            minimums=minimums.get(case.procedure_type_id, {}),
        )
    return found
