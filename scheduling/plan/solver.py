"""The day planner: OR-Tools CP-SAT places the day's cases in rooms, bays and surgeons' time.

Pure: a DayInput in (day.py), a Plan out; loader.py builds the input from the database. The
model, in whole minutes on the 5-minute grid:

- each case is one integer start (its procedure start = 5 x k) and a "placed" flag; its stays in
  rooms and bays and its surgeon's spans follow at fixed offsets, so the chain of stages is kept
  contiguous exactly as a booking writes it (cement set in the procedure room, turnover after);
- each stay is an optional interval on every unit of its kind, exactly one chosen when placed,
  and no two intervals overlap on one unit (units of a kind are interchangeable, but a checked-in
  patient holds a particular one, so each unit is modelled rather than a count per kind);
- the surgeon's spans are optional intervals per surgeon allowed, inside their shift, no overlap;
- checked-in cases and cases already told their time (unless moves are allowed) stay exactly as
  booked: their stays are fixed intervals on their own rooms, bays and surgeon.

The objective is lexicographic: first the most cases placed, weighted so that one case of a
higher priority is worth more than every case of lower priorities together (and a booked
patient more than every waiting one, so a booking is never dropped); then the earliest
end of the day; then the fewest booked cases changed. It is one weighted sum rather than three
solves in phases, with weights chosen so that a step in an earlier goal outweighs the whole range
of every later one (see `_weights` and `_objective`), so the time limit is spent on one search.

The greedy earliest-slot plan is the solver's hint, and if the solver stops with nothing better
the greedy plan is the answer: the proposal is never worse than booking one case at a time.
"""

import time

from ortools.sat.python import cp_model

from .day import (
    STEP,
    DayInput,
    Occupancy,
    Placement,
    Plan,
    Shape,
    as_booked,
    candidate_starts,
    end_of_day,
    greedy_plan,
    never_fits,
    placement_order,
    why_unplaced,
)

TIME_LIMIT_SECONDS = 10.0
READ_SECONDS = 0.1


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


def plan_day(day: DayInput, *, time_limit: float = TIME_LIMIT_SECONDS, workers: int = 2) -> Plan:
    began = time.monotonic()
    greedy = greedy_plan(day)
    greedy.score = score(day, greedy)
    if day.opens is None or not day.requests:
        return greedy
    model = _Model(day)
    model.hint(greedy)
    solver = cp_model.CpSolver()
    # The limit is the manager's wait: building the model and reading the answer count too.
    spent = time.monotonic() - began
    solver.parameters.max_time_in_seconds = max(0.01, time_limit - spent - READ_SECONDS)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 7
    status = solver.solve(model.model)
    seconds = time.monotonic() - began
    plan = greedy
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        greedy.message = (
            f"The optimiser found no plan within {time_limit:g} s; this is the earliest-slot plan."
        )
    else:
        solved = model.read(solver)
        solved.score = score(day, solved)
        if solved.score < greedy.score:
            greedy.message = "The optimiser found nothing better than the earliest-slot plan."
        elif status == cp_model.OPTIMAL:
            plan = solved
            plan.status, plan.message = "optimal", "The best plan for this day."
        else:
            plan = solved
            plan.message = (
                f"The optimiser stopped at its {time_limit:g} s limit; this is the best plan it "
                "found (it may not be the best possible)."
            )
    plan.solve_seconds = seconds
    return as_booked(day, plan)


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
        self.unit_lits: dict[tuple[str, int, str], cp_model.IntVar] = {}
        self.surgeon_lits: dict[tuple[str, str], cp_model.IntVar] = {}
        self.moved: dict[str, cp_model.IntVar] = {}
        unit_intervals: dict[str, list] = {u.key: [] for u in day.units}
        surgeon_intervals: dict[str, list] = {s.key: [] for s in day.shifts}
        self._fixed_busy(unit_intervals, surgeon_intervals)
        self.kept: dict[str, Placement] = {}
        for request in day.requests:
            reason = never_fits(day, request, self.shapes[request.key])
            if request.current_start is not None and (request.fixed or reason is not None):
                self._keep(request, unit_intervals, surgeon_intervals)
            elif reason is not None:
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
            self._stays(request, shape, x, placed, unit_intervals)
            self._surgeon(request, shape, x, placed, surgeon_intervals)
            if request.current_start is not None:
                self._moves(request, k)
        for intervals in (*unit_intervals.values(), *surgeon_intervals.values()):
            m.add_no_overlap(intervals)
        self._kind_capacity()
        self._symmetry()
        self._objective(span)

    def _kind_capacity(self) -> None:
        """Redundant with the units' no-overlap, but lets the solver bound a kind as a whole."""
        m = self.model
        by_kind: dict[str, list] = {}
        for request in self.day.requests:
            if request.key not in self.k:
                continue
            x = STEP * self.k[request.key]
            for hold in self.shapes[request.key].holds:
                by_kind.setdefault(hold.kind, []).append(m.new_optional_interval_var(
                    x + hold.begin, hold.until - hold.begin, x + hold.until,
                    self.placed[request.key], "",
                ))
        for kind, intervals in by_kind.items():
            capacity = sum(1 for u in self.day.units if u.kind == kind)
            m.add_cumulative(intervals, [1] * len(intervals), capacity)

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

    def _stays(self, request, shape: Shape, x, placed, unit_intervals) -> None:
        m = self.model
        for index, hold in enumerate(shape.holds):
            units = [u for u in self.day.units if u.kind == hold.kind]
            lits = []
            for unit in units:
                lit = m.new_bool_var(f"u_{request.key}_{index}_{unit.key}")
                self.unit_lits[request.key, index, unit.key] = lit
                lits.append(lit)
                unit_intervals[unit.key].append(m.new_optional_interval_var(
                    x + hold.begin, hold.until - hold.begin, x + hold.until, lit, ""
                ))
            m.add(sum(lits) == placed)

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
            for number, shift in enumerate(shifts):
                period = m.new_bool_var(f"p_{request.key}_{key}_{number}")
                inside.append(period)
                m.add(x + first >= shift.starts - self.base).only_enforce_if(period)
                m.add(x + last <= shift.ends - self.base).only_enforce_if(period)
            m.add(sum(inside) == lit)
            for a, b in shape.surgeon_spans:
                surgeon_intervals[key].append(
                    m.new_optional_interval_var(x + a, b - a, x + b, lit, "")
                )
        m.add(sum(lits) == placed)

    def _moves(self, request, k) -> None:
        """Unmoved means the same start, rooms, bays and surgeon: nothing to rebook."""
        m = self.model
        moved = self.moved[request.key] = m.new_bool_var(f"moved_{request.key}")
        kept = moved.Not()
        m.add(k == (request.current_start - self.base) // STEP).only_enforce_if(kept)
        for index, unit in enumerate(request.current_units or ()):
            lit = self.unit_lits.get((request.key, index, unit))
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

    def _objective(self, span: int) -> None:
        weights = _weights(self.day)
        moves = len(self.moved) + 1
        placed = sum(weights[key] * lit for key, lit in self.placed.items())
        self.model.maximize(
            placed * (span + 1) * moves - self.end * moves - sum(self.moved.values())
        )

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
            for (case, index, unit), lit in self.unit_lits.items():
                if case == key:
                    m.add_hint(lit, placement.units[index] == unit)
            for (case, surgeon), lit in self.surgeon_lits.items():
                if case == key:
                    m.add_hint(lit, placement.surgeon == surgeon)
            if key in self.moved:
                m.add_hint(self.moved[key], placement.moved)
        if greedy.end_of_day is not None:
            m.add_hint(self.end, greedy.end_of_day - self.base)

    def read(self, solver: cp_model.CpSolver) -> Plan:
        day = self.day
        placements: dict[str, Placement] = dict(self.kept)
        for request in day.requests:
            key = request.key
            if key not in self.k or not solver.value(self.placed[key]):
                continue
            shape = self.shapes[key]
            units = tuple(
                next(unit for (case, i, unit), lit in self.unit_lits.items()
                     if case == key and i == index and solver.value(lit))
                for index in range(len(shape.holds))
            )
            surgeon = next((s for (case, s), lit in self.surgeon_lits.items()
                            if case == key and solver.value(lit)), None)
            start = self.base + STEP * solver.value(self.k[key])
            moved = request.current_start is not None and (
                start != request.current_start
                or (request.current_units is not None and units != request.current_units)
                or surgeon != request.current_surgeon
            )
            placements[key] = Placement(start, units, surgeon, moved)
        occupancy = Occupancy(day)
        for request in placement_order(day):
            if request.key in placements:
                occupancy.take(self.shapes[request.key], placements[request.key])
        unplaced = {
            r.key: self.reasons.get(r.key) or why_unplaced(occupancy, r, self.shapes[r.key])
            for r in day.requests if r.key not in placements
        }
        return Plan("feasible", placements, unplaced, end_of_day(day, placements))
