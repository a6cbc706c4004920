"""The stages that hold a day's rooms, bays and surgeons are read by time range, through the
no-overlap constraints' GiST indexes: a unit with years of history reads one day, not every
stage its rooms have ever held."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling.models import Site
from scheduling.unit_day import UnitDay
from tests.factories import TUESDAY, build_unit, case_made

pytestmark = pytest.mark.django_db


def busy_of(site: Site, day=TUESDAY):
    unit_day = UnitDay.load(site=site, day=day)
    return unit_day.busy(after_closing=timedelta(minutes=15))


def test_only_the_days_stages_and_every_one_of_them_are_read(unit):
    today = case_made(site=unit)
    case_made(site=unit, day=TUESDAY + timedelta(days=1))
    case_made(site=unit, day=TUESDAY + timedelta(days=7))

    busy = busy_of(unit)

    assert len(busy) == today.stages.count()
    assert {stage.start for stage in busy} == {
        stage.planned_start.timestamp() for stage in today.stages.all()
    }


def test_a_surgeon_busy_at_another_site_that_day_is_read_with_their_stage(unit):
    other = build_unit(code="north")
    surgeon = unit.surgeons.get()
    surgeon.sites.add(other)
    elsewhere = case_made(site=other, surgeon=surgeon)

    busy = busy_of(unit)

    procedure = elsewhere.stages.get(surgeon=surgeon)
    assert [(stage.surgeon_id, stage.start) for stage in busy if stage.surgeon_id] == [
        (surgeon.pk, procedure.planned_start.timestamp())
    ]


@pytest.mark.postgres
def test_postgresql_asks_for_the_day_as_the_no_overlap_indexes_are_built(unit):
    """The read names the ranges exactly as the constraints' GiST indexes do (migration 0002), so
    PostgreSQL can answer it from them; which plan it picks depends on the table's size."""
    case_made(site=unit)
    with CaptureQueriesContext(connection) as read:
        busy_of(unit)
    sql = read.captured_queries[-1]["sql"]

    for end in ("held_until", "planned_end"):
        assert (
            f'tstzrange("scheduling_stage"."planned_start", "scheduling_stage"."{end}", \'[)\') &&'
            in sql
        ), sql
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "tstzrange(planned_start, held_until, '[)'::text) &&" in plan, plan
