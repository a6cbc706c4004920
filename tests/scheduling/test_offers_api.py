"""Staff see the offers of their sites' freed times (GET /api/v1/offers/?site=), and patients
answer an offer on its page."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from scheduling import roles
from scheduling.models import Case, CaseAction, CaseEvent, EventSource
from scheduling.offer_models import Offer, OfferStatus
from scheduling.offers.links import offer_token
from scheduling.services import case_cancel
from tests.conftest import client_for
from tests.factories import SiteFactory, UserFactory, case_made
from tests.notifications.twilio_fake import signed_post, twilio_settings
from tests.scheduling.offer_helpers import DAYTIME, offer_of, offered, text, waiting
from tests.scheduling.test_plan_day import at

pytestmark = pytest.mark.django_db
URL = "/api/v1/offers/"


@pytest.fixture(autouse=True)
def daytime(clock):
    clock.move_to(DAYTIME)



@pytest.fixture
def offers(tiny_unit):
    """Two waiting patients offered a cancelled Tuesday 10:45; the first said YES."""
    first, second = waiting(tiny_unit), waiting(tiny_unit)
    case = case_made(site=tiny_unit, start=at(10, 45), driver_name="")
    case_cancel(case=case, reason="Moved away", by=UserFactory())
    offered(case)
    text(first.patient.phone, "YES")
    return offer_of(first), offer_of(second)


def test_staff_see_the_offers_of_their_site_and_their_outcomes(offers):
    accepted, taken = offers
    response = client_for(roles.FRONT_DESK).get(URL, {"site": "main"})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("no-store")
    body = response.json()
    assert [row["id"] for row in body] == [taken.pk, accepted.pk]
    row = body[1]
    assert row["status"] == "accepted"
    assert row["patient"] == {"id": accepted.patient_id, "mrn": accepted.patient.mrn,
                              "name": f"Ana {accepted.patient.last_name}"}
    assert row["slot_start"] == "2026-03-03T10:45:00-05:00"
    assert row["wave"] == 1
    assert row["case"] == Case.objects.get(patient=accepted.patient).pk
    assert {"sent_at", "expires_at", "responded_at"} <= set(row)
    assert body[0]["status"] == "taken"
    assert body[0]["case"] is None


def test_the_offers_need_a_role_and_a_site_of_ones_own(offers):
    assert client_for(roles.NURSE).get(URL, {"site": "main"}).status_code == 403
    assert client_for(roles.ADMIN).get(URL, {"site": "main"}).status_code == 200
    other = SiteFactory(code="north", name="North")
    outsider = client_for(roles.FRONT_DESK, sites=[other])
    response = outsider.get(URL, {"site": "main"})
    assert (response.status_code, response.json()["code"]) == (400, "unknown_site")
    assert Client().get(URL, {"site": "main"}).status_code in (401, 403)


def test_a_bad_or_missing_site_is_a_400_with_a_stable_code(offers):
    client = client_for(roles.FRONT_DESK)
    response = client.get(URL, {"site": "nowhere"})
    assert (response.status_code, response.json()["code"]) == (400, "unknown_site")
    response = client.get(URL)
    assert (response.status_code, response.json()["code"]) == (400, "invalid")


def test_the_schema_documents_the_offers(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/offers/"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["site"]
    assert "400" in operation["responses"]


def page_form(client, url):
    html = client.get(url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    return html, token


def test_a_tap_on_the_link_and_accept_books_the_time(tiny_unit):
    entry = waiting(tiny_unit, first_name="Lena")
    case = case_made(site=tiny_unit, start=at(10, 45), driver_name="")
    case_cancel(case=case, reason="Moved away", by=UserFactory())
    offered(case)
    offer = offer_of(entry)
    browser = Client(enforce_csrf_checks=True)
    url = f"/o/{offer_token(offer)}/"
    html, csrf = page_form(browser, url)
    assert '<meta name="referrer" content="same-origin">' in html
    assert "Tuesday 3 March 2026" in html
    assert "09:15" in html
    assert "Vertebroplasty" not in html
    response = browser.post(url, {"answer": "accept", "csrfmiddlewaretoken": csrf})
    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    event = CaseEvent.objects.get(case=offer.case)
    assert (event.action, event.source) == (CaseAction.OFFER_ACCEPT, EventSource.PATIENT_LINK)
    assert "The time is yours." in browser.get(url).content.decode()


def test_the_page_speaks_the_patients_language_and_says_when_the_time_has_gone(
    tiny_unit, clock
):
    entry = waiting(tiny_unit, language="es", first_name="María")
    case = case_made(site=tiny_unit, start=at(10, 45), driver_name="")
    case_cancel(case=case, reason="Moved away", by=UserFactory())
    offered(case)
    url = f"/o/{offer_token(offer_of(entry))}/"
    html = Client().get(url).content.decode()
    assert '<html lang="es">' in html
    assert "Aceptar esta cita" in html
    assert "martes 3 de marzo de 2026" in html
    clock.shift(timedelta(hours=3))
    html = Client().get(url).content.decode()
    assert "esta oferta ha terminado" in html
    Offer.objects.filter(pk=offer_of(entry).pk).update(status=OfferStatus.TAKEN)
    assert "esta cita ya no está libre" in Client().get(url).content.decode()


def test_an_altered_link_says_so_without_a_500(db):
    response = Client().get("/o/12-not-a-signature/")
    assert response.status_code == 404
    assert "This offer cannot be opened" in response.content.decode()


def test_the_plan_page_and_the_case_page_show_the_offers_and_their_outcomes(
    client, offers, tiny_unit
):
    accepted, taken = offers
    user = UserFactory(roles=[roles.FRONT_DESK, roles.ADMIN])
    tiny_unit.staff.add(user)
    client.force_login(user)
    html = client.get("/plan/", {"site": "main", "date": "2026-03-03"}).content.decode()
    assert "Freed times offered by text" in html
    assert f"{accepted.patient.last_name}, Ana" in html
    assert f'case {accepted.case_id}</a>' in html
    assert "Taken by another patient (Another patient took the time)" in html
    html = client.get(f"/cases/{accepted.freed_time.case_id}/").content.decode()
    assert "Offered by text: Tue 3 Mar 10:45" in html
    assert f"{taken.patient.last_name}, Ana ({taken.patient.mrn}), wave 1: taken" in html


def test_the_twilio_webhook_answers_a_yes_with_the_offers_reply(client, settings, tiny_unit):
    twilio_settings(settings)
    entry = waiting(tiny_unit, first_name="Lena")
    case = case_made(site=tiny_unit, start=at(10, 45), driver_name="")
    case_cancel(case=case, reason="Moved away", by=UserFactory())
    offered(case)
    response = signed_post(client, "/webhooks/twilio/inbound/", {
        "MessageSid": "SM" + "7" * 32, "From": entry.patient.phone, "Body": "YES",
        "To": "+15005550006"})
    assert response.status_code == 200
    assert "<Message>Thank you, Lena: the time is yours." in response.content.decode()
    assert offer_of(entry).status == OfferStatus.ACCEPTED


def test_a_link_with_another_offers_id_does_not_open(tiny_unit, settings):
    entry = waiting(tiny_unit)
    case = case_made(site=tiny_unit, start=at(10, 45), driver_name="")
    case_cancel(case=case, reason="Moved away", by=UserFactory())
    offered(case)
    offer = offer_of(entry)
    _, mac = offer_token(offer).split("-")
    assert Client().get(f"/o/{offer.pk + 1}-{mac}/").status_code == 404
    old = offer_token(offer)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    assert Client().get(f"/o/{old}/").status_code == 200  # signed before the key was replaced
