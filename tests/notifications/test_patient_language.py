"""The patient's pages in the patient's language (Patient.language), or the browser's when there
is no case to ask; every string of the page translated; and the CSRF check that a real browser
passes (same-origin referrer), with a page the patient understands when it fails."""

import re
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from notifications.links import patient_link, patient_token
from notifications.services import patient_links_revoke
from tests.factories import case_made

pytestmark = pytest.mark.django_db
PO = Path(__file__).resolve().parents[2] / "locale" / "es" / "LC_MESSAGES" / "django.po"
THURSDAY = date(2026, 3, 5)


def page_of(case):
    return urlsplit(patient_link(case)).path


def spanish_case(unit, **made):
    return case_made(site=unit, patient={"language": "es"}, **made)


def words(html: str) -> set[str]:
    """The sentences a reader sees: the text between tags, without the style block."""
    body = html.split("</style>", 1)[-1]
    return {" ".join(unescape(t).split()) for t in re.split(r"<[^>]+>", body)} - {""}


def test_a_spanish_patient_reads_the_page_in_spanish_whatever_the_browser_says(unit):
    case = spanish_case(unit, medications=["warfarin"])

    response = Client().get(page_of(case), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    html = response.content.decode()
    assert response["Content-Language"] == "es"
    assert '<html lang="es">' in html
    assert "Hola, Margaret" in html
    assert "Martes 3 de marzo de 2026" in html
    assert "Por favor, llegue a las" in html
    assert "Confirmo que iré" in html
    assert "No tome alimentos sólidos, leche ni bebidas con leche después de las " \
        "<strong>00:30 del martes 3 de marzo</strong>." in html
    assert "<strong>Warfarin</strong>: el primer día sin tomarlo es el " \
        "<strong>jueves 26 de febrero</strong>." in html
    assert "Mantenga el vendaje seco durante 24 a 48 horas." in html
    assert "Póngase hielo en la zona" in html


def test_every_sentence_of_the_page_is_translated(unit):
    """The same case read in English and in Spanish shares no sentence but names and numbers:
    a string left out of the catalogue would show in English on both."""
    english = case_made(site=unit, day=THURSDAY, medications=["warfarin"])
    spanish = spanish_case(unit, day=date(2026, 3, 6), medications=["warfarin"])
    client = Client()

    shared = {
        text for text in words(client.get(page_of(english)).content.decode())
        & words(client.get(page_of(spanish)).content.decode())
        if re.search(r"[a-z]{3}", text)
    }

    assert shared <= {"Riverside Spine Center", "Warfarin", "+12125550142"}


@pytest.mark.parametrize("name", ["patient-cancel", "patient-move"])
def test_the_change_pages_are_in_spanish(unit, name):
    case = spanish_case(unit, day=THURSDAY)

    html = Client().get(reverse(name, args=[patient_token(case)])).content.decode()

    assert '<html lang="es">' in html
    expected = {
        "patient-cancel": ["¿Por qué cancela la cita?", "Ya me encuentro mejor", "Continuar"],
        "patient-move": ["Pedir otro horario", "Miércoles 4 de marzo de 2026, llegada a las 07:00",
                         "Cambiar mi cita a este horario"],
    }[name]
    for text in expected:
        assert text in html


def test_the_are_you_sure_step_names_the_reason_in_spanish(unit):
    case = spanish_case(unit, day=THURSDAY)
    client = Client()

    response = client.post(reverse("patient-cancel", args=[patient_token(case)]), {
        "reason": "better", "version": case.version,
    }, HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert "¿Seguro que quiere cancelar su cita?" in html
    assert "Se cancelará su cita del jueves 5 de marzo de 2026 a las 07:00." in html
    assert "Su motivo: Ya me encuentro mejor" in html
    assert "Sí, cancelar mi cita" in html


def test_a_refused_time_is_explained_in_spanish(unit):
    case = spanish_case(unit, day=THURSDAY)
    move = reverse("patient-move", args=[patient_token(case)])

    for start, text in [
        ("mañana", "Por favor, elija uno de los horarios de la lista."),
        ("2026-03-07T09:00:00-05:00", "Ese horario no se puede elegir. Su cita no ha cambiado."),
    ]:
        response = Client().post(move, {"start": start, "version": case.version},
                                 HTTP_ACCEPT_LANGUAGE="en")

        assert response.status_code == 400
        assert text in response.content.decode()


def test_an_english_patient_reads_english_whatever_the_browser_says(unit):
    case = case_made(site=unit)

    response = Client().get(page_of(case), HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9")

    assert response["Content-Language"] == "en"
    assert "Tuesday 3 March 2026" in response.content.decode()


def test_a_language_with_no_catalogue_falls_back_to_english(unit):
    case = case_made(site=unit, patient={"language": "tlh"})

    assert '<html lang="en">' in Client().get(page_of(case)).content.decode()


def test_a_link_that_opens_no_case_speaks_the_browsers_language(unit):
    for accept, text, lang in [
        ("es-MX,es;q=0.9", "Este enlace no es válido.", "es"),
        ("en-GB", "This link is not valid.", "en"),
        ("", "This link is not valid.", "en"),
    ]:
        response = Client().get("/p/not-a-token/", HTTP_ACCEPT_LANGUAGE=accept)

        assert response.status_code == 404
        html = response.content.decode()
        assert text in html
        assert f'<html lang="{lang}">' in html
        assert "Accept-Language" in response["Vary"]


def test_an_expired_or_revoked_link_speaks_its_patients_language(unit, clock):
    case = spanish_case(unit)
    old = page_of(case)
    patient_links_revoke(case=case)

    revoked = Client().get(old, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Este enlace ya no es válido." in revoked
    assert "Margaret" not in revoked
    clock.move_to(datetime(2026, 4, 20, 12, 0, tzinfo=UTC))  # after the day-30 pain ask
    expired = Client().get(page_of(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Este enlace ha caducado." in expired


def test_the_rate_limit_page_speaks_the_browsers_language(unit, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "patient_link": "1/min"}
    case = spanish_case(unit)
    client = Client()
    client.get(page_of(case))

    response = client.get(page_of(case), HTTP_ACCEPT_LANGUAGE="es")

    assert response.status_code == 429
    assert "Esta página se ha abierto demasiadas veces en poco tiempo." in response.content.decode()


def test_the_catalogue_has_no_fuzzy_or_empty_translation():
    text = PO.read_text()
    entries = text.split("\n\n")[1:]
    assert "#, fuzzy" not in text
    empty = [e for e in entries if re.search(r'^msgstr(\[\d\])? ""\Z', e.strip(), re.M)]
    assert empty == []


# The CSRF check


def confirm_post(client, case, **headers):
    page = client.get(page_of(case)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return client.post(
        reverse("patient-confirm", args=[patient_token(case)]),
        {"csrfmiddlewaretoken": token}, **headers,
    )


def test_the_page_sends_its_origin_on_its_own_forms(unit):
    """`no-referrer` made browsers send `Origin: null`, which the check refuses."""
    case = case_made(site=unit)
    response = Client().get(page_of(case))

    assert '<meta name="referrer" content="same-origin">' in response.content.decode()
    assert "no-referrer" not in response.content.decode()
    assert response["Referrer-Policy"] == "same-origin"


def test_a_post_with_the_pages_origin_confirms(unit):
    case = case_made(site=unit)

    response = confirm_post(
        Client(enforce_csrf_checks=True), case, HTTP_ORIGIN="http://testserver"
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "confirmed"


def test_a_failed_check_on_a_patient_page_is_a_friendly_page_in_their_language(unit):
    case = spanish_case(unit)

    response = confirm_post(Client(enforce_csrf_checks=True), case, HTTP_ORIGIN="null")

    assert response.status_code == 403
    html = response.content.decode()
    assert [t.name for t in response.templates][0] == "notifications/patient/csrf_failed.html"
    assert "Su respuesta no nos ha llegado." in html
    assert f'href="{page_of(case)}"' in html
    assert 'href="tel:+12125550142"' in html
    assert "CSRF" not in html
    assert "null" not in html
    case.refresh_from_db()
    assert case.status == "booked"


def test_a_failed_check_without_a_case_is_friendly_too(unit):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/p/not-a-token/cancel/", HTTP_ACCEPT_LANGUAGE="es")

    assert response.status_code == 403
    assert "Su respuesta no nos ha llegado." in response.content.decode()
    assert 'href="/p/not-a-token/"' in response.content.decode()


def test_a_failed_check_elsewhere_is_djangos_own(db):
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x"})

    assert response.status_code == 403
    assert "CSRF verification failed" in response.content.decode()
