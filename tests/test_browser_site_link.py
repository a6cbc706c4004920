"""A front-desk clerk of a second site, in a real browser: the MRN of another site's patient finds
nothing and shows nothing of them; the same MRN with the patient's date of birth and last name
books for the record that site keeps. axe-core finds no serious or critical problem on either
page; screenshots at phone, tablet and desktop widths go to /tmp/shots/ for a person to look at."""

from pathlib import Path

import pytest

from scheduling import roles
from scheduling.models import Case, Patient, PatientSite
from tests.axe import axe_source, serious
from tests.conftest import TUESDAY, build_unit, case_booked, client_for, log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

FIRST_NAME, LAST_NAME, MRN, BORN = "Zebulon", "Quixtanova", "MRN-A-7731", "1944-03-17"
A_DETAILS = [FIRST_NAME, LAST_NAME, BORN, "17 March 1944", "5550177", "zq@example.org"]
ANSWERS = {
    "active infection": "No", "fracture painful": "Yes", "bleeding disorder": "No",
    "tumor spread": "No", "allergic to bone cement": "No", "caused by an injury": "No",
    "pre-op imaging": "Yes",
}
SHOTS = Path("/tmp/shots")
SIZES = {"phone": (390, 844), "tablet": (1024, 768), "desktop": (1440, 900)}


@pytest.fixture
def clerk_b():
    """A's patient booked at A on the Wednesday; B's clerk works at North only."""
    riverside = build_unit()
    north = build_unit(code="north", name="North Spine Center")
    case_booked(client_for(roles.FRONT_DESK, sites=[riverside]), date="2026-03-04", patient={
        "first_name": FIRST_NAME, "last_name": LAST_NAME, "date_of_birth": BORN, "mrn": MRN,
        "phone": "+12125550177", "email": "zq@example.org", "preferred_channel": "sms",
        "language": "en",
    })
    return UserFactory(roles=[roles.FRONT_DESK], sites=[north])


class Clerk:
    """Drives the booking page by labels and roles, counting what the clerk does."""

    def __init__(self, page):
        self.page, self.actions = page, 0

    def fill(self, label: str, value: str) -> None:
        self.page.get_by_label(label, exact=True).fill(value)
        self.actions += 1

    def answer(self, question: str, answer: str) -> None:
        self.page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
        self.actions += 1

    def press(self, button: str) -> None:
        self.page.get_by_role("button", name=button, exact=True).click()
        self.actions += 1

    def finds_by_mrn_and_shows_free_times(self) -> None:
        self.page.get_by_role("heading", name="Book a case").wait_for()  # where a clerk lands
        self.page.goto("/book/")
        self.fill("Find a registered patient", MRN)
        for question, answer in ANSWERS.items():
            self.answer(question, answer)
        self.fill("Weeks of conservative treatment tried (rest, pain relief, brace)", "8")
        self.page.get_by_label("Takes none of these").check()
        self.actions += 1
        self.fill("Procedure date", TUESDAY.isoformat())
        self.press("Find")

    def registers_with_proof(self) -> None:
        """Find checks the patient typed in as well: proven, they are linked to this site."""
        self.fill("Find a registered patient", "")
        self.fill("First name", "Zeb")
        self.fill("Last name", LAST_NAME)
        self.fill("Date of birth", BORN)
        self.fill("MRN", MRN)
        self.fill("Mobile phone", "(212) 555-0123")
        self.press("Find")


def shown(page) -> str:
    return page.locator("main").inner_text()


def test_a_clerk_of_another_site_finds_nothing_by_mrn_then_books_the_proven_patient(
    page, clerk_b
):
    log_in(page, clerk_b.username)
    clerk = Clerk(page)

    clerk.finds_by_mrn_and_shows_free_times()
    assert f"No patient of your sites has the MRN “{MRN}”" in shown(page)
    assert [detail for detail in A_DETAILS if detail in page.content()] == []
    assert PatientSite.objects.count() == 0

    clerk.registers_with_proof()
    found = page.get_by_role("status").filter(has_text="Booking for")
    assert found.inner_text().startswith(f"Booking for {LAST_NAME}, {FIRST_NAME}, born")
    SHOTS.mkdir(exist_ok=True)
    for name, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        found.scroll_into_view_if_needed()
        page.screenshot(path=SHOTS / f"booking-for-{name}.png")
        if name == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.get_by_role("group", name="Free times on Tuesday, March 3, 2026").get_by_role(
        "radio").first.check()
    clerk.actions += 1
    clerk.press("Book")
    page.get_by_role("heading", name="Booking confirmation").wait_for()
    assert Patient.objects.count() == 1
    booked = Case.objects.get(site__code="north")
    assert booked.patient.first_name == FIRST_NAME
    assert PatientSite.objects.get().patient == booked.patient
    # 12 to the first "Find" (the MRN, 7 screening answers and the weeks, "takes none", the
    # date, the button), 7 to register with proof (clear the MRN, 5 fields, the button), a time,
    # Book.
    assert clerk.actions == 12 + 7 + 2


def test_axe_finds_nothing_serious_on_the_refusal_nor_on_booking_for(page, clerk_b):
    source = axe_source()
    log_in(page, clerk_b.username)
    clerk = Clerk(page)
    clerk.finds_by_mrn_and_shows_free_times()
    page.get_by_role("alert").get_by_text("No patient of your sites has the MRN").wait_for()
    assert serious(page, source) == []
    clerk.registers_with_proof()
    page.get_by_role("status").filter(has_text="Booking for").wait_for()
    assert serious(page, source) == []
