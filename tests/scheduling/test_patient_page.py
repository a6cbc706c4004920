"""The patient's record (/patients/<id>/): read by every staff role for the patients of their
sites, corrected by the front desk, clinicians and admins through patient_update, which
re-plans the unsent messages and leaves the change, with who made it, in the audit log."""

import re

import pytest

from notifications.models import Reminder, ReminderStatus
from scheduling import roles
from scheduling.models import Patient
from tests.factories import PatientFactory, UserFactory, build_unit, case_made

pytestmark = pytest.mark.django_db


def staff(client, site, *user_roles):
    user = UserFactory(roles=list(user_roles), sites=[site], first_name="Fran", last_name="Desk")
    client.force_login(user)
    return user


def edit(patient, **changes) -> dict:
    """The edit form as the page fills it, with `changes`."""
    data = {
        "phone": patient.phone, "email": patient.email,
        "preferred_channel": patient.preferred_channel, "language": patient.language,
        "allergy_other": patient.allergy_other,
    }
    for name in ("allergy_contrast", "allergy_latex"):
        if getattr(patient, name):
            data[name] = "on"
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


@pytest.fixture
def case(unit):
    return case_made(site=unit, patient={"language": "en"})


def test_a_nurse_reads_the_contact_details_allergies_and_cases(client, unit, case):
    patient = case.patient
    Patient.objects.filter(pk=patient.pk).update(allergy_latex=True, allergy_other="Penicillin")
    staff(client, unit, roles.NURSE)

    response = client.get(f"/patients/{patient.pk}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "+12125550100" in page
    assert patient.email in page
    assert "Penicillin" in page
    assert f'href="/cases/{case.pk}/"' in page
    # A nurse reads but neither edits nor books.
    assert 'id="patient-edit"' not in page
    assert "Book for this patient" not in page
    assert "no-store" in response["Cache-Control"]


def test_a_patient_of_another_site_is_not_found(client, unit):
    other = build_unit(code="north", name="North Spine Center")
    theirs = PatientFactory(known_at=[other])
    staff(client, unit, roles.FRONT_DESK)

    assert client.get(f"/patients/{theirs.pk}/").status_code == 404
    assert client.post(f"/patients/{theirs.pk}/", edit(theirs, phone="")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.phone == "+12125550100"


def test_only_another_sites_cases_are_left_out(client, unit, case):
    other = build_unit(code="north", name="North Spine Center")
    there = case_made(site=other, patient=case.patient, day=case.day.replace(day=4))
    staff(client, unit, roles.CLINICIAN)

    page = client.get(f"/patients/{case.patient.pk}/").content.decode()

    assert f'href="/cases/{case.pk}/"' in page
    assert f'href="/cases/{there.pk}/"' not in page
    assert "North Spine Center" not in page


def test_a_nurse_may_not_edit(client, unit, case):
    staff(client, unit, roles.NURSE)
    response = client.post(f"/patients/{case.patient.pk}/", edit(case.patient, phone=""))
    assert response.status_code == 403
    case.patient.refresh_from_db()
    assert case.patient.phone == "+12125550100"


def test_a_new_phone_is_normalised_and_the_unsent_messages_go_to_it(client, unit, case):
    staff(client, unit, roles.FRONT_DESK)
    before = set(
        Reminder.objects.filter(case=case, audience="patient", status=ReminderStatus.PLANNED)
        .values_list("kind", flat=True)
    )
    assert before

    response = client.post(
        f"/patients/{case.patient.pk}/", edit(case.patient, phone="(212) 555-0199")
    )

    assert response.status_code == 302
    case.patient.refresh_from_db()
    assert case.patient.phone == "+12125550199"
    planned = Reminder.objects.filter(case=case, audience="patient", status="planned")
    assert set(planned.values_list("kind", flat=True)) == before
    assert set(planned.filter(channel="sms").values_list("recipient", flat=True)) == {
        "+12125550199"
    }
    old = Reminder.objects.filter(case=case, recipient="+12125550100")
    assert old.exists()
    assert set(old.values_list("status", flat=True)) == {ReminderStatus.CANCELLED}


def test_a_message_already_sent_is_not_sent_again_after_a_change(client, unit, case):
    sent = Reminder.objects.filter(case=case, audience="patient").order_by("due_at").first()
    Reminder.objects.filter(pk=sent.pk).update(status=ReminderStatus.SENT)
    staff(client, unit, roles.FRONT_DESK)

    client.post(f"/patients/{case.patient.pk}/", edit(case.patient, language="es"))

    again = Reminder.objects.filter(case=case, rule_id=sent.rule_id, note=sent.note)
    assert list(again.values_list("status", flat=True)) == [ReminderStatus.SENT]


def test_email_messages_need_an_email_address(client, unit, case):
    staff(client, unit, roles.FRONT_DESK)

    response = client.post(
        f"/patients/{case.patient.pk}/", edit(case.patient, email="", preferred_channel="email")
    )

    assert response.status_code == 200
    assert "Enter an email address to send messages by email." in response.content.decode()
    case.patient.refresh_from_db()
    assert case.patient.preferred_channel == "sms"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"email": "not an address"}, "email"),
        ({"language": "xx"}, "language"),
        ({"preferred_channel": "pigeon"}, "preferred_channel"),
        ({"allergy_other": "x" * 241}, "allergy_other"),
        ({"phone": "\x00"}, "phone"),
    ],
)
def test_bad_input_is_told_next_to_its_field_and_nothing_is_saved(
    client, unit, case, changes, field
):
    staff(client, unit, roles.FRONT_DESK)

    response = client.post(f"/patients/{case.patient.pk}/", edit(case.patient, **changes))

    assert response.status_code == 200
    assert f'id="id_{field}_error' in response.content.decode()
    fresh = Patient.objects.get(pk=case.patient.pk)
    assert (fresh.phone, fresh.email, fresh.language) == (
        case.patient.phone, case.patient.email, case.patient.language
    )


def test_who_changed_what_is_on_the_record(client, unit, case):
    staff(client, unit, roles.FRONT_DESK)

    client.post(f"/patients/{case.patient.pk}/", edit(case.patient, allergy_contrast="on"))
    response = client.get(f"/patients/{case.patient.pk}/")

    changes = response.content.decode().split('id="patient-changes"')[1]
    assert "Fran Desk" in changes
    assert "Allergic to contrast: no → yes" in changes
    case.patient.refresh_from_db()
    assert case.patient.allergy_contrast


def test_search_results_lead_to_the_record_and_to_booking_for_the_patient(client, unit, case):
    staff(client, unit, roles.FRONT_DESK)
    patient = case.patient

    page = client.get("/patients/", {"q": patient.mrn}).content.decode()

    assert f'href="/patients/{patient.pk}/"' in page
    assert f'href="/book/?patient={patient.pk}"' in page
    booking = client.get(f"/book/?patient={patient.pk}").content.decode()
    assert f'value="{patient.mrn}"' in booking
    # Said at once, with no empty registration that looks as if the patient were still unknown.
    assert f"Booking for <strong>{patient.last_name}, {patient.first_name}</strong>" in booking
    assert "Or register a new patient" not in booking


def test_booking_for_another_sites_patient_starts_empty(client, unit):
    other = build_unit(code="north", name="North Spine Center")
    theirs = PatientFactory(known_at=[other])
    staff(client, unit, roles.FRONT_DESK)

    booking = client.get(f"/book/?patient={theirs.pk}").content.decode()

    assert theirs.mrn not in booking


def test_the_case_page_links_to_the_patients_record(client, unit, case):
    staff(client, unit, roles.NURSE)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/patients/{case.patient.pk}/"' in page


@pytest.mark.parametrize("role", [roles.FRONT_DESK, roles.CLINICIAN, roles.ADMIN])
def test_the_front_desk_clinicians_and_admins_correct_the_record(client, unit, case, role):
    staff(client, unit, role)

    response = client.post(
        f"/patients/{case.patient.pk}/", edit(case.patient, allergy_other="Iodine")
    )

    assert response.status_code == 302
    case.patient.refresh_from_db()
    assert case.patient.allergy_other == "Iodine"


def test_the_record_writes_dates_and_times_as_the_site_does_en_us_or_en_gb(client, unit, case):
    staff(client, unit, roles.FRONT_DESK)
    client.post(f"/patients/{case.patient.pk}/", edit(case.patient, allergy_contrast="on"))
    page = client.get(f"/patients/{case.patient.pk}/").content.decode()
    assert "Born 05/17/1948" in page
    assert "Tue Mar 3, 2026" in page
    assert re.search(r"<td>\w{3} \w{3} \d+, 2026, \d+:\d\d [AP]M</td>", page)  # the change

    unit.locale = "en-GB"
    unit.save(update_fields=["locale"])
    page = client.get(f"/patients/{case.patient.pk}/").content.decode()

    assert "Born 17/05/1948" in page
    assert "Tue 3 Mar 2026" in page
    assert re.search(r"<td>\w{3} \d+ \w{3} 2026, \d\d:\d\d</td>", page)
    assert " AM" not in page
    assert " PM" not in page
