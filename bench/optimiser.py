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
    args = parser.parse_args()

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
    emit("optimiser", [
        figure("days where the planner is worse than greedy", worse, goal="0", met=worse == 0),
        *goal_figures,
        figure("longest solve", round(slowest, 2), unit=" s", goal=f"<= {args.time_limit:g} s",
               met=slowest <= args.time_limit),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
