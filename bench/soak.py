"""Reminders under faults: a day of bookings with messages falling due while workers are killed,
Redis and PostgreSQL restart and a second beat runs; then what was planned, sent, sent twice,
lost and left stuck.

Run from the project root:  .venv/bin/python bench/soak.py  (see bench/README.md)

It prints figures; it is not a test. Goals from the issue: no reminder sent twice (outside rows
marked `unknown`, which the product itself says may have gone out), none lost.

The run starts its own PostgreSQL cluster and Redis on spare ports (bench/services.py), seeds a
unit (bench/wide_unit.py) in a time zone where it is daytime now, so quiet hours defer nothing,
and runs two `celery worker --concurrency 2` processes and one `celery beat` with the product's
schedule (dispatcher every 30 s, sweeper every 60 s), sending through the recording backend
(one JSON line per provider call, 100 ms each). This process books, reschedules and cancels
cases through the services over the first part of the run. A booking plans its messages days
ahead; to have them fall due now, the run moves each new planned message's due time to a random
instant within the fault window (the only write it makes outside the services). Meanwhile it
SIGKILLs a worker (its whole process tree, or one pool process) several times and starts it
again, restarts Redis (which keeps nothing), runs a second beat for a while and restarts
PostgreSQL. Then it lets the system settle: until nothing due is left open, or the sweeper's
five minutes for rows a dead worker left `sending` have passed. `--quick` settles for at most
a minute and then runs the sweeper itself with its clock five minutes ahead, with every worker
stopped (so nothing is in flight), and lets a worker send what it puts back.
"""

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from results import emit, figure
from services import CeleryFleet, PrivatePostgres, PrivateRedis, close_django, run_privately
from wide_unit import Booker, private_database, staff_create, unit_build

DISPATCH_TASK = "notifications.tasks.dispatch_due_reminders"
# One of these is at late morning now, whatever the hour: the unit's zone.
ZONES = ["Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver",
         "America/Chicago", "America/New_York", "America/Sao_Paulo", "Atlantic/Azores",
         "Europe/London", "Europe/Berlin", "Europe/Athens", "Europe/Moscow", "Asia/Dubai",
         "Asia/Karachi", "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo",
         "Australia/Sydney", "Pacific/Noumea", "Pacific/Auckland", "Pacific/Tongatapu"]
DELAY_MS = 100  # the recording backend's "provider round trip"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, help="fault window in minutes (default 4)")
    parser.add_argument("--quick", action="store_true",
                        help="90 s of faults, a short settle, then a fast-forwarded sweep")
    parser.add_argument("--cases", type=int, help="cases booked (default 60; quick 24)")
    parser.add_argument("--kills", type=int, help="worker kills (default 5; quick 3)")
    parser.add_argument("--settle", type=float,
                        help="most seconds to wait for the system to settle (default 420; "
                        "quick 60)")
    parser.add_argument("--seed", type=int, default=11, help="random seed (11)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the workers' logs and the record of sends; print where")
    args = parser.parse_args(argv)
    args.window = 60 * args.minutes if args.minutes else (90.0 if args.quick else 240.0)
    args.cases = args.cases or (24 if args.quick else 60)
    args.kills = args.kills if args.kills is not None else (3 if args.quick else 5)
    args.settle = args.settle if args.settle is not None else (60.0 if args.quick else 420.0)

    return run_privately(lambda stack, tmp: soak(args, stack, tmp), prefix="vertebro-soak-",
                         report=lambda figures: print_report(figures, args), keep=args.keep)


def soak(args, stack, tmp: Path) -> dict:
    pg = private_database(stack, "vertebro_soak")
    redis = PrivateRedis().start()
    stack.callback(redis.stop)
    # Celery reads CELERY_BROKER_URL before any broker an app is given.
    os.environ["CELERY_BROKER_URL"] = redis.url()
    fleet = CeleryFleet(database_url=pg.url("vertebro_soak"), broker_url=redis.url(), tmp=tmp,
                        delay_ms=DELAY_MS)
    stack.callback(fleet.stop_all)
    return run(args, pg, redis, fleet)


def run(args, pg: PrivatePostgres, redis: PrivateRedis, fleet: CeleryFleet) -> dict:
    from django.contrib.auth.models import User

    rng = random.Random(args.seed)
    zone = daytime_zone()
    site = unit_build(cases_a_day=max(args.cases, 30), zone=zone)
    staff_create(site, role="front_desk", count=1, prefix="soak-clerk")
    clerk = User.objects.get(username="soak-clerk000")
    for name in ("worker1", "worker2"):
        fleet.worker_start(name)
    fleet.beat_start("beat1")

    started = time.monotonic()
    window_ends = datetime.now(UTC) + timedelta(seconds=args.window)
    log = Timeline(started, fleet)
    booker = Booker(site=site, clerk=clerk, args=args, window_ends=window_ends, log=log)
    booker.start()
    for at, event in faults(args, rng):
        pause = started + at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        event(fleet=fleet, pg=pg, redis=redis, rng=rng, log=log)
    time.sleep(max(0.0, started + args.window - time.monotonic()))
    booker.join()
    log("fault window over; settling")
    settled = settle(args, fleet, log)
    after = {event: fleet.calls_by_worker(since) for event, since in fleet.marks.items()}
    return {"zone": zone, "timeline": log.lines, "booker": booker.counts, "settle": settled,
            "after": after, **figures(fleet.record_file)}


def daytime_zone() -> str:
    """The zone of ZONES where it is now closest to 11:30, so messages due within the next
    hour or two fall outside quiet hours (08:00-21:00)."""
    now = datetime.now(UTC)

    def distance(zone: str) -> float:
        local = now.astimezone(ZoneInfo(zone))
        return abs(local.hour + local.minute / 60 - 11.5)

    return min(ZONES, key=distance)


class Timeline:
    def __init__(self, started: float, fleet: CeleryFleet | None = None) -> None:
        self.started = started
        self.fleet = fleet
        self.lines: list[str] = []

    def __call__(self, text: str) -> None:
        line = f"{time.monotonic() - self.started:6.1f} s  {text}"
        if self.fleet is not None:
            line += f"  ({self.fleet.calls()} provider calls so far)"
        self.lines.append(line)
        print(line, flush=True)


def faults(args, rng: random.Random) -> list[tuple[float, callable]]:
    """(seconds into the window, event): worker kills at random, one Redis restart, a second
    beat for a while, one PostgreSQL restart."""
    window = args.window
    events = [(rng.uniform(0.08, 0.85) * window, kill) for _ in range(args.kills)]
    events += [
        (0.2 * window, beat2_start),
        (0.4 * window, redis_restart),
        (0.6 * window, beat2_stop),
        (0.7 * window, postgres_restart),
    ]
    return sorted(events, key=lambda event: event[0])


def kill(*, fleet, rng, log, **_) -> None:
    """Kill a worker in the middle of a batch: at the next provider call, the worker that made
    it (its whole tree, or that one pool process). With no call within 35 s, any worker."""
    pid = fleet.sender(timeout=35)
    name = fleet.worker_of(pid) if pid else None
    if name is None:
        name, pid = rng.choice(sorted(fleet.workers)), None
    pool_pid = pid if pid and pid != fleet.workers[name].pid and rng.random() < 0.4 else None
    time.sleep(rng.uniform(0, 0.15))  # before, during or after the next row's provider call
    fleet.worker_kill(name, pool_pid=pool_pid)
    if pool_pid:
        log(f"SIGKILL {name}: the pool process that was sending")
        return
    log(f"SIGKILL {name}: the whole worker" + (" while it was sending" if pid else ""))
    time.sleep(rng.uniform(2, 5))
    fleet.worker_start(name)
    log(f"{name} started again")


def beat2_start(*, fleet, log, **_) -> None:
    fleet.beat_start("beat2")
    log("second beat started")


def beat2_stop(*, fleet, log, **_) -> None:
    fleet.beat_stop("beat2")
    log("second beat stopped")


def redis_restart(*, redis, fleet, log, **_) -> None:
    fleet.sender(timeout=35)  # in the middle of a batch, if one comes
    redis.restart()
    fleet.marks["redis restart"] = fleet.record_size()
    log("Redis killed and started again (empty)")


def postgres_restart(*, pg, fleet, log, **_) -> None:
    close_django()  # this thread's own connection would be cut too
    fleet.sender(timeout=35)  # in the middle of a batch, if one comes
    pg.restart()
    fleet.marks["PostgreSQL restart"] = fleet.record_size()
    log("PostgreSQL restarted (fast: connections cut)")


def settle(args, fleet: CeleryFleet, log: Timeline) -> dict:
    """Wait (workers and beat running) until nothing due is open, or `--settle` seconds; then
    stop beat and the workers. With --quick, what a dead worker left `sending` is swept with the
    sweeper's clock five minutes ahead and sent by a fresh worker."""
    from notifications.models import Reminder, ReminderStatus

    began = time.monotonic()
    while True:
        waited = time.monotonic() - began
        due_open = Reminder.objects.filter(status=ReminderStatus.PLANNED,
                                           due_at__lte=datetime.now(UTC)).count()
        sending = Reminder.objects.filter(status=ReminderStatus.SENDING).count()
        # At least one dispatcher tick (30 s), so nothing just pulled in is left behind.
        if (due_open == 0 and sending == 0 and waited > 35) or waited > args.settle:
            break
        time.sleep(2)
    log(f"settled for {waited:.0f} s: {due_open} due and open, {sending} sending")
    fleet.stop_beats()
    fleet.stop_workers()
    log("beat and workers stopped")
    result = {"seconds": round(waited), "due_open_at_stop": due_open, "sending_at_stop": sending}
    if args.quick and (due_open or sending):
        result["fast_forward"] = fast_forward(fleet, log)
    return result


def fast_forward(fleet: CeleryFleet, log: Timeline) -> dict:
    from celery import Celery

    from notifications.dispatch import STALE_SENDING, reminders_sweep
    from notifications.models import Reminder, ReminderStatus

    swept = reminders_sweep(now=datetime.now(UTC) + STALE_SENDING + timedelta(seconds=1))
    log(f"sweeper run {STALE_SENDING} ahead: {swept}")
    app = Celery("vertebro-soak", broker=fleet.env["CELERY_BROKER_URL"], set_as_current=False)
    fleet.worker_start("worker1")
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline and Reminder.objects.filter(
            status__in=[ReminderStatus.PLANNED, ReminderStatus.SENDING],
            due_at__lte=datetime.now(UTC),
        ).exists():
            app.send_task(DISPATCH_TASK)
            time.sleep(3)
    finally:
        fleet.stop_workers()
        app.close()
    log("a fresh worker sent what the sweep put back")
    return swept


def figures(record_file: Path) -> dict:
    """Rows against the provider calls recorded in the file."""
    from notifications.models import Reminder, ReminderStatus

    calls = Counter()
    if record_file.exists():
        for line in record_file.read_text().splitlines():
            calls[json.loads(line)["reminder_id"]] += 1
    now = datetime.now(UTC)
    rows = list(Reminder.objects.values_list("id", "status", "due_at"))
    status = {row_id: row_status for row_id, row_status, _ in rows}
    sent_states = (ReminderStatus.SENT, ReminderStatus.DELIVERED)
    twice = [row_id for row_id, n in calls.items() if n > 1]
    return {
        "planned": len(rows),
        "statuses": dict(Counter(status.values())),
        "sent": sum(1 for value in status.values() if value in sent_states),
        "calls": sum(calls.values()),
        "duplicated": sum(1 for row_id in twice if status.get(row_id) != ReminderStatus.UNKNOWN),
        "duplicated_unknown": sum(1 for row_id in twice
                                  if status.get(row_id) == ReminderStatus.UNKNOWN),
        "unknown_called": sum(1 for row_id, value in status.items()
                              if value == ReminderStatus.UNKNOWN and calls[row_id]),
        "sent_without_call": sum(1 for row_id, value in status.items()
                                 if value in sent_states and not calls[row_id]),
        "called_not_sent": sum(1 for row_id in calls if status.get(row_id) not in
                               (*sent_states, ReminderStatus.UNKNOWN)),
        "lost": sum(1 for _, value, due in rows if value == ReminderStatus.PLANNED and due <= now),
        "stuck": sum(1 for value in status.values() if value == ReminderStatus.SENDING),
        "later": sum(1 for _, value, due in rows if value == ReminderStatus.PLANNED and due > now),
    }


def print_report(r: dict, args) -> None:
    print()
    print(f"Soak: {args.window / 60:g} min of faults, {args.kills} worker kills, one Redis "
          f"restart, a second beat for 40% of the window, one PostgreSQL restart; 2 workers "
          f"(prefork 2), beat every 30 s, recording backend {DELAY_MS} ms a send; unit in "
          f"{r['zone']}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}.")
    booker = ", ".join(f"{key} {n}" for key, n in sorted(r["booker"].items()) if key != "attempt")
    print(f"Front desk (services): {booker}.")
    settled = r["settle"]
    print(f"Settle: {settled['seconds']} s; at stop {settled['due_open_at_stop']} due and open, "
          f"{settled['sending_at_stop']} sending"
          + (f"; fast-forwarded sweep: {settled['fast_forward']}" if "fast_forward" in settled
             else ""))
    for event, counts in r["after"].items():
        print(f"Provider calls after the {event}, by worker: "
              f"{', '.join(f'{name} {n}' for name, n in sorted(counts.items())) or 'none'}.")
    print(f"Rows by status: {', '.join(f'{k} {n}' for k, n in sorted(r['statuses'].items()))}.")
    print()
    rows = [
        ("reminders planned", r["planned"], ""),
        ("sent", r["sent"], ""),
        ("provider calls recorded", r["calls"], ""),
        ("duplicated (sent twice, outside unknown)", r["duplicated"], "goal 0"),
        ("sent twice, row marked unknown", r["duplicated_unknown"], "allowed"),
        ("unknown rows that did go out", r["unknown_called"], ""),
        ("lost (due, never sent, not final)", r["lost"], "goal 0"),
        ("stuck (still sending)", r["stuck"], "goal 0"),
        ("row says sent, no provider call", r["sent_without_call"], "goal 0"),
        ("provider called, row says otherwise", r["called_not_sent"], "goal 0"),
        ("planned for later (not due)", r["later"], ""),
    ]
    width = max(len(row[0]) for row in rows)
    for label, value, goal in rows:
        verdict = ""
        if goal == "goal 0":
            verdict = f"goal 0: {'met' if value == 0 else 'MISSED'}"
        print(f"{label:<{width}}  {value:>6}  {verdict}")
    emit("soak.py", [
        figure("reminders planned", r["planned"]),
        figure("sent", r["sent"]),
        figure("duplicated (outside unknown)", r["duplicated"], goal="0",
               met=r["duplicated"] == 0),
        figure("lost", r["lost"], goal="0", met=r["lost"] == 0),
        figure("stuck", r["stuck"], goal="0", met=r["stuck"] == 0),
        figure("marked unknown", r["statuses"].get("unknown", 0)),
        figure("provider calls not matching their row",
               r["sent_without_call"] + r["called_not_sent"], goal="0",
               met=r["sent_without_call"] + r["called_not_sent"] == 0),
    ], minutes=round(args.window / 60, 2), kills=args.kills, calls=r["calls"],
        statuses=r["statuses"], settle=settled)


if __name__ == "__main__":
    sys.exit(main())
