"""Propose a plan for a day and apply it through the booking services.

A proposal travels as a signed token (site, day, the fingerprint of the day it was made from and
each change: the case, its start, its rooms and bays and its surgeon), so the page and the API
keep no state between proposing and applying, and a proposal cannot be altered on its way back.
Applying checks the fingerprint inside the writing transaction: if anything changed on the day
since, nothing is written. It books exactly the rooms, bays and surgeons proposed.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.db import transaction

from audit import records as audit

from ..errors import SchedulingError
from ..models import Case, Site, Stage, WaitingListEntry, WaitingStatus
from ..services.booking import case_book, case_reschedule, check_day
from ..slots import Pinned
from . import solver
from .day import Placement, Plan, end_of_day
from .loader import LoadedDay, fingerprint, instant, load_day
from .waiting import entry_screening
from .whatif import WHAT_IFS, WhatIf, what_if_run

SALT = "vertebro.plan"
MAX_AGE_SECONDS = 3600


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    kind: str  # booked, new (from the waiting list)
    fixed: bool
    current_start: datetime | None
    current_room: str
    proposed_start: datetime | None
    proposed_room: str
    moved: bool
    reason: str


@dataclass
class Proposal:
    site: Site
    day: date
    loaded: LoadedDay
    plan: Plan
    rows: list[Row]
    token: str
    what_if: WhatIf | None = None

    @property
    def current_end(self) -> int | None:
        """When the day ends as booked now, without the proposal."""
        booked = {
            r.key: Placement(r.current_start, r.current_units or (), r.current_surgeon)
            for r in self.loaded.day.requests if r.current_start is not None
        }
        return end_of_day(self.loaded.day, booked)

    @property
    def changes(self) -> int:
        return sum(
            1 for row in self.rows if row.moved or (row.kind == "new" and row.proposed_start)
        )


def plan_propose(
    *,
    site: Site,
    day: date,
    waiting_list: bool = False,
    allow_move_told: bool = False,
    time_limit: float = solver.TIME_LIMIT_SECONDS,
    what_if: str | None = None,
    progress: solver.Progress | None = None,
) -> Proposal:
    """`progress` is told, in the manager's words, what the planner is doing."""
    check_day(site, day)
    loaded = load_day(site=site, day=day, waiting_list=waiting_list,
                      allow_move_told=allow_move_told)
    plan = solver.plan_day(loaded.day, time_limit=time_limit, progress=progress)
    plan.unplaced.update(loaded.skipped)
    rows = _rows(loaded, plan)
    items = [
        _item(row.key, plan.placements[row.key])
        for row in rows if row.proposed_start and (row.moved or row.kind == "new")
    ]
    token = signing.dumps(
        {"site": site.code, "day": day.isoformat(), "fp": loaded.fingerprint, "items": items},
        salt=SALT,
    )
    proposal = Proposal(site, day, loaded, plan, rows, token)
    if what_if:
        if progress is not None:
            progress(f"Planning the what-if: {WHAT_IFS[what_if].lower()}.")
        proposal.what_if = what_if_run(loaded.day, plan, what_if, time_limit=time_limit)
    return proposal


def _item(key: str, placement: Placement) -> list:
    """One change as the token carries it: the rooms, bays and surgeon are the solver's, so
    applying books exactly what was proposed."""
    return [key, placement.start, [int(unit) for unit in placement.units],
            int(placement.surgeon) if placement.surgeon else None]


def _pinned(item: list) -> Pinned:
    _, _, units, surgeon = item
    return Pinned(tuple(units), surgeon)


def _rows(loaded: LoadedDay, plan: Plan) -> list[Row]:
    names = {unit.key: unit.name for unit in loaded.day.units}
    rooms = {}
    for request in loaded.day.requests:
        holds = loaded.day.shape(request).holds
        rooms[request.key] = next(
            (i for i, hold in enumerate(holds) if hold.kind == "procedure_room"), 0
        )
    rows = []
    for request in loaded.day.requests:
        placement = plan.placements.get(request.key)
        room = rooms[request.key]
        rows.append(Row(
            key=request.key,
            label=request.label,
            kind="booked" if request.current_start is not None else "new",
            fixed=request.fixed,
            current_start=instant(request.current_start) if request.current_start else None,
            current_room=names.get((request.current_units or ("",))[room], "")
            if request.current_units else "",
            proposed_start=instant(placement.start) if placement else None,
            proposed_room=names.get(placement.units[room], "") if placement else "",
            moved=bool(placement and placement.moved),
            reason=plan.unplaced.get(request.key, ""),
        ))
    for key, reason in loaded.skipped.items():
        label = f"{loaded.entries[key].patient.last_name} (waiting list)"
        rows.append(Row(key, label, "new", False, None, "", None, "", False, reason))
    return sorted(rows, key=lambda r: (
        (r.proposed_start or r.current_start) is None,
        r.proposed_start or r.current_start or instant(0),
        r.key,
    ))


def plan_apply(*, site: Site, day: date, token: str, by: AbstractBaseUser) -> list[Case]:
    """Book and move as proposed, in one transaction; the cases changed, in start order."""
    check_day(site, day)
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.SignatureExpired as error:
        raise SchedulingError(
            "plan_stale", "The proposal is over an hour old; propose again."
        ) from error
    except signing.BadSignature as error:
        raise SchedulingError(
            "invalid", "The proposal is not one this system made.", field="token"
        ) from error
    if data["site"] != site.code or data["day"] != day.isoformat():
        raise SchedulingError("invalid", "The proposal is for another site or day.", field="token")
    with transaction.atomic():
        list(Case.objects.select_for_update().filter(site=site, day=day).values_list("pk"))
        if fingerprint(site, day) != data["fp"]:
            raise SchedulingError(
                "plan_stale",
                "The day changed since this plan was proposed (a booking, a move, a "
                "cancellation or a check-in). Nothing was changed; propose the plan again.",
            )
        items = sorted(data["items"], key=lambda item: (item[1], item[0]))
        case_ids = [int(item[0].split(":")[1]) for item in items if item[0].startswith("case:")]
        entry_ids = [int(item[0].split(":")[1]) for item in items
                     if item[0].startswith("entry:")]
        cases = Case.objects.select_related("site", "procedure_type", "surgeon").in_bulk(case_ids)
        entries = WaitingListEntry.objects.select_related(
            "patient", "procedure_type", "surgeon").in_bulk(entry_ids)
        # The moving cases give their rooms and bays back first, so that two of them can swap.
        audit.update(Stage.objects.filter(case_id__in=case_ids), active=False)
        changed = []
        for item in items:
            key, start = item[0], instant(item[1])
            kind, pk = key.split(":")
            try:
                if kind == "case":
                    changed.append(case_reschedule(
                        case=cases[int(pk)], start=start, by=by, pinned=_pinned(item)))
                else:
                    changed.append(
                        _book_entry(entries[int(pk)], site, day, start, by, _pinned(item)))
            except SchedulingError as error:
                raise SchedulingError(
                    "plan_not_applicable",
                    f"The proposed time for {key} could not be booked ({error.detail}) "
                    "Nothing was changed; propose the plan again.",
                ) from error
    return changed


def _book_entry(
    entry: WaitingListEntry, site: Site, day: date, start, by, pinned: Pinned
) -> Case:
    case = case_book(
        site=site, procedure_type=entry.procedure_type, levels=entry.levels, day=day,
        patient=entry.patient, screening=entry_screening(entry), booked_by=by, start=start,
        surgeon=entry.surgeon, driver_name=entry.driver_name, driver_phone=entry.driver_phone,
        # A waiting patient nothing reaches is not left out of the plan: the case goes on the
        # front desk's call list (the unit calls them the day before) instead of failing it.
        unit_will_call=True, pinned=pinned,
    )
    entry.status = WaitingStatus.SCHEDULED
    entry.case = case
    entry.save(update_fields=["status", "case"])
    return case
