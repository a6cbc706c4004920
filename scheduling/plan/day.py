"""The day to plan, as plain data, and the greedy earliest-slot plan the front desk would get.

Pure: no ORM. Times are whole minutes since 1970 (UTC), so a start on a multiple of 5 is on the
site's 5-minute grid (every zone's offset is a whole number of 5 minutes). A case's shape comes
from scheduling/timing.py exactly as a booking's does: consecutive stages on the same kind of
room or bay are one stay (the patient stays in the procedure room while the cement sets) and a
stay keeps its room or bay through its turnover.

The greedy plan follows scheduling/slots.py DayBook step by step (earliest start on the grid,
first free unit of each kind in name order, first free surgeon in name order), so the plan
without the optimiser is the plan the booking pages would have made one case at a time.
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache

from .. import timing
from ..timing import SiteRules, StageRule

STEP = timing.GRID_MINUTES
ORIGIN = datetime(2000, 1, 3, tzinfo=UTC)
KIND_WORDS = {
    "procedure_room": "procedure room",
    "pre_op_bay": "pre-op bay",
    "recovery_bay": "recovery bay",
    "holding_bay": "holding bay",
}



@dataclass(frozen=True)
class Unit:
    """One room or bay. A unit added for a what-if may be there only part of the day."""

    key: str
    kind: str
    name: str
    available_from: int | None = None


@dataclass(frozen=True)
class Shift:
    key: str
    name: str
    starts: int
    ends: int


@dataclass(frozen=True)
class Hold:
    """One stay in a room or bay, in minutes from the procedure start (turnover included)."""

    kind: str
    begin: int
    until: int


@dataclass(frozen=True)
class Shape:
    lead: int  # arrival before the procedure start
    tail: int  # end of the last stage after the procedure start
    holds: tuple[Hold, ...]
    surgeon_spans: tuple[tuple[int, int], ...]


@lru_cache(maxsize=256)
def shape_of(rules: tuple[StageRule, ...], levels: int, site: SiteRules) -> Shape:
    times = timing.case_times(rules, levels, ORIGIN, site)

    def minutes(instant: datetime) -> int:
        return round((instant - ORIGIN).total_seconds() / 60)

    holds = []
    for hold in sorted({stage.hold for stage in times.stages}):
        stages = [stage for stage in times.stages if stage.hold == hold]
        holds.append(Hold(stages[0].resource_kind, minutes(stages[0].start),
                          minutes(stages[-1].held_until)))
    return Shape(
        lead=-minutes(times.arrival_at),
        tail=minutes(times.ends_at),
        holds=tuple(holds),
        surgeon_spans=tuple(
            (minutes(s.start), minutes(s.end)) for s in times.stages if s.needs_surgeon
        ),
    )


@dataclass(frozen=True)
class Request:
    """A case to place: a booked one (current_start set) or one from the waiting list.

    A fixed case (checked in, or told its arrival time when moves of those are not allowed)
    stays exactly where it is. `surgeons` names the surgeons who may operate (None: anyone)."""

    key: str
    rules: tuple[StageRule, ...]
    levels: int
    rank: int = 1
    label: str = ""
    surgeons: tuple[str, ...] | None = None
    current_start: int | None = None
    current_units: tuple[str, ...] | None = None
    current_surgeon: str | None = None
    fixed: bool = False


@dataclass(frozen=True)
class Busy:
    """Time a unit or a surgeon is taken by something this plan does not move."""

    unit: str | None
    surgeon: str | None
    start: int
    end: int


@dataclass(frozen=True)
class DayInput:
    opens: int | None  # None: the site is closed that day
    closes: int | None
    site: SiteRules
    units: tuple[Unit, ...]
    shifts: tuple[Shift, ...]
    requests: tuple[Request, ...]
    busy: tuple[Busy, ...] = ()
    noon: int | None = None  # where "the afternoon" starts, for the extra-room what-if
    # Nobody is asked to arrive before this (now, when the day is today).
    arrive_from: int | None = None
    note: str = ""
    # Kinds of room or bay with one closed that day (closure_models.py): the reason a case
    # needing one that is left none says so, rather than that the site has none.
    closed_kinds: frozenset[str] = frozenset()

    def shape(self, request: Request) -> Shape:
        return shape_of(request.rules, request.levels, self.site)


@dataclass(frozen=True)
class Placement:
    start: int
    units: tuple[str, ...]  # one per stay
    surgeon: str | None
    moved: bool = False


@dataclass
class Plan:
    status: str  # optimal, feasible (stopped at the time limit), greedy, closed
    placements: dict[str, Placement]
    unplaced: dict[str, str]
    end_of_day: int | None
    solve_seconds: float = 0.0
    message: str = ""
    score: tuple = field(default=())

    @property
    def placed(self) -> int:
        return len(self.placements)

    @property
    def moves(self) -> int:
        return sum(1 for p in self.placements.values() if p.moved)


class Occupancy:
    """Who holds which unit and surgeon when; the in-memory picture the greedy plan fills."""

    def __init__(self, day: DayInput) -> None:
        self.day = day
        self.units: dict[str, list[tuple[int, int]]] = {u.key: [] for u in day.units}
        self.surgeons: dict[str, list[tuple[int, int]]] = {s.key: [] for s in day.shifts}
        for unit in day.units:
            if unit.available_from is not None:
                self.units[unit.key].append((day.opens - 24 * 60, unit.available_from))
        for busy in day.busy:
            if busy.unit in self.units:
                self.units[busy.unit].append((busy.start, busy.end))
            if busy.surgeon in self.surgeons:
                self.surgeons[busy.surgeon].append((busy.start, busy.end))

    @staticmethod
    def _free(busy: list[tuple[int, int]], start: int, end: int) -> bool:
        return all(not (b_start < end and start < b_end) for b_start, b_end in busy)

    def fit(self, request: Request, shape: Shape, start: int) -> tuple[Placement | None, str]:
        """The placement at this procedure start, or None and why not (a reason code)."""
        day = self.day
        if start - shape.lead < day.opens or start + shape.tail > day.closes:
            return None, "outside_opening_hours"
        chosen = []
        for hold in shape.holds:
            unit = next(
                (u.key for u in day.units if u.kind == hold.kind
                 and self._free(self.units[u.key], start + hold.begin, start + hold.until)),
                None,
            )
            if unit is None:
                return None, f"busy:{hold.kind}"
            chosen.append(unit)
        surgeon = None
        if shape.surgeon_spans:
            surgeon = self._surgeon(request, shape, start)
            if surgeon is None:
                return None, "surgeon_busy"
        return Placement(start, tuple(chosen), surgeon), ""

    def _surgeon(self, request: Request, shape: Shape, start: int) -> str | None:
        for shift in self.day.shifts:
            if request.surgeons is not None and shift.key not in request.surgeons:
                continue
            spans = [(start + a, start + b) for a, b in shape.surgeon_spans]
            if all(
                shift.starts <= a and b <= shift.ends and self._free(self.surgeons[shift.key], a, b)
                for a, b in spans
            ):
                return shift.key
        return None

    def take(self, shape: Shape, placement: Placement) -> None:
        for hold, unit in zip(shape.holds, placement.units, strict=False):
            # A unit no longer in use (set inactive) still holds the patient already in it.
            span = (placement.start + hold.begin, placement.start + hold.until)
            self.units.setdefault(unit, []).append(span)
        if placement.surgeon is not None:
            for a, b in shape.surgeon_spans:
                span = (placement.start + a, placement.start + b)
                self.surgeons.setdefault(placement.surgeon, []).append(span)


def candidate_starts(day: DayInput, shape: Shape) -> range:
    earliest = max(day.opens, day.arrive_from or day.opens)
    first = -(-(earliest + shape.lead) // STEP) * STEP
    last = (day.closes - shape.tail) // STEP * STEP
    return range(first, last + 1, STEP)


def never_fits(day: DayInput, request: Request, shape: Shape) -> str | None:
    """Why this case cannot be placed on this day whatever else is booked, or None."""
    if day.opens is None:
        return "the site is closed on this day"
    if not candidate_starts(day, shape):
        return "the case is longer than the opening hours"
    kinds = {u.kind for u in day.units}
    for hold in shape.holds:
        if hold.kind not in kinds:
            words = KIND_WORDS.get(hold.kind, hold.kind)
            if hold.kind in day.closed_kinds:
                return f"every {words} is closed on this day"
            return f"the site has no {words}"
    if shape.surgeon_spans:
        shifts = [s for s in day.shifts if request.surgeons is None or s.key in request.surgeons]
        if not any(
            s.starts <= start + shape.surgeon_spans[0][0]
            and start + shape.surgeon_spans[-1][1] <= s.ends
            for s in shifts for start in candidate_starts(day, shape)
        ):
            return "surgeon not working at a time the case fits"
    return None


def placement_order(day: DayInput) -> list[Request]:
    """Fixed cases, then booked ones where they are, then the rest by priority, as requested."""
    requests = list(day.requests)
    return sorted(
        requests,
        key=lambda r: (not r.fixed, r.current_start is None, -r.rank, requests.index(r)),
    )


def why_unplaced(occupancy: Occupancy, request: Request, shape: Shape) -> str:
    """The reason most starts of the day fail, in the front desk's words."""
    counts: dict[str, int] = {}
    for start in candidate_starts(occupancy.day, shape):
        _, reason = occupancy.fit(request, shape, start)
        counts[reason] = counts.get(reason, 0) + 1
    reason = max(counts, key=counts.get) if counts else "outside_opening_hours"
    if reason == "busy:procedure_room":
        return "no room time left"
    if reason.startswith("busy:"):
        return f"no {KIND_WORDS.get(reason[5:], reason[5:])} free"
    if reason == "surgeon_busy":
        return "no surgeon free"
    return "does not fit in the opening hours"


def greedy_plan(day: DayInput) -> Plan:
    """Every case at the earliest start where it fits, one at a time; booked cases stay put."""
    if day.opens is None:
        return Plan("closed", {}, {r.key: "the site is closed on this day" for r in day.requests},
                    None, message="The site is closed on this day.")
    occupancy = Occupancy(day)
    placements: dict[str, Placement] = {}
    unplaced: dict[str, str] = {}
    for request in placement_order(day):
        shape = day.shape(request)
        placement = None
        if request.current_start is not None and request.current_units is not None:
            placement = Placement(request.current_start, request.current_units,
                                  request.current_surgeon)
        elif never_fits(day, request, shape) is None:
            for start in candidate_starts(day, shape):
                placement, _ = occupancy.fit(request, shape, start)
                if placement is not None:
                    break
            if placement is not None and request.current_start is not None:
                placement = replace(placement, moved=placement.start != request.current_start)
        if placement is None:
            unplaced[request.key] = never_fits(day, request, shape) or why_unplaced(
                occupancy, request, shape)
            continue
        occupancy.take(shape, placement)
        placements[request.key] = placement
    return Plan("greedy", placements, unplaced, end_of_day(day, placements))


def end_of_day(day: DayInput, placements: dict[str, Placement]) -> int | None:
    tails = {r.key: day.shape(r).tail for r in day.requests}
    ends = [p.start + tails[key] for key, p in placements.items()]
    return max(ends) if ends else None


def peak(day: DayInput, plan: Plan, kind: str = "recovery_bay") -> int:
    """The most units of a kind in use at once (turnover included)."""
    events = []
    for request in day.requests:
        placement = plan.placements.get(request.key)
        if placement is None:
            continue
        for hold in day.shape(request).holds:
            if hold.kind == kind:
                events += [(placement.start + hold.begin, 1), (placement.start + hold.until, -1)]
    level = best = 0
    for _, delta in sorted(events):
        level += delta
        best = max(best, level)
    return best
