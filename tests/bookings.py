"""Cases booked through the booking service (no HTTP), for the tests of the services that work
on booked cases."""

from datetime import date

from scheduling import roles, services
from scheduling.models import Case, ProcedureType, Site
from scheduling.screening import ScreeningAnswers
from tests.conftest import CLEAR_SCREENING, NOW
from tests.factories import PatientFactory, UserFactory

TODAY = NOW.date()  # Monday 2 March 2026 at the test sites


def day_booked(site: Site, count: int, *, day: date = TODAY, **patient) -> list[Case]:
    """`count` cases on `day` (today unless given), each in the site's next free time, for new
    patients (PatientFactory's, with `patient` on top) booked by a new front-desk clerk."""
    clerk = UserFactory(roles=[roles.FRONT_DESK])
    site.staff.add(clerk)
    return [
        services.case_book(
            site=site,
            procedure_type=ProcedureType.objects.get(code="vertebroplasty"),
            levels=1,
            day=day,
            patient=PatientFactory(**patient),
            screening=ScreeningAnswers(**CLEAR_SCREENING),
            booked_by=clerk,
        )
        for _ in range(count)
    ]
