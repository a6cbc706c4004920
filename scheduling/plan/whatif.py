"""What-if: the same day planned on a changed unit, to see what a change to the unit would buy.

Pure: a DayInput is changed and planned again; nothing is written.
"""

from dataclasses import dataclass, replace

from . import solver
from .day import DayInput, Plan, Unit

WHAT_IFS = {
    "extra_recovery_bay": "One more recovery bay",
    "cement_in_holding_bay": "Cement set in a holding bay instead of the procedure room",
    "extra_room_afternoon": "An extra procedure room from noon (same surgeons)",
}


@dataclass
class WhatIf:
    name: str
    title: str
    plan: Plan
    more_cases: int
    end_of_day: int | None
    base_end_of_day: int | None
    note: str = ""


def what_if_day(day: DayInput, name: str) -> tuple[DayInput, str]:
    if name == "extra_recovery_bay":
        unit = Unit("what-if-bay", "recovery_bay", "Extra recovery bay")
        return replace(day, units=(*day.units, unit)), ""
    if name == "extra_room_afternoon":
        unit = Unit("what-if-room", "procedure_room", "Extra room (afternoon)",
                    available_from=day.noon if day.noon is not None else day.opens)
        return replace(day, units=(*day.units, unit)), ""
    if name == "cement_in_holding_bay":
        return _cement_in_holding_bay(day)
    raise ValueError(f"Unknown what-if {name!r}")


def _cement_in_holding_bay(day: DayInput) -> tuple[DayInput, str]:
    requests = []
    for request in day.requests:
        if request.fixed:
            requests.append(request)  # a patient already in the unit stays where they are
            continue
        rules = tuple(
            replace(rule, resource_kind="holding_bay") if rule.kind == "cement_set" else rule
            for rule in request.rules
        )
        # The stays change shape, so a booked case keeps only its time, not its rooms.
        requests.append(replace(request, rules=rules, current_units=None))
    units, note = day.units, ""
    if not any(unit.kind == "holding_bay" for unit in units):
        rooms = sum(1 for unit in units if unit.kind == "procedure_room")
        units = (*units, *(Unit(f"what-if-hold-{n}", "holding_bay", f"Holding bay {n}")
                           for n in range(1, rooms + 1)))
        note = f"The site has no holding bay; {rooms} assumed, one per procedure room."
    return replace(day, units=units, requests=tuple(requests)), note


def what_if_run(
    day: DayInput, base: Plan, name: str, *, time_limit: float = solver.TIME_LIMIT_SECONDS
) -> WhatIf:
    changed, note = what_if_day(day, name)
    plan = solver.plan_day(changed, time_limit=time_limit)
    return WhatIf(
        name=name, title=WHAT_IFS[name], plan=plan, more_cases=plan.placed - base.placed,
        end_of_day=plan.end_of_day, base_end_of_day=base.end_of_day, note=note,
    )
