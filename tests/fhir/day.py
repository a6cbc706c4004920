"""A realistic day at two sites for the FHIR tests: at the unit ("main"), Tuesday's cases booked
through the booking service, one confirmed, one cancelled, one awaiting review; today's case
checked in and taken into pre-op; at another site ("north") a patient of its own."""

from dataclasses import dataclass

from scheduling.models import Case, CaseStatus, Patient, Site
from tests.bookings import day_booked
from tests.factories import (
    TUESDAY,
    build_unit,
    case_cancelled,
    case_confirmed,
    case_made,
    case_tracked,
)


@dataclass
class Day:
    unit: Site
    north: Site
    tuesday: list[Case]
    confirmed: Case
    cancelled: Case
    in_pre_op: Case
    north_case: Case

    @property
    def north_patient(self) -> Patient:
        return self.north_case.patient


def day_build() -> Day:
    unit = build_unit(code="main", name="Main Street Spine Center")
    north = build_unit(code="north", name="North Campus")
    tuesday = day_booked(unit, 3, day=TUESDAY)
    confirmed = case_confirmed(site=unit, day=TUESDAY, patient={"last_name": "Okafor"})
    cancelled = case_cancelled(site=unit, day=TUESDAY, patient={"last_name": "Lindqvist"})
    in_pre_op = case_tracked(site=unit, through=CaseStatus.IN_PRE_OP,
                             patient={"last_name": "Abernathy"})
    north_case = case_made(site=north, day=TUESDAY,
                           patient={"last_name": "Zebulon", "first_name": "Northa"})
    return Day(unit, north, tuesday, confirmed, cancelled, in_pre_op, north_case)
