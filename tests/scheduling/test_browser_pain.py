"""Pain follow-up in a real browser (Debian's Chromium): a patient, logged out, on a phone, gives
their pain score on their page; a manager reads the outcomes in the reports. Both pages pass
axe-core with nothing serious."""

from urllib.parse import urlsplit

import pytest

from notifications.links import patient_link
from scheduling import roles
from scheduling.pain_models import PainScore, PainSource
from scheduling.services.pain import pain_score_record
from tests.axe import axe_source, serious
from tests.conftest import log_in
from tests.factories import UserFactory, case_made

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}


def test_a_patient_on_a_phone_gives_their_pain_score_on_their_page(page, unit):
    case = case_made(site=unit)
    page.set_viewport_size(PHONE)

    page.goto(urlsplit(patient_link(case)).path)
    form = page.get_by_role("group", name="Your back pain today (0-10)")
    form.scroll_into_view_if_needed()
    assert serious(page, axe_source()) == []
    form.get_by_text("7", exact=True).click()
    page.get_by_role("button", name="Send my answer").click()

    page.get_by_text("Thank you: you told us your pain is 7 out of 10.").wait_for()
    assert list(PainScore.objects.values_list("case", "followup_day", "score", "source")) == [
        (case.pk, None, 7, PainSource.LINK)
    ]
    assert page.get_by_role("button", name="Send my answer").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert serious(page, axe_source()) == []


def test_a_manager_reads_the_outcomes_chart(page, unit):
    case = case_made(site=unit)
    pain_score_record(case=case, followup_day=None, score=6, source=PainSource.SMS)
    manager = UserFactory(roles=[roles.ADMIN])
    unit.staff.add(manager)
    log_in(page, manager.username)

    page.goto("/reports/?site=main&start=2026-03-02&end=2026-03-08#outcomes")

    chart = page.get_by_role("img", name="Median pain (0-10) before the procedure and after it")
    assert chart.is_visible()
    assert "6" in chart.locator("text.bar-value").all_text_contents()
    assert serious(page, axe_source()) == []
