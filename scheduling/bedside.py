"""The nurses' rules for the day of a case, as plain functions over plain data: which pre-op
checklist items a case is asked, which are still missing, what vitals are possible and which are
worth a look, the modified Aldrete score, and what still stands between a patient and going home.

The services (services/bedside.py, services/tracking.py) load the rows and apply these; the board
applies the same functions to the rows it has already loaded, so both always agree.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

# The checklist a new site starts with (admins change it per site and procedure type). Two items
# are filled in by the system rather than ticked.
PREOP_VITALS = "preop_vitals"
INR = "inr"
AUTOMATIC_ITEMS = (PREOP_VITALS, INR)
STANDARD_CHECKLIST = (
    ("consent_signed", "Consent signed"),
    ("imaging_verified", "Imaging verified"),
    ("fasting_confirmed", "Fasting confirmed"),
    ("medications_held_confirmed", "Held medicines confirmed stopped"),
    ("iv_placed", "IV placed"),
    ("driver_confirmed", "Driver confirmed"),
    (PREOP_VITALS, "Pre-op vitals recorded"),
    (INR, "INR at or under the limit (warfarin held)"),
)


@dataclass(frozen=True)
class Item:
    code: str
    label: str


def checklist_items(rows: Iterable, *, procedure_type_id: int, inr_needed: bool) -> list[Item]:
    """The items a case is asked, in order, from its site's ChecklistItem rows: a procedure
    type's own item replaces the site-wide one of the same code; switched-off items and, unless a
    held drug needs it, the INR are left out."""
    chosen = {}
    for row in sorted(rows, key=lambda row: (row.procedure_type_id is not None, row.position)):
        if row.procedure_type_id in (None, procedure_type_id):
            chosen[row.code] = row
    return [
        Item(row.code, row.label)
        for row in sorted(chosen.values(), key=lambda row: (row.position, row.id or 0))
        if row.active and (row.code != INR or inr_needed)
    ]


INR_RANGE = (Decimal("0.5"), Decimal("9.9"))


def inr_from(text: str) -> Decimal | None:
    """An INR written as a number ("1.2"), to one decimal; None if it is not a possible INR."""
    try:
        inr = Decimal(text).quantize(Decimal("0.1"))
    except InvalidOperation:
        return None
    low, high = INR_RANGE
    return inr if low <= inr <= high else None


@dataclass(frozen=True)
class Checklist:
    items: list[Item]
    done: dict[str, bool]

    @property
    def missing(self) -> list[str]:
        return [item.code for item in self.items if not self.done.get(item.code)]

    @property
    def complete(self) -> bool:
        return not self.missing

    def label(self, code: str) -> str:
        return next((item.label for item in self.items if item.code == code), code)


def checklist_of(
    items: list[Item],
    *,
    ticks: Mapping[str, bool],
    preop_vitals: bool,
    inr: Decimal | None,
    inr_limit: Decimal,
) -> Checklist:
    done = {item.code: bool(ticks.get(item.code)) for item in items}
    done[PREOP_VITALS] = preop_vitals
    done[INR] = inr is not None and inr <= inr_limit
    return Checklist(items, {item.code: done[item.code] for item in items})


# Vitals. Outside these a value is a typing slip, not a patient (refused, the field named).
PHYSIOLOGICAL = {
    "systolic": (40, 300),
    "diastolic": (20, 200),
    "heart_rate": (20, 250),
    "spo2": (50, 100),
    "resp_rate": (4, 60),
}
VITALS_UNITS = {
    "systolic": "mmHg", "diastolic": "mmHg", "heart_rate": "/min", "spo2": "%", "resp_rate": "/min"
}


def vitals_impossible(values: Mapping[str, int]) -> dict[str, str]:
    """Why each impossible value is refused, by field."""
    errors = {}
    for name, (low, high) in PHYSIOLOGICAL.items():
        value = values[name]
        if not low <= value <= high:
            errors[name] = (
                f"{value} {VITALS_UNITS[name]} is not possible; give a value from {low} to {high}."
            )
    both_possible = "systolic" not in errors and "diastolic" not in errors
    if both_possible and values["diastolic"] >= values["systolic"]:
        errors["diastolic"] = "The diastolic pressure must be below the systolic."
    return errors


# Each alert: its name, the measure, the site's limit field, and whether it fires below it.
VITALS_ALERTS = (
    ("systolic_low", "systolic", "systolic_alert_low", True),
    ("systolic_high", "systolic", "systolic_alert_high", False),
    ("diastolic_high", "diastolic", "diastolic_alert_high", False),
    ("heart_rate_low", "heart_rate", "heart_rate_alert_low", True),
    ("heart_rate_high", "heart_rate", "heart_rate_alert_high", False),
    ("spo2_low", "spo2", "spo2_alert_low", True),
    ("resp_rate_low", "resp_rate", "resp_rate_alert_low", True),
    ("resp_rate_high", "resp_rate", "resp_rate_alert_high", False),
)
ALERT_WORDS = {
    "systolic_low": "BP low", "systolic_high": "BP high", "diastolic_high": "BP high",
    "heart_rate_low": "HR low", "heart_rate_high": "HR high", "spo2_low": "SpO2 low",
    "resp_rate_low": "RR low", "resp_rate_high": "RR high",
}


def vitals_alerts(vitals, site) -> list[str]:
    """The abnormal-but-possible readings of a set of vitals, by the site's limits."""
    alerts = []
    for name, measure, limit_field, below in VITALS_ALERTS:
        value, limit = getattr(vitals, measure), getattr(site, limit_field)
        if (value < limit) if below else (value > limit):
            alerts.append(name)
    return alerts


# The modified Aldrete score (Aldrete 1995): five items of 0-2.
ALDRETE_ITEMS = ("activity", "respiration", "circulation", "consciousness", "oxygen_saturation")


def discharge_unmet(
    *,
    recovery_start: datetime | None,
    recovery_end: datetime | None = None,
    now: datetime,
    minimum_minutes: int,
    latest_score: int | None,
    score_minimum: int,
    recovery_vitals: bool,
    driver_name: str,
    driver_present: bool,
) -> dict[str, str]:
    """What still stands between the patient and going home, by criterion, in a nurse's words."""
    unmet = {}
    # A recovery already finished lasted until it ended, however long ago that was.
    lasted = (recovery_end or now) - recovery_start if recovery_start else timedelta(0)
    if lasted < timedelta(minutes=minimum_minutes):
        unmet["recovery_minimum"] = (
            f"Recovery has lasted {int(lasted.total_seconds() // 60)} min; "
            f"the minimum is {minimum_minutes} min."
        )
    if latest_score is None:
        unmet["discharge_score"] = "No discharge assessment (Aldrete score) is recorded."
    elif latest_score < score_minimum:
        unmet["discharge_score"] = (
            f"The latest Aldrete score is {latest_score}; at least {score_minimum} is needed."
        )
    if not recovery_vitals:
        unmet["recovery_vitals"] = "No recovery vitals are recorded."
    if not driver_name.strip():
        unmet["driver_named"] = "No adult driver is named for this case."
    elif not driver_present:
        unmet["driver_present"] = "The driver is not marked present."
    return unmet
