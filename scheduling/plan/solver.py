"""The day planner: OR-Tools CP-SAT places the day's cases in rooms, bays and surgeons' time.

Pure: a DayInput in (day.py), a Plan out; loader.py builds the input from the database. The
model, in whole minutes on the 5-minute grid:

- each case is one integer start (its procedure start = 5 x k) and a "placed" flag; its stays in
  rooms and bays and its surgeon's spans follow at fixed offsets, so the chain of stages is kept
  contiguous exactly as a booking writes it (cement set in the procedure room, turnover after);
- rooms and bays of a kind that are alike all day (open the whole day, nothing of another day or
  of a case that stays in them) are one pool: a stay in the pool is one interval on a cumulative
  of capacity = the number of units in it, not a choice among units, which the solver would have
  to tell apart for nothing. Concrete units are named after solving (colouring.py: greedy by start
  is exact for identical units when the cumulative holds). A unit that differs (there only part
  of the day, or holding a case that stays) is modelled on its own: a stay chooses it or the pool;
- the surgeon's spans are optional intervals per surgeon allowed, inside one of their working
  periods, no overlap (surgeons stay individual: a case may ask for one by name);
- checked-in cases and cases already told their time (unless moves are allowed) stay exactly as
  booked: their stays are fixed intervals on their own rooms, bays and surgeon.

The goal is lexicographic, solved in three phases, each hinted with the solution before it and
given its share of the time left: (1) the most cases placed, weighted so that one case of a
higher priority is worth more than every case of lower priorities together (and a booked patient
more than every waiting one, so a booking is never dropped); (2) with that fixed, the earliest
end of the day; (3) with both fixed, the fewest booked cases changed; (4) among plans equal in
all three, urgent and soon waiting patients as early in the day as they can be. The plan is
"optimal" when every phase was proved optimal.

The greedy earliest-slot plan is the first phase's hint, and if the solver ends with nothing
better the greedy plan is the answer: the proposal is never worse than booking one case at a time.
"""

import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from .colouring import StayToColour, colour_stays
from .day import (
    STEP,
    DayInput,
    Occupancy,
    Placement,
    Plan,
    Shape,
    candidate_starts,
    end_of_day,
    greedy_plan,
    never_fits,
    placement_order,
    why_unplaced,
)

TIME_LIMIT_SECONDS = 10.0
READ_SECONDS = 0.1
# Of the time left when a phase starts: what the first two phases leave unused goes on.
PHASE_SHARES = (0.4, 0.45, 0.1, 0.05)
POOL = ""
PHASE_WORDS = (
    "fitting the most patients, the most urgent first",
    "ending the day as early as it can",
    "changing as few bookings as it can",
    "bringing urgent patients as early as they can be",
)
Progress = Callable[[str], None]


def _weights(day: DayInput) -> dict[str, int]:
    """Case -> weight, so that one case of a priority beats all cases of lower priorities, and
    a patient already booked beats every waiting one (the plan never drops a booking)."""
    weights: dict[str, int] = {}
    below = 0
    waiting = [r for r in day.requests if r.current_start is None]
    for rank in sorted({r.rank for r in waiting}):
        weight = below + 1
        for request in waiting:
            if request.rank == rank:
                weights[request.key] = weight
                below += weight
    for request in day.requests:
        if request.current_start is not None:
            weights[request.key] = below + 1
    return weights


def score(day: DayInput, plan: Plan) -> tuple[int, int, int]:
    """Bigger is better, in the objective's order."""
    weights = _weights(day)
    placed = sum(weights[key] for key in plan.placements)
    return placed, -(plan.end_of_day or 0), -plan.moves


def plan_day(
    day: DayInput,
    *,
    time_limit: float = TIME_LIMIT_SECONDS,
    workers: int = 2,
    progress: Progress | None = None,
) -> Plan:
    began = time.monotonic()
    greedy = greedy_plan(day)
    greedy.score = score(day, greedy)
    if day.opens is None or not day.requests:
        return greedy
    model = _Model(day)
    model.hint(greedy)
    # The limit is the manager's wait: building the model and reading the answer count too.
    deadline = began + time_limit - READ_SECONDS
    statuses = model.solve_phases(deadline, workers, progress)
    plan = _chosen(day, model, greedy, statuses, time_limit)
    plan.solve_seconds = time.monotonic() - began
    return plan


def _chosen(day: DayInput, model: "_Model", greedy: Plan, statuses: list, time_limit: float):
    if not statuses or statuses[0] not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        greedy.message = (
            f"The optimiser found no plan within {time_limit:g} s; this is the earliest-slot plan."
        )
        return greedy
    solved = model.read()
    solved.score = score(day, solved)
    if solved.score < greedy.score:
        greedy.message = "The optimiser found nothing better than the earliest-slot plan."
        return greedy
    if len(statuses) == model.phases and all(s == cp_model.OPTIMAL for s in statuses):
        solved.status, solved.message = "optimal", "The best plan for this day."
    else:
        solved.message = (
            f"The optimiser stopped at its {time_limit:g} s limit; this is the best plan it "
            "found (it may not be the best possible)."
        )
    return solved


class _Model:
    def __init__(self, day: DayInput) -> None:
        self.day = day
        self.model = cp_model.CpModel()
        m = self.model
        self.base = day.opens // STEP * STEP
        self.shapes = {r.key: day.shape(r) for r in day.requests}
        self.reasons: dict[str, str] = {}
        self.k: dict[str, cp_model.IntVar] = {}
        self.placed: dict[str, cp_model.IntVar] = {}
        # (case, stay index) -> {unit key, or POOL: literal}
        self.stay_lits: dict[tuple[str, int], dict[str, cp_model.IntVar]] = {}
        self.surgeon_lits: dict[tuple[str, str], cp_model.IntVar] = {}
        self.moved: dict[str, cp_model.IntVar] = {}
        self.solution: list[int] = []
        kept_keys = self._kept_keys()
        self.pools = self._pools(kept_keys)
        unit_intervals: dict[str, list] = {
            u.key: [] for u in day.units if u.key not in self.pooled
        }
        pool_intervals: dict[str, list] = {kind: [] for kind in self.pools}
        surgeon_intervals: dict[str, list] = {s.key: [] for s in day.shifts}
        self._fixed_busy(unit_intervals, surgeon_intervals)
        self.kept: dict[str, Placement] = {}
        for request in day.requests:
            if request.key in kept_keys:
                self._keep(request, unit_intervals, surgeon_intervals)
            elif (reason := never_fits(day, request, self.shapes[request.key])) is not None:
                self.reasons[request.key] = reason
        kept_ends = [p.start + self.shapes[key].tail for key, p in self.kept.items()]
        span = max([day.closes, *kept_ends]) - self.base + 1
        self.end = m.new_int_var(max(kept_ends, default=day.opens) - self.base, span, "end")
        for request in day.requests:
            key = request.key
            if key in self.kept or key in self.reasons:
                continue
            shape = self.shapes[key]
            starts = candidate_starts(day, shape)
            k_lo, k_hi = (starts[0] - self.base) // STEP, (starts[-1] - self.base) // STEP
            k = self.k[key] = m.new_int_var(k_lo, k_hi, f"k_{key}")
            placed = self.placed[key] = m.new_bool_var(f"placed_{key}")
            x = STEP * k
            m.add(x + shape.tail <= self.end).only_enforce_if(placed)
            self._stays(request, shape, x, placed, unit_intervals, pool_intervals)
            self._surgeon(request, shape, x, placed, surgeon_intervals)
            if request.current_start is not None:
                self._moves(request, k)
        for intervals in (*unit_intervals.values(), *surgeon_intervals.values()):
            m.add_no_overlap(intervals)
        for kind, intervals in pool_intervals.items():
            m.add_cumulative(intervals, [1] * len(intervals), len(self.pools[kind]))
        self._symmetry()
        weights = _weights(day)
        self.placed_sum = sum(weights[key] * lit for key, lit in self.placed.items())
        self.urgent_first = self._urgent_first()

    def _urgent_first(self):
        """The starts of placed waiting patients, weighted by how far above routine they are."""
        m = self.model
        waiting = [r for r in self.day.requests if r.key in self.k and r.current_start is None]
        lowest = min((r.rank for r in waiting), default=0)
        terms = []
        for request in waiting:
            if request.rank == lowest:
                continue
            k, placed = self.k[request.key], self.placed[request.key]
            start = m.new_int_var(0, list(k.proto.domain)[-1], "")
            m.add(start == k).only_enforce_if(placed)
            m.add(start == 0).only_enforce_if(placed.Not())
            terms.append((request.rank - lowest) * start)
        return sum(terms) if terms else None

    def _kept_keys(self) -> set[str]:
        """Cases that stay exactly where they are: fixed, or a booking that no longer fits."""
        return {
            r.key for r in self.day.requests
            if r.current_start is not None
            and (r.fixed or never_fits(self.day, r, self.shapes[r.key]) is not None)
        }

    def _pools(self, kept_keys: set[str]) -> dict[str, tuple[str, ...]]:
        """Kind -> the units of that kind alike all day, in name order."""
        day = self.day
        apart = {busy.unit for busy in day.busy}
        apart |= {u.key for u in day.units if u.available_from is not None}
        for request in day.requests:
            if request.key in kept_keys:
                apart.update(request.current_units or ())
        pools: dict[str, tuple[str, ...]] = {}
        for unit in day.units:
            if unit.key not in apart:
                pools[unit.kind] = (*pools.get(unit.kind, ()), unit.key)
        self.pooled = {key for keys in pools.values() for key in keys}
        return pools

    def _symmetry(self) -> None:
        """Waiting patients alike in shape, priority and surgeon are interchangeable: take them
        in the order asked (the greedy plan does too, so the hint stays valid)."""
        groups: dict[tuple, list[str]] = {}
        for request in self.day.requests:
            if request.key in self.k and request.current_start is None:
                alike = (self.shapes[request.key], request.rank, request.surgeons)
                groups.setdefault(alike, []).append(request.key)
        m = self.model
        for keys in groups.values():
            for first, second in zip(keys, keys[1:], strict=False):
                m.add_implication(self.placed[second], self.placed[first])
                m.add(self.k[first] <= self.k[second]).only_enforce_if(self.placed[second])

    def _keep(self, request, unit_intervals, surgeon_intervals) -> None:
        """A case that stays exactly where it is holds its rooms, bays and surgeon as booked."""
        m, shape = self.model, self.shapes[request.key]
        start = request.current_start - self.base
        for hold, unit in zip(shape.holds, request.current_units or (), strict=False):
            if unit in unit_intervals:
                unit_intervals[unit].append(
                    m.new_fixed_size_interval_var(start + hold.begin, hold.until - hold.begin, ""))
        if request.current_surgeon in surgeon_intervals:
            for a, b in shape.surgeon_spans:
                surgeon_intervals[request.current_surgeon].append(
                    m.new_fixed_size_interval_var(start + a, b - a, ""))
        self.kept[request.key] = Placement(
            request.current_start, request.current_units or (), request.current_surgeon)

    def _fixed_busy(self, unit_intervals, surgeon_intervals) -> None:
        day, m = self.day, self.model
        for unit in day.units:
            if unit.available_from is not None:
                start = day.opens - 24 * 60 - self.base
                size = unit.available_from - day.opens + 24 * 60
                unit_intervals[unit.key].append(m.new_fixed_size_interval_var(start, size, ""))
        for busy in day.busy:
            interval = m.new_fixed_size_interval_var(
                busy.start - self.base, busy.end - busy.start, ""
            )
            if busy.unit in unit_intervals:
                unit_intervals[busy.unit].append(interval)
            if busy.surgeon in surgeon_intervals:
                surgeon_intervals[busy.surgeon].append(interval)

    def _stays(self, request, shape: Shape, x, placed, unit_intervals, pool_intervals) -> None:
        """Each stay goes to its kind's pool or to one unit modelled on its own."""
        m = self.model
        for index, hold in enumerate(shape.holds):
            apart = [u.key for u in self.day.units
                     if u.kind == hold.kind and u.key in unit_intervals]
            choices = ([POOL] if hold.kind in self.pools else []) + apart
            lits = self.stay_lits[request.key, index] = {}
            for choice in choices:
                lit = placed if len(choices) == 1 else m.new_bool_var("")
                lits[choice] = lit
                interval = m.new_optional_interval_var(
                    x + hold.begin, hold.until - hold.begin, x + hold.until, lit, "")
                if choice == POOL:
                    pool_intervals[hold.kind].append(interval)
                else:
                    unit_intervals[choice].append(interval)
            if len(choices) > 1:
                m.add(sum(lits.values()) == placed)

    def _surgeon(self, request, shape: Shape, x, placed, surgeon_intervals) -> None:
        if not shape.surgeon_spans:
            return
        m = self.model
        # A surgeon may work several periods a day (a morning and an afternoon list): they are
        # chosen as one literal, and the case's surgeon stages fit inside one of the periods.
        periods: dict[str, list] = {}
        for shift in self.day.shifts:
            if request.surgeons is None or shift.key in request.surgeons:
                periods.setdefault(shift.key, []).append(shift)
        first, last = shape.surgeon_spans[0][0], shape.surgeon_spans[-1][1]
        lits = []
        for key, shifts in periods.items():
            lit = m.new_bool_var(f"s_{request.key}_{key}")
            self.surgeon_lits[request.key, key] = lit
            lits.append(lit)
            inside = []
            for shift in shifts:
                if len(shifts) == 1:
                    period = lit
                else:
                    period = m.new_bool_var("")
                    inside.append(period)
                m.add(x + first >= shift.starts - self.base).only_enforce_if(period)
                m.add(x + last <= shift.ends - self.base).only_enforce_if(period)
            if inside:
                m.add(sum(inside) == lit)
            for a, b in shape.surgeon_spans:
                surgeon_intervals[key].append(
                    m.new_optional_interval_var(x + a, b - a, x + b, lit, "")
                )
        m.add(sum(lits) == placed)

    def _moves(self, request, k) -> None:
        """Unmoved means the same start, rooms, bays and surgeon: nothing to rebook. A stay
        kept in a pooled unit keeps the pool here; the colouring gives it back its own unit."""
        m = self.model
        moved = self.moved[request.key] = m.new_bool_var(f"moved_{request.key}")
        kept = moved.Not()
        m.add(k == (request.current_start - self.base) // STEP).only_enforce_if(kept)
        for index, unit in enumerate(request.current_units or ()):
            lits = self.stay_lits.get((request.key, index), {})
            lit = lits.get(POOL if unit in self.pooled else unit)
            if lit is None:
                m.add_bool_or([moved])
            else:
                m.add_implication(kept, lit)
        if request.current_surgeon is not None:
            lit = self.surgeon_lits.get((request.key, request.current_surgeon))
            if lit is None:
                m.add_bool_or([moved])
            else:
                m.add_implication(kept, lit)

    def hint(self, greedy: Plan) -> None:
        m = self.model
        for request in self.day.requests:
            key = request.key
            if key not in self.k:
                continue
            placement = greedy.placements.get(key)
            m.add_hint(self.placed[key], placement is not None)
            if placement is None:
                continue
            m.add_hint(self.k[key], (placement.start - self.base) // STEP)
            for index, unit in enumerate(placement.units):
                chosen = POOL if unit in self.pooled else unit
                for choice, lit in self.stay_lits.get((key, index), {}).items():
                    if lit is not self.placed[key]:
                        m.add_hint(lit, choice == chosen)
            for (case, surgeon), lit in self.surgeon_lits.items():
                if case == key:
                    m.add_hint(lit, placement.surgeon == surgeon)
            if key in self.moved:
                m.add_hint(self.moved[key], placement.moved)
        if greedy.end_of_day is not None:
            m.add_hint(self.end, greedy.end_of_day - self.base)

    def solve_phases(self, deadline: float, workers: int, progress: Progress | None) -> list:
        """Most cases by priority, then the earliest end, then the fewest changes: each phase
        fixes the value the one before reached and starts from its solution. The statuses of
        the phases run, one per phase when all ran."""
        m = self.model
        phases = [(self.placed_sum, True, 0), (self.end, False, 1)]
        if self.moved:
            phases.append((sum(self.moved.values()), False, 2))
        if self.urgent_first is not None:
            phases.append((self.urgent_first, False, 3))
        shares = [PHASE_SHARES[phase] for _, _, phase in phases]
        statuses = []
        for number, (goal, maximise, phase) in enumerate(phases):
            left = deadline - time.monotonic()
            if left <= 0.01 and statuses:
                break
            if progress is not None:
                progress(f"Step {number + 1} of {len(phases)}: {PHASE_WORDS[phase]}.")
            m.clear_objective()
            if maximise:
                m.maximize(goal)
            else:
                m.minimize(goal)
            solver = cp_model.CpSolver()
            solver.parameters.max_time_in_seconds = max(
                0.01, left * shares[number] / sum(shares[number:]))
            solver.parameters.num_workers = workers
            solver.parameters.random_seed = 7
            status = solver.solve(m)
            if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                break
            statuses.append(status)
            self.solution = list(solver.response_proto.solution)
            value = round(solver.objective_value)
            m.add(goal >= value if maximise else goal <= value)
            self._hint_solution()
        self.phases = len(phases)
        return statuses

    def _hint_solution(self) -> None:
        m = self.model
        m.clear_hints()
        hint = m.proto.solution_hint
        hint.vars.extend(range(len(self.solution)))
        hint.values.extend(self.solution)

    def _value(self, var) -> int:
        if isinstance(var, int):
            return var
        index = var.index
        value = self.solution[index if index >= 0 else -index - 1]
        return value if index >= 0 else 1 - value

    def read(self) -> Plan:
        day = self.day
        value = self._value
        starts: dict[str, int] = {}
        for key, placed in self.placed.items():
            if value(placed):
                starts[key] = self.base + STEP * value(self.k[key])
        units, stays = self._units_apart(starts)
        for (key, index), unit in colour_stays(stays, self.pools).items():
            units[key][index] = unit
        placements: dict[str, Placement] = dict(self.kept)
        for request in day.requests:
            key = request.key
            if key not in starts:
                continue
            surgeon = next((s for (case, s), lit in self.surgeon_lits.items()
                            if case == key and value(lit)), None)
            chosen = tuple(units[key])
            moved = request.current_start is not None and (
                starts[key] != request.current_start
                or (request.current_units is not None and chosen != request.current_units)
                or surgeon != request.current_surgeon
            )
            placements[key] = Placement(starts[key], chosen, surgeon, moved)
        return self._plan(placements)

    def _units_apart(self, starts: dict[str, int]):
        """The units chosen outright, and the stays left to the pools' colouring."""
        units: dict[str, list[str]] = {}
        stays: list[StayToColour] = []
        requests = {r.key: r for r in self.day.requests}
        for key, start in starts.items():
            holds = self.shapes[key].holds
            units[key] = [""] * len(holds)
            current = requests[key].current_units or ()
            for index, hold in enumerate(holds):
                lits = self.stay_lits[key, index]
                choice = next(c for c, lit in lits.items() if self._value(lit))
                if choice != POOL:
                    units[key][index] = choice
                    continue
                wanted = current[index] if index < len(current) else None
                stays.append(StayToColour(
                    key, index, hold.kind, start + hold.begin, start + hold.until, wanted))
        return units, stays

    def _plan(self, placements: dict[str, Placement]) -> Plan:
        day = self.day
        occupancy = Occupancy(day)
        for request in placement_order(day):
            if request.key in placements:
                occupancy.take(self.shapes[request.key], placements[request.key])
        unplaced = {
            r.key: self.reasons.get(r.key) or why_unplaced(occupancy, r, self.shapes[r.key])
            for r in day.requests if r.key not in placements
        }
        return Plan("feasible", placements, unplaced, end_of_day(day, placements))
