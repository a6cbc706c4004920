"""Cases booked through the booking service (no HTTP), for the tests of the services that work
on booked cases."""

from datetime import date

from scheduling import roles
from scheduling.models import Case, Site
from tests.factories import NOW, PatientFactory, UserFactory, case_made

TODAY = NOW.date()  # Monday 2 March 2026 at the test sites


def day_booked(site: Site, count: int, *, day: date = TODAY, **patient) -> list[Case]:
    """`count` cases on `day` (today unless given), each in the site's next free time, for new
    patients (PatientFactory's, with `patient` on top) with no driver yet, booked by a new
    front-desk clerk (who acknowledges that the unit will call a patient nothing reaches)."""
    clerk = UserFactory(roles=[roles.FRONT_DESK], sites=[site])
    return [
        # A patient nothing reaches is booked with the unit's word that it will call them.
        case_made(site=site, day=day, patient=PatientFactory(**patient), by=clerk,
                  driver_name="", driver_phone="", unit_will_call=True)
        for _ in range(count)
    ]
