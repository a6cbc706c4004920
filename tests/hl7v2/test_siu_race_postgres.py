"""Two changes of one case at the same moment, committed for real: each is told in its own
place in the case's order. The services' lock on the case serialises them, so the second reads
the first's message before it numbers its own (without the lock both would take number 2 and
one would fail on the unique constraint)."""

from datetime import datetime

import pytest

from hl7v2.models import OutboundMessage
from scheduling.services import case_reschedule
from tests.factories import case_made
from tests.hl7v2.siu_read import ENDPOINTS, parsed
from tests.threads import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_moves_at_once_are_told_in_turn(unit, settings):
    settings.HL7_ENDPOINTS = ENDPOINTS
    case = case_made(site=unit, start="2026-03-03T09:00:00-05:00")
    clerk = case.booked_by
    moves = [
        datetime.fromisoformat("2026-03-04T10:00:00-05:00"),
        datetime.fromisoformat("2026-03-05T10:00:00-05:00"),
    ]
    results = run_together([
        lambda start=start: case_reschedule(case=case, by=clerk, start=start) for start in moves
    ])
    assert not [result for result in results if isinstance(result, BaseException)]
    for endpoint in ENDPOINTS:
        rows = list(
            OutboundMessage.objects.filter(case=case, endpoint=endpoint).order_by("sequence")
        )
        assert [(row.trigger, row.sequence) for row in rows] == [
            ("S12", 1), ("S13", 2), ("S13", 3)
        ]
        assert {parsed(row)["SCH.F1.R1.C1"] for row in rows} == {str(case.pk)}
    case.refresh_from_db()
    last = parsed(rows[-1])
    # The last message told is the case as it stands.
    assert last["SCH.F11.R1.C4"] == case.stages.order_by("position").first().planned_start \
        .astimezone(unit.zone).strftime("%Y%m%d%H%M%S%z")
