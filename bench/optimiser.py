"""The day planner against booking one case at a time at the earliest free slot.

Run from the project root:  .venv/bin/python bench/optimiser.py  (see bench/README.md)

Pure: no database. Generated days, seeded and reproducible: the vertebroplasty stage templates
(pre-op 60 min in a pre-op bay; procedure 60 + 30 per extra level with the surgeon and 15 min
room turnover; cement set 60 in the room; recovery 120 in a recovery bay), a 30-minute check-in,
one surgeon per room working the opening hours, one more pre-op bay than rooms, levels 1/2/3 in
the proportion 5:3:2 and priorities urgent/soon/routine 1:2:7. It prints a table: cases placed,
end of day, recovery-bay peak and solve time for both, then the goals: never worse than greedy;
on the 40-case, 2-room, 6-bay day at least one more case or an end of day at least 10% earlier
(measured from opening); solve time within the limit.

Then a family of six realistic three-room days where booking at the earliest slot is not the best:
3 rooms, 3 pre-op and 3 recovery bays, open 07:00-18:00, a full-day surgeon, a morning one (to
12:30) and an afternoon one (from 12:30), 12 cases asked for with 30% naming their surgeon, levels
and priorities as above. Per day: greedy and solver cases and end of day, whether every phase of
the solver was proved optimal and its time, and the double bookings in the proposal (pairs of
stays in one room or bay, or of one surgeon's spans, that overlap). Goals: better than greedy (at
least one more case, or an end of day 5% earlier from opening) on at least 5 of 6; proved optimal
on at least 5 of 6 within 10 s; never worse than greedy; no double booking.
"""

import argparse
import random
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scheduling.plan.day import (  # noqa: E402
    DayInput,
    Request,
    Shift,
    Unit,
    greedy_plan,
    peak,
)
from scheduling.plan.solver import plan_day, score  # noqa: E402
from scheduling.plan.whatif import WHAT_IFS, what_if_run  # noqa: E402
from scheduling.timing import VERTEBROPLASTY_RULES, SiteRules  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import emit, figure  # noqa: E402

SITE = SiteRules(zone=ZoneInfo("America/New_York"))
OPENS = 29_531_340  # Thursday 26 February 2026, 07:00 in New York, in minutes since 1970
DAYS = [(20, 2, 4), (20, 3, 6), (40, 2, 6), (40, 3, 8), (60, 3, 6), (60, 4, 10)]
GOAL_DAY = (40, 2, 6)
FAMILY_SEEDS = range(1, 7)
FAMILY_CASES = 12
FAMILY_HOURS = 11
FAMILY_NAMED = 0.3


def generated_day(cases: int, rooms: int, bays: int, *, seed: int, hours: int) -> DayInput:
    rng = random.Random(f"{seed}-{cases}-{rooms}-{bays}")
    units = (
        [Unit(f"room{i}", "procedure_room", f"Room {i}") for i in range(1, rooms + 1)]
        + [Unit(f"pre{i}", "pre_op_bay", f"Pre-op {i}") for i in range(1, rooms + 2)]
        + [Unit(f"bay{i}", "recovery_bay", f"Recovery {i}") for i in range(1, bays + 1)]
    )
    closes = OPENS + hours * 60
    shifts = [Shift(f"dr{i}", f"Dr {i}", OPENS, closes) for i in range(1, rooms + 1)]
    requests = [
        Request(f"c{i}", VERTEBROPLASTY_RULES, rng.choices([1, 2, 3], [5, 3, 2])[0],
                rank=rng.choices([3, 2, 1], [1, 2, 7])[0])
        for i in range(cases)
    ]
    return DayInput(OPENS, closes, SITE, tuple(units), tuple(shifts), tuple(requests),
                    noon=OPENS + 5 * 60)


def family_day(seed: int) -> DayInput:
    """Three rooms and three recovery bays; surgeons on full-day, morning and afternoon lists."""
    rng = random.Random(f"family-{seed}")
    units = tuple(
        Unit(f"{prefix}{i}", kind, f"{name} {i}")
        for prefix, kind, name in (("room", "procedure_room", "Room"),
                                   ("pre", "pre_op_bay", "Pre-op"),
                                   ("bay", "recovery_bay", "Recovery"))
        for i in range(1, 4)
    )
    closes = OPENS + FAMILY_HOURS * 60
    noon = OPENS + FAMILY_HOURS * 30
    shifts = (Shift("dr1", "Dr Full", OPENS, closes), Shift("dr2", "Dr Morning", OPENS, noon),
              Shift("dr3", "Dr Afternoon", noon, closes))
    requests = []
    for i in range(FAMILY_CASES):
        levels = rng.choices([1, 2, 3], [5, 3, 2])[0]
        rank = rng.choices([3, 2, 1], [1, 2, 7])[0]
        named = (rng.choice(["dr1", "dr2", "dr3"]),) if rng.random() < FAMILY_NAMED else None
        requests.append(Request(f"c{i:02d}", VERTEBROPLASTY_RULES, levels, rank=rank,
                                surgeons=named))
    return DayInput(OPENS, closes, SITE, units, shifts, tuple(requests), noon=noon)


def double_bookings(day: DayInput, plan) -> int:
    """Pairs of overlapping stays in one room or bay, or of one surgeon's spans."""
    held: dict[str, list[tuple[int, int]]] = {}
    for request in day.requests:
        placement = plan.placements.get(request.key)
        if placement is None:
            continue
        shape = day.shape(request)
        for hold, unit in zip(shape.holds, placement.units, strict=True):
            held.setdefault(unit, []).append(
                (placement.start + hold.begin, placement.start + hold.until))
        for begin, end in shape.surgeon_spans:
            held.setdefault(f"surgeon {placement.surgeon}", []).append(
                (placement.start + begin, placement.start + end))
    pairs = 0
    for spans in held.values():
        spans.sort()
        for i, (_, end) in enumerate(spans):
            pairs += sum(1 for start, _ in spans[i + 1:] if start < end)
    return pairs


def _family(args) -> list[dict]:
    print(f"\nthree-room family: {FAMILY_CASES} cases asked, 3 rooms, 3 recovery bays, "
          f"open 07:00-{7 + FAMILY_HOURS:02d}:00, limit {args.time_limit:g} s")
    header = ("day", "greedy cases/end", "solver cases/end", "proved", "solve s", "double",
              "better")
    print("{:>3} {:>16} {:>16} {:>6} {:>7} {:>6}  {}".format(*header))
    better = proved = worse = doubles = 0
    for seed in FAMILY_SEEDS:
        day = family_day(seed)
        greedy = greedy_plan(day)
        began = time.monotonic()
        plan = plan_day(day, time_limit=args.time_limit)
        seconds = time.monotonic() - began
        earlier = 1 - (plan.end_of_day - OPENS) / (greedy.end_of_day - OPENS)
        gain = plan.placed > greedy.placed or earlier >= 0.05
        optimal = plan.status == "optimal" and seconds <= args.time_limit
        found = double_bookings(day, plan)
        better, proved, doubles = better + gain, proved + optimal, doubles + found
        worse += score(day, plan) < score(day, greedy)
        print("{:>3} {:>16} {:>16} {:>6} {:>7.2f} {:>6}  {}".format(
            seed, f"{greedy.placed}/{hm(greedy.end_of_day)}",
            f"{plan.placed}/{hm(plan.end_of_day)}",
            "yes" if optimal else "no", seconds, found,
            f"{plan.placed - greedy.placed:+d} case(s), end {earlier:+.0%} earlier",
        ))
    days = len(FAMILY_SEEDS)
    print(f"  better than greedy on {better} of {days} (goal >= 5); proved optimal within "
          f"{args.time_limit:g} s on {proved} of {days} (goal >= 5); worse than greedy on "
          f"{worse} (goal 0); double bookings {doubles} (goal 0)")
    return [
        figure("three-room family: days better than greedy", f"{better} of {days}",
               goal=">= 5 of 6", met=better >= 5),
        figure(f"three-room family: days proved optimal within {args.time_limit:g} s",
               f"{proved} of {days}", goal=">= 5 of 6", met=proved >= 5),
        figure("three-room family: days worse than greedy", worse, goal="0", met=worse == 0),
        figure("three-room family: double bookings", doubles, goal="0", met=doubles == 0),
    ]


def hm(minutes: int | None) -> str:
    if minutes is None:
        return "-"
    local = (minutes - OPENS) + 7 * 60
    return f"{local // 60:02d}:{local % 60:02d}"


def _goal_day_over_seeds(args) -> dict:
    """The goal day for seeds 1..N: where the goal is missed, is the greedy plan already the
    best there is (the solver proved its own plan optimal and no better)?"""
    met = proven = short = 0
    for seed in range(1, args.seeds + 1):
        day = generated_day(*GOAL_DAY, seed=seed, hours=args.hours)
        greedy = greedy_plan(day)
        plan = plan_day(day, time_limit=args.time_limit)
        earlier = 1 - (plan.end_of_day - OPENS) / (greedy.end_of_day - OPENS)
        if plan.placed > greedy.placed or earlier >= 0.10:
            met += 1
        elif plan.status == "optimal" and score(day, plan)[:2] == score(day, greedy)[:2]:
            proven += 1
        else:
            short += 1
    print(f"  goal day over seeds 1-{args.seeds}: goal met on {met}; greedy proven already "
          f"optimal on {proven}; better than greedy but short of the goal on {short}")
    return figure(f"goal day over seeds 1-{args.seeds}: met / greedy proven optimal / short",
                  f"{met} / {proven} / {short}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--hours", type=int, default=13, help="opening hours from 07:00")
    parser.add_argument("--seeds", type=int, default=10, help="seeds for the goal day summary")
    parser.add_argument("--family-only", action="store_true",
                        help="only the three-room family of days")
    args = parser.parse_args()
    if args.family_only:
        emit("optimiser", _family(args))
        return 0

    print(f"seed {args.seed}, open 07:00-{7 + args.hours:02d}:00, limit {args.time_limit:g} s")
    header = ("cases", "rooms", "bays", "placed g/o", "end g/o", "bay peak g/o", "solve s",
              "status")
    print("{:>5} {:>5} {:>4} {:>10} {:>13} {:>12} {:>7}  {}".format(*header))
    failures = []
    worse = 0
    slowest = 0.0
    goal_figures = []
    for cases, rooms, bays in DAYS:
        day = generated_day(cases, rooms, bays, seed=args.seed, hours=args.hours)
        greedy = greedy_plan(day)
        began = time.monotonic()
        plan = plan_day(day, time_limit=args.time_limit)
        seconds = time.monotonic() - began
        print("{:>5} {:>5} {:>4} {:>10} {:>13} {:>12} {:>7.2f}  {}".format(
            cases, rooms, bays, f"{greedy.placed}/{plan.placed}",
            f"{hm(greedy.end_of_day)}/{hm(plan.end_of_day)}",
            f"{peak(day, greedy)}/{peak(day, plan)}", seconds, plan.status,
        ))
        slowest = max(slowest, seconds)
        if score(day, plan) < score(day, greedy):
            worse += 1
            failures.append(f"worse than greedy on {cases}/{rooms}/{bays}")
        if seconds > args.time_limit:
            failures.append(f"{seconds:.1f} s over the limit on {cases}/{rooms}/{bays}")
        if (cases, rooms, bays) == GOAL_DAY:
            length_g = greedy.end_of_day - OPENS
            length_o = plan.end_of_day - OPENS
            earlier = 1 - length_o / length_g
            more = plan.placed - greedy.placed
            met = more >= 1 or earlier >= 0.10
            print(f"  goal day: {more:+d} case(s), end of day {earlier:.0%} earlier "
                  f"({'met' if met else 'NOT met'})")
            if not met:
                failures.append("40-case 2-room 6-bay day: no extra case and <10% earlier")
            goal_figures.append(figure(
                f"40-case 2-room 6-bay day (seed {args.seed}): extra cases / end earlier",
                f"{more:+d} / {earlier:.0%}", goal=">= +1 or >= 10%", met=met))
            for name in WHAT_IFS:
                result = what_if_run(day, plan, name, time_limit=args.time_limit)
                print(f"  what if {name}: {result.more_cases:+d} case(s), end of day "
                      f"{hm(result.end_of_day)} {result.note}".rstrip())
    if args.seeds:
        goal_figures.append(_goal_day_over_seeds(args))
    print("goals: " + ("all met" if not failures else "; ".join(failures)))
    family_figures = _family(args)
    emit("optimiser", [*family_figures,
        figure("days where the planner is worse than greedy", worse, goal="0", met=worse == 0),
        *goal_figures,
        figure("longest solve", round(slowest, 2), unit=" s", goal=f"<= {args.time_limit:g} s",
               met=slowest <= args.time_limit),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
