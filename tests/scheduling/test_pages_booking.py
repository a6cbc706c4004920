"""The booking pages through the HTTP client: the form, free times, booking, the confirmation."""

import html
import re
from datetime import UTC, datetime

import pytest

from scheduling import roles
from scheduling.models import Case, Patient
from tests.conftest import CLEAR_SCREENING, TUESDAY, build_unit
from tests.factories import PatientFactory, UserFactory, case_made

URL = "/book/"
FIRST_START = "2026-03-03T08:30:00-05:00"  # arrival 07:00, when the unit opens
SLOT_LOST = "That time was just taken; here are the free times now."
pytestmark = pytest.mark.django_db


def staff(site, *user_roles):
    user = UserFactory(roles=list(user_roles))
    site.staff.add(user)
    return user


@pytest.fixture
def clerk(client, unit):
    user = staff(unit, roles.FRONT_DESK)
    client.force_login(user)
    return user


def shown_token(client) -> str:
    """Open the form as a browser would; the one-time token it carries."""
    response = client.get(URL)
    assert response.status_code == 200
    return re.search(r'name="token" value="([0-9a-f]+)"', response.content.decode()).group(1)


def booking(token, **overrides) -> dict:
    data = {
        "token": token,
        "first_name": "Margaret",
        "last_name": "Whitfield",
        "date_of_birth": "1948-05-17",
        "mrn": "MRN-1001",
        "phone": "(212) 555-0100",
        "email": "m.whitfield@example.org",
        "preferred_channel": "sms",
        "language": "en",
        **{
            name: ("yes" if value else "no") if isinstance(value, bool) else str(value)
            for name, value in CLEAR_SCREENING.items()
        },
        "driver_name": "Tom Whitfield",
        "driver_phone": "(212) 555-0101",
        "site": "main",
        "procedure_type": "vertebroplasty",
        "levels": "1",
        "surgeon": "",
        "date": TUESDAY.isoformat(),
        "start": FIRST_START,
        "action": "book",
        "no_medicines": "on",
    }
    if "medications" in overrides:
        del data["no_medicines"]  # the clerk ticked medicines instead
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def errors_of(response, field: str) -> str:
    """The text of the error list Django renders beside the field (id_<field>_error), which the
    field's input names in aria-describedby."""
    page = response.content.decode()
    found = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


def counts():
    return Case.objects.count(), Patient.objects.count()


def test_a_clerk_books_a_case_and_sees_what_to_tell_the_patient(client, clerk, unit):
    token = shown_token(client)
    response = client.post(URL, booking(token, medications=["warfarin"]))

    case = Case.objects.get()
    assert response.status_code == 302
    assert response.url == f"/cases/{case.pk}/confirmation/"
    assert case.site == unit
    assert case.booked_by == clerk
    assert case.arrival_at == datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    assert case.patient.phone == "+12125550100"
    assert case.driver_phone == "+12125550101"
    assert [hold.drug.code for hold in case.held_medications.all()] == ["warfarin"]

    page = client.get(response.url).content.decode()
    assert re.search(r"Arrival time</th><td><strong>7:00 AM</strong>", page)  # en-US site
    assert "Tuesday, March 3, 2026" in page
    assert "12:30 AM on Tue Mar 3" in page  # no solids: 8 h before the 8:30 AM start
    assert "6:30 AM on Tue Mar 3" in page  # clear liquids: 2 h before
    assert "Warfarin" in page
    assert "Thursday, February 26, 2026" in page
    assert "Tom Whitfield, phone (212) 555-0101" in page
    assert "/p/" in page  # the patient's own page


def test_show_free_times_lists_the_slots_and_the_next_days_with_room(client, clerk, unit):
    token = shown_token(client)
    response = client.post(URL, booking(token, action="slots", start=None))

    page = response.content.decode()
    assert Case.objects.count() == 0
    assert "Free times on Tuesday, March 3, 2026" in page  # the site's locale: en-US
    assert f'value="{FIRST_START}"' in page
    assert "First available: <strong>8:30 AM</strong>" in page
    assert "the patient arrives 1 h 30 min before" in page  # said once, not beside each time
    assert 'value="2026-03-03T08:35:00-05:00"> 8:35 AM</label>' in page
    assert 'name="show_date" value="2026-03-04"' in page
    assert 'name="show_date" value="2026-03-09"' in page  # Monday after the weekend
    assert 'name="show_date" value="2026-03-07"' not in page  # closed on Saturdays
    assert 'name="show_date" value="2026-03-20"' in page  # the strip: 15 open days from today
    assert 'name="show_date" value="2026-03-23"' not in page

    response = client.post(URL, booking(token, action="slots", start=None, show_date="2026-03-05"))
    assert "Free times on Thursday, March 5, 2026" in response.content.decode()
    assert 'value="2026-03-05T08:30:00-05:00"' in response.content.decode()


BAD = [
    ("missing first name", {"first_name": ""}, "first_name", "Enter the patient's first name."),
    ("missing last name", {"last_name": ""}, "last_name", "Enter the patient's last name."),
    ("missing date of birth", {"date_of_birth": ""}, "date_of_birth",
     "Enter the patient's date of birth."),
    ("malformed date of birth", {"date_of_birth": "yesterday"}, "date_of_birth",
     "Enter the date of birth as MM/DD/YYYY."),
    ("born in the future", {"date_of_birth": "2027-01-01"}, "date_of_birth",
     "The date of birth is in the future."),
    ("missing MRN", {"mrn": ""}, "mrn", "Enter the patient's MRN."),
    ("bad phone", {"phone": "12345"}, "phone", "“12345” is not a valid phone number."),
    ("letters for a phone", {"phone": "call me"}, "phone", "is not a valid phone number."),
    ("bad email", {"email": "not-an-email"}, "email", "Enter a valid email address."),
    ("email channel without an email", {"preferred_channel": "email", "email": ""}, "email",
     "Enter an email address to send messages by email."),
    ("NUL byte in a name", {"last_name": "Whit\x00field"}, "last_name",
     "Null characters are not allowed."),
    ("huge name", {"first_name": "x" * 5000}, "first_name", "at most 80 characters"),
    ("unknown channel", {"preferred_channel": "pigeon"}, "preferred_channel",
     "Select a valid choice."),
    ("unknown MRN to find", {"find_mrn": "NOPE-1"}, "find_mrn",
     "No patient of your sites has the MRN “NOPE-1”"),
    ("bad driver phone", {"driver_phone": "+1 555"}, "driver_phone",
     "is not a valid phone number."),
    ("unanswered screening question", {"active_infection": None}, "active_infection",
     "Answer yes or no."),
    ("screening answer not yes or no", {"traumatic": "maybe"}, "traumatic",
     "Select a valid choice."),
    ("negative weeks", {"conservative_treatment_weeks": "-1"}, "conservative_treatment_weeks",
     "greater than or equal to 0"),
    ("unknown drug", {"medications": ["warfarin", "snake-oil"]}, "medications",
     "“snake-oil” is not in the medication table."),
    ("unknown site", {"site": "nowhere"}, "site", "Select a valid choice."),
    ("unknown procedure", {"procedure_type": "laminectomy"}, "procedure_type",
     "Select a valid choice."),
    ("unknown surgeon", {"surgeon": "dr-nobody"}, "surgeon", "Select a valid choice."),
    ("levels 0", {"levels": "0"}, "levels", "Vertebroplasty treats 1 to 3 levels."),
    ("levels 9", {"levels": "9"}, "levels", "Vertebroplasty treats 1 to 3 levels."),
    ("levels not a number", {"levels": "two"}, "levels", "Enter a number."),
    ("missing date", {"date": ""}, "date", "Enter the procedure date."),
    ("date in the past", {"date": "2026-03-01"}, "date",
     "1 March 2026 has passed at Riverside Spine Center."),
    ("closed day", {"date": "2026-03-07"}, "date",
     "Riverside Spine Center is closed on Saturday, March 7, 2026."),
    ("no time chosen", {"start": ""}, "start", "Choose one of the free times below."),
    ("malformed time", {"start": "half past eight"}, "start", "Choose one of the free times"),
    ("time off the grid", {"start": "2026-03-03T10:02:00-05:00"}, "start",
     "Start at a multiple of 5 minutes"),
    ("time before opening", {"start": "2026-03-03T07:30:00-05:00"}, "start",
     "outside opening hours (07:00-18:00)"),
    ("time on another day", {"start": "2026-03-04T08:30:00-05:00"}, "start",
     "is not on 2026-03-03"),
]


@pytest.mark.parametrize(
    ("overrides", "field", "message"), [case[1:] for case in BAD], ids=[case[0] for case in BAD]
)
def test_bad_input_is_told_next_to_its_field_and_nothing_is_saved(
    client, clerk, unit, overrides, field, message
):
    before = counts()
    token = shown_token(client)

    response = client.post(URL, booking(token, **overrides))

    assert response.status_code == 200
    assert message in errors_of(response, field)
    page = response.content.decode()
    # The input (or its group) points at the message for assistive technology.
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error', page)
    assert counts() == before


def test_a_blocking_answer_tells_the_clerk_the_booking_goes_to_a_clinician(client, clerk, unit):
    token = shown_token(client)
    response = client.post(URL, booking(token, action="slots", cement_allergy="yes"))

    page = response.content.decode()
    assert "Screening blocks this booking" in page
    assert "This booking will go to a clinician for review" in page
    assert 'name="override_reason"' not in page
    assert "Book for a clinician's review" in page  # no dead end: it can be booked


def test_a_clinician_overrides_a_blocking_answer_with_a_reason(client, unit):
    clinician = staff(unit, roles.CLINICIAN)
    client.force_login(clinician)
    token = shown_token(client)
    assert "Screening override: reason" in client.get(URL).content.decode()

    refused = client.post(URL, booking(token, cement_allergy="yes"))
    assert "Write why the case goes ahead" in errors_of(refused, "override_reason")
    assert counts() == (0, 0)

    reason = "Patch test negative; discussed with the patient."
    response = client.post(URL, booking(token, cement_allergy="yes", override_reason=reason))

    case = Case.objects.get()
    assert response.status_code == 302
    assert case.cement_allergy is True
    assert case.screening_override_reason == reason
    assert case.screening_overridden_by == clinician
    assert reason in client.get(response.url).content.decode()


def test_a_slot_taken_meanwhile_is_told_with_the_free_times_now(client, tiny_unit):
    client.force_login(staff(tiny_unit, roles.FRONT_DESK))
    token = shown_token(client)
    shown = client.post(URL, booking(token, action="slots"))
    assert f'value="{FIRST_START}"' in shown.content.decode()

    # Another clerk books that time for another patient (not a second Margaret Whitfield,
    # whom the form would offer to reuse).
    case_made(site=tiny_unit, start=FIRST_START, patient=PatientFactory(mrn="MRN-OTHER"),
              driver_name="")
    response = client.post(URL, booking(token))

    page = response.content.decode()
    assert response.status_code == 200
    assert SLOT_LOST in errors_of(response, "start")
    assert f'value="{FIRST_START}"' not in page
    assert re.search(r'name="start" value="2026-03-03T\d\d:\d\d:00-05:00"', page)
    assert Case.objects.count() == 1
    assert not Patient.objects.filter(mrn="MRN-1001").exists()


def test_a_double_submit_books_one_case(client, clerk, unit):
    token = shown_token(client)
    first = client.post(URL, booking(token))
    second = client.post(URL, booking(token))

    assert first.status_code == second.status_code == 302
    assert second.url == first.url
    assert counts() == (1, 1)


def test_a_new_form_can_book_the_next_patient(client, clerk, unit):
    client.post(URL, booking(shown_token(client)))
    response = client.post(
        URL, booking(shown_token(client), first_name="Arthur", mrn="MRN-1002", start=None,
                     action="book")
    )
    assert "Choose one of the free times" in errors_of(response, "start")
    response = client.post(
        URL,
        booking(shown_token(client), first_name="Arthur", mrn="MRN-1002",
                start="2026-03-03T10:00:00-05:00"),
    )
    assert response.status_code == 302
    assert counts() == (2, 2)


@pytest.mark.parametrize(
    "registered",
    [
        {"mrn": "MRN-1001", "first_name": "Maggie", "last_name": "Whitfield-Jones"},
        {"mrn": "MRN-0042", "first_name": "MARGARET", "last_name": "whitfield"},
    ],
    ids=["same MRN", "same name and date of birth"],
)
def test_a_duplicate_patient_is_offered_for_reuse(client, clerk, unit, registered):
    existing = PatientFactory(**registered, known_at=[unit])
    token = shown_token(client)

    offered = client.post(URL, booking(token))

    page = offered.content.decode()
    assert offered.status_code == 200
    assert "already registered" in errors_of(offered, "mrn") + errors_of(offered, "last_name")
    assert f'name="use_patient" value="{existing.pk}"' in page
    assert counts() == (0, 1)

    response = client.post(URL, booking(token, use_patient=str(existing.pk)))

    assert response.status_code == 302
    assert Case.objects.get().patient == existing
    assert Patient.objects.count() == 1


def test_a_different_person_with_the_same_name_and_birthday_can_be_registered(
    client, clerk, unit
):
    PatientFactory(mrn="MRN-0042", first_name="Margaret", last_name="Whitfield", known_at=[unit])
    token = shown_token(client)
    offered = client.post(URL, booking(token))
    assert "None of these" in offered.content.decode()

    response = client.post(URL, booking(token, register_anyway="on"))

    assert response.status_code == 302
    assert Patient.objects.count() == 2
    assert Case.objects.get().patient.mrn == "MRN-1001"


def test_a_registered_patient_is_found_by_mrn(client, clerk, unit):
    existing = PatientFactory(mrn="MRN-0042", known_at=[unit])
    token = shown_token(client)
    blank = dict.fromkeys(("first_name", "last_name", "date_of_birth", "mrn", "phone", "email"), "")

    shown = client.post(URL, booking(token, find_mrn="mrn-0042", action="slots", **blank))
    assert f"Booking for <strong>{existing.last_name}, Margaret</strong>" in shown.content.decode()

    response = client.post(URL, booking(token, find_mrn="MRN-0042", **blank))
    assert response.status_code == 302
    assert Case.objects.get().patient == existing
    assert Patient.objects.count() == 1


def test_what_is_typed_under_register_is_ignored_for_a_found_patient(client, clerk, unit):
    existing = PatientFactory(mrn="MRN-0042", known_at=[unit])
    response = client.post(URL, booking(shown_token(client), find_mrn="MRN-0042", phone="12"))
    assert response.status_code == 302
    assert Case.objects.get().patient == existing
    assert Patient.objects.count() == 1


def test_a_form_from_an_old_session_is_not_booked_blind(client, clerk, unit):
    response = client.post(URL, booking("0" * 32))

    assert "This form had expired" in response.content.decode()
    assert counts() == (0, 0)
    token = re.search(r'name="token" value="([0-9a-f]+)"', response.content.decode()).group(1)
    assert client.post(URL, booking(token)).status_code == 302
    assert counts() == (1, 1)


def test_the_same_patient_cannot_be_booked_twice_on_one_day(client, clerk, unit):
    existing = PatientFactory(mrn="MRN-0042", known_at=[unit])
    client.post(URL, booking(shown_token(client), find_mrn="MRN-0042"))

    response = client.post(URL, booking(shown_token(client), find_mrn="MRN-0042",
                                        start="2026-03-03T10:00:00-05:00"))

    assert "already has an active case on 3 March 2026" in errors_of(response, "date")
    assert list(Case.objects.values_list("patient", flat=True)) == [existing.pk]


def test_a_clerk_cannot_book_at_a_site_they_do_not_work_at(client, clerk, unit):
    build_unit(code="north", name="North Spine Clinic")
    response = client.post(URL, booking(shown_token(client), site="north"))
    assert "Select a valid choice." in errors_of(response, "site")
    assert counts() == (0, 0)


def test_a_nurse_may_not_book(client, unit):
    nurse = staff(unit, roles.NURSE)
    client.force_login(nurse)
    assert client.get(URL).status_code == 403
    assert client.post(URL, booking("x")).status_code == 403
    assert counts() == (0, 0)


def test_pages_need_a_login(client, unit):
    case = case_made(site=unit, driver_name="")
    for url in (URL, f"/cases/{case.pk}/confirmation/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")


def test_every_staff_role_reads_the_confirmation_of_its_sites_cases(client, unit):
    case = case_made(site=unit, driver_name="")
    for role in roles.ALL_ROLES:
        client.force_login(staff(unit, role))
        assert client.get(f"/cases/{case.pk}/confirmation/").status_code == 200, role


def test_another_sites_case_is_not_found(client, clerk, unit):
    north = build_unit(code="north", name="North Spine Clinic")
    case = case_made(site=north, driver_name="")

    assert client.get(f"/cases/{case.pk}/confirmation/").status_code == 404
    assert client.get("/cases/99999999999999999999/confirmation/").status_code == 404
    client.force_login(staff(north, roles.FRONT_DESK))
    assert client.get(f"/cases/{case.pk}/confirmation/").status_code == 200
