"""A proposal is booked exactly: the rooms, bays and surgeons applied are the solver's, and no
room, bay or surgeon holds two patients at once, in the proposal or in the database.

The day is one of the three-room days where naming the rooms after solving by replaying the
front desk's choice (first free unit and surgeon by name, case by case in start order) put two
patients in one recovery bay: 3 rooms, 3 pre-op and 3 recovery bays, a full-day surgeon, a
morning one and an afternoon one, and twelve waiting patients, some asking for a surgeon."""

from datetime import time

import pytest

from scheduling.models import Case, Stage, WaitingListEntry
from scheduling.plan.proposal import plan_apply, plan_propose
from tests.conftest import TUESDAY
from tests.factories import SurgeonFactory, UserFactory, build_unit
from tests.scheduling.test_plan_day import ids_starting_at, wait

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

PRIORITY = {1: "routine", 2: "soon", 3: "urgent"}
# (levels, priority rank, surgeon asked for): one seeded draw of the three-room family.
ASKED = [(1, 1, None), (1, 1, None), (1, 1, None), (2, 1, None), (3, 1, "afternoon"),
         (2, 1, None), (1, 2, None), (3, 2, "full"), (3, 2, "afternoon"), (3, 1, "morning"),
         (1, 1, None), (3, 1, None)]


def three_room_day():
    site = build_unit(rooms=3, pre_op_bays=3, recovery_bays=3, surgeons=0)
    tuesday = TUESDAY.weekday()
    surgeons = {
        "full": SurgeonFactory(name="Dr A Full", sites=[site],
                               hours={tuesday: (time(7), time(18))}),
        "morning": SurgeonFactory(name="Dr B Morning", sites=[site],
                                  hours={tuesday: (time(7), time(12, 30))}),
        "afternoon": SurgeonFactory(name="Dr C Afternoon", sites=[site],
                                    hours={tuesday: (time(12, 30), time(18))}),
    }
    for levels, rank, named in ASKED:
        wait(site, levels=levels, priority=PRIORITY[rank],
             surgeon=surgeons[named] if named else None)
    return site


def overlaps(spans: dict[str, list[tuple]]) -> list[tuple]:
    found = []
    for holder, held in spans.items():
        held.sort()
        for i, (_, end, key) in enumerate(held):
            found += [(holder, key, other) for s, _, other in held[i + 1:]
                      if s < end and other != key]
    return found


def proposed_spans(proposal) -> dict[str, list[tuple]]:
    day = proposal.loaded.day
    spans: dict[str, list[tuple]] = {}
    for request in day.requests:
        placement = proposal.plan.placements.get(request.key)
        if placement is None:
            continue
        shape = day.shape(request)
        for hold, unit in zip(shape.holds, placement.units, strict=True):
            spans.setdefault(unit, []).append(
                (placement.start + hold.begin, placement.start + hold.until, request.key))
        for begin, end in shape.surgeon_spans:
            spans.setdefault(f"surgeon {placement.surgeon}", []).append(
                (placement.start + begin, placement.start + end, request.key))
    return spans


def booked_spans(site) -> dict[str, list[tuple]]:
    spans: dict[str, list[tuple]] = {}
    for stage in Stage.objects.filter(case__site=site, active=True).select_related("case"):
        spans.setdefault(str(stage.resource_id), []).append(
            (stage.planned_start, stage.held_until, stage.case_id))
        if stage.surgeon_id is not None:
            spans.setdefault(f"surgeon {stage.surgeon_id}", []).append(
                (stage.planned_start, stage.planned_end, stage.case_id))
    return spans


def test_the_proposal_and_the_applied_day_hold_no_room_bay_or_surgeon_twice():
    # Fixed ids: the keys' order decided the old replay's order among equal starts.
    with ids_starting_at(1):
        site = three_room_day()
    proposal = plan_propose(site=site, day=TUESDAY, waiting_list=True, time_limit=10)
    assert proposal.plan.placed >= 8
    assert overlaps(proposed_spans(proposal)) == []

    changed = plan_apply(site=site, day=TUESDAY, token=proposal.token, by=UserFactory())
    assert len(changed) == proposal.plan.placed
    assert overlaps(booked_spans(site)) == []
    # Each patient got exactly the rooms, bays and surgeon proposed.
    entries = WaitingListEntry.objects.select_related("case").in_bulk()
    for key, placement in proposal.plan.placements.items():
        case = entries[int(key.split(":")[1])].case
        stages = list(case.stages.order_by("position"))
        units = []
        for stage in stages:
            if not units or units[-1] != str(stage.resource_id):
                units.append(str(stage.resource_id))
        assert tuple(units) == placement.units
        assert str(case.surgeon_id) == placement.surgeon
    assert Case.objects.filter(site=site).count() == proposal.plan.placed
