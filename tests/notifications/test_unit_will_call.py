"""No silent patients (issue 15, item 4): a patient with no phone for text messages, or no email
for email, is booked only with the unit's word that it will call them; such cases are on the
front desk's call list for the day before until marked called."""

import re
from datetime import timedelta

import pytest

from scheduling import roles
from scheduling.errors import SchedulingError
from scheduling.models import Case, Patient
from scheduling.services.calls import unit_called
from tests.conftest import case_payload, client_for
from tests.factories import TUESDAY, UserFactory, case_made

pytestmark = pytest.mark.django_db

NO_PHONE = {"phone": "", "email": "", "preferred_channel": "sms"}


@pytest.mark.parametrize(
    "contact",
    [
        NO_PHONE,
        {"phone": "", "email": "m@example.org", "preferred_channel": "sms"},
        {"phone": "+12125550100", "email": "", "preferred_channel": "email"},
    ],
    ids=["neither", "email but messages by text", "phone but messages by email"],
)
def test_a_patient_nothing_reaches_needs_the_unit_s_word(unit, contact):
    with pytest.raises(SchedulingError) as refused:
        case_made(site=unit, patient=contact)
    assert refused.value.code == "unit_will_call_required"
    assert not Case.objects.exists()

    case = case_made(site=unit, patient=contact, unit_will_call=True)
    assert case.unit_will_call is True


def test_a_reachable_patient_is_not_put_on_the_call_list(unit):
    assert case_made(site=unit, unit_will_call=True).unit_will_call is False


def test_the_api_answers_400_with_a_stable_code_and_records_the_acknowledgement(unit):
    front_desk = client_for(roles.FRONT_DESK)
    silent = case_payload(patient=case_payload()["patient"] | {"phone": "", "email": ""})

    refused = front_desk.post("/api/v1/cases/", silent, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "unit_will_call_required"
    assert "unit_will_call" in refused.json()["errors"]
    assert not Case.objects.exists()

    booked = front_desk.post("/api/v1/cases/", silent | {"unit_will_call": True}, format="json")
    assert booked.status_code == 201
    assert booked.json()["unit_will_call"] is True


def booking_form(client) -> dict:
    token = re.search(r'name="token" value="([0-9a-f]+)"',
                      client.get("/book/").content.decode()).group(1)
    return {
        "token": token, "first_name": "Margaret", "last_name": "Whitfield",
        "date_of_birth": "1948-05-17", "mrn": "MRN-1001", "phone": "",
        "preferred_channel": "sms", "language": "en", "active_infection": "no",
        "fracture_painful": "yes", "bleeding_disorder": "no", "tumor_in_canal": "no",
        "cement_allergy": "no", "traumatic": "no", "conservative_treatment_weeks": "8",
        "imaging_on_file": "yes", "site": "main", "procedure_type": "vertebroplasty",
        "levels": "1", "date": TUESDAY.isoformat(), "start": "2026-03-03T08:30:00-05:00",
        "action": "book", "driver_name": "Tom Whitfield", "driver_phone": "(212) 555-0101",
        "no_medicines": "on",
    }


def test_the_booking_form_asks_for_the_acknowledgement_with_a_clear_error(client, unit):
    clerk = UserFactory(roles=[roles.FRONT_DESK])
    unit.staff.add(clerk)
    client.force_login(clerk)
    data = booking_form(client)

    refused = client.post("/book/", data)
    assert refused.status_code == 200
    page = refused.content.decode()
    assert "No reminder would reach this patient" in page
    assert 'name="unit_will_call"' in page
    assert not Case.objects.exists()
    assert not Patient.objects.exists()

    booked = client.post("/book/", data | {"unit_will_call": "on"})
    assert booked.status_code == 302
    assert Case.objects.get().unit_will_call is True


def test_such_cases_are_on_the_call_list_the_day_before_until_called(unit, clock):
    front_desk = client_for(roles.FRONT_DESK)
    tuesday = case_made(site=unit, patient=NO_PHONE, unit_will_call=True)
    case_made(site=unit, patient=NO_PHONE, unit_will_call=True, day=TUESDAY + timedelta(days=1))
    case_made(site=unit, day=TUESDAY)  # reachable: never on the list

    # Monday: Tuesday's patient is called, Wednesday's not yet.
    listed = front_desk.get("/api/v1/messages/unit-will-call/").json()
    assert [row["case"] for row in listed] == [tuesday.pk]

    answer = front_desk.post(f"/api/v1/cases/{tuesday.pk}/unit-called/")
    assert answer.status_code == 200
    assert front_desk.get("/api/v1/messages/unit-will-call/").json() == []
    tuesday.refresh_from_db()
    assert tuesday.unit_called_by == front_desk.user


def test_a_reachable_case_cannot_be_marked_called(unit):
    case = case_made(site=unit)
    with pytest.raises(SchedulingError) as refused:
        unit_called(case=case, by=case.booked_by)
    assert refused.value.code == "not_on_call_list"


def test_the_call_list_keeps_to_the_user_s_sites(unit):
    case_made(site=unit, patient=NO_PHONE, unit_will_call=True)
    elsewhere = client_for(roles.FRONT_DESK, sites=[])
    assert elsewhere.get("/api/v1/messages/unit-will-call/").json() == []
