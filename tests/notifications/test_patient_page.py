"""The patient's page behind the signed link: the day's details, confirm, the calendar file; a
bad or old link gets a friendly page, never an error."""

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from notifications.links import patient_link, patient_token
from scheduling.models import Site
from tests.factories import case_made

pytestmark = pytest.mark.django_db
CASES = "/api/v1/cases/"


@pytest.fixture
def case(unit, front_desk):
    Site.objects.filter(pk=unit.pk).update(
        address="120 River Road, New York, NY 10001", directions="Use entrance B, floor 2."
    )
    return case_made(site=unit, by=front_desk.user, medications=["warfarin"])


def page_of(case):
    return urlsplit(patient_link(case)).path


def test_the_link_opens_the_day_in_the_clinics_time(client, case):
    response = client.get(page_of(case))

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "notifications/patient/page.html"
    html = response.content.decode()
    assert "Hello Margaret" in html
    assert "Riverside Spine Center" in html
    assert "120 River Road" in html
    assert "Use entrance B" in html
    assert 'href="tel:+12125550142"' in html
    assert "Tuesday 3 March 2026" in html
    assert "07:00" in html  # arrival, New York time (12:00 UTC)
    assert "08:30" in html  # procedure start
    assert "00:30 on Tuesday 3 March" in html  # no solid food after
    assert "06:30 on Tuesday 3 March" in html  # clear liquids until
    assert "Warfarin" in html
    assert "Thursday 26 February" in html
    assert "Please follow your care team's instructions" in html
    assert "Photo ID" in html
    assert "Slip-on shoes" in html
    assert "an adult driver must take you home" in html
    assert "Keep the bandage dry" in html
    assert reverse("patient-ics", args=[patient_token(case)]) in html
    assert f'action="{reverse("patient-confirm", args=[patient_token(case)])}"' in html


def test_the_confirm_button_confirms_the_case(case):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(page_of(case)).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    confirm_url = reverse("patient-confirm", args=[patient_token(case)])

    response = browser.post(confirm_url, {"csrfmiddlewaretoken": csrf})

    assert response.status_code == 302
    assert response["Location"] == page_of(case)
    case.refresh_from_db()
    assert case.status == "confirmed"
    after = browser.get(page_of(case)).content.decode()
    assert "Confirmed" in after
    assert confirm_url not in after


def test_the_appointment_downloads_as_a_calendar_file(client, case):
    response = client.get(reverse("patient-ics", args=[patient_token(case)]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "appointment.ics" in response["Content-Disposition"]
    event, = Calendar.from_ical(response.content).walk("VEVENT")
    assert event.decoded("dtstart") == case.arrival_at


def tampered(token):
    value, signature = token.split(":")
    return f"{value}:{signature[:-1]}{'B' if signature[-1] != 'B' else 'C'}"


def test_a_tampered_link_gets_the_friendly_page_not_an_error(client, case):
    token = patient_token(case)
    other_case = token.replace(f"{case.pk}.", f"{case.pk + 1}.", 1)

    for bad in (tampered(token), other_case, "not-a-token"):
        response = client.get(reverse("patient-page", args=[bad]))

        assert response.status_code == 404, bad
        assert [t.name for t in response.templates][0] == "notifications/patient/invalid.html"
        assert "This link is not valid." in response.content.decode()
        assert "Margaret" not in response.content.decode()


def test_a_tampered_link_cannot_confirm_or_download(client, case):
    bad = tampered(patient_token(case))

    assert client.post(reverse("patient-confirm", args=[bad])).status_code == 404
    assert client.get(reverse("patient-ics", args=[bad])).status_code == 404
    case.refresh_from_db()
    assert case.status == "booked"


def test_the_link_works_for_two_weeks_after_the_day_then_expires(client, case, clock):
    case.site.pain_followup_days = ""  # no pain asks after the day (they keep it open longer)
    case.site.save(update_fields=["pain_followup_days"])
    clock.move_to(datetime(2026, 3, 17, 12, 0, tzinfo=UTC))
    assert client.get(page_of(case)).status_code == 200

    clock.move_to(datetime(2026, 3, 18, 12, 0, tzinfo=UTC))
    response = client.get(page_of(case))

    assert response.status_code == 404
    assert "This link has expired." in response.content.decode()
    assert "Riverside Spine Center" not in response.content.decode()


def test_the_page_of_a_cancelled_case_says_it_is_cancelled(client, front_desk, case):
    front_desk.post(f"{CASES}{case.pk}/cancel/", {"reason": "Patient has a cold"}, format="json")

    response = client.get(page_of(case))

    assert response.status_code == 200
    html = response.content.decode()
    assert "This appointment has been cancelled." in html
    assert "Confirm I will come" not in html
    assert "Please arrive at" not in html
    client.post(reverse("patient-confirm", args=[patient_token(case)]))
    case.refresh_from_db()
    assert case.status == "cancelled"
