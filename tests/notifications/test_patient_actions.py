"""Cancel and "ask for another time" from the patient's link, logged out, through the HTTP client
with the CSRF check on: each path, and each bad input (after the cut-off, a time taken meanwhile,
a double submit, an altered form, a start that does not exist, a revoked or expired link)."""

import re
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from notifications.links import patient_link, patient_token
from notifications.models import Reminder
from notifications.services import patient_links_revoke
from scheduling.models import Case, CaseEvent, Site
from tests.factories import case_made

pytestmark = pytest.mark.django_db
THURSDAY = date(2026, 3, 5)  # 3 days ahead of the frozen clock: before the 48-hour cut-off


@pytest.fixture
def case(unit):
    return case_made(site=unit, day=THURSDAY)


class Patient:
    """A logged-out browser on the patient's link: it reads the CSRF token from each form."""

    def __init__(self, case):
        self.client = Client(enforce_csrf_checks=True)
        self.token = patient_token(case)
        self.page_url = urlsplit(patient_link(case)).path

    def url(self, name):
        return reverse(name, args=[self.token])

    def get(self, name="patient-page"):
        response = self.client.get(self.url(name))
        self.html = response.content.decode()
        return response

    def post(self, name, data):
        # The token of the last form the patient was shown.
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.html)
        self.csrf = token.group(1) if token else self.csrf
        response = self.client.post(self.url(name), {"csrfmiddlewaretoken": self.csrf, **data})
        if response.status_code != 302:
            self.html = response.content.decode()
        return response

    def form_value(self, name):
        return re.search(rf'name="{name}" value="([^"]*)"', self.html).group(1)

    def times(self):
        return re.findall(r'name="start" id="start-\d+" value="([^"]+)"', self.html)


def fresh(case):
    return Case.objects.get(pk=case.pk)


def test_the_page_offers_cancel_and_another_time_until_the_cutoff(case):
    patient = Patient(case)
    patient.get()

    assert "You can cancel your visit or ask for another time on this page until 07:00 on " \
        "Tuesday 3 March 2026." in patient.html
    assert f'href="{patient.url("patient-cancel")}"' in patient.html
    assert f'href="{patient.url("patient-move")}"' in patient.html


def test_it_cancels_with_a_reason_after_asking_if_the_patient_is_sure(case):
    patient = Patient(case)
    patient.get("patient-cancel")
    for reason in ("I feel better", "I cannot come that day", "I am unwell", "Other"):
        assert reason in patient.html

    asked = patient.post("patient-cancel", {"reason": "better", "version": case.version})

    assert asked.status_code == 200
    assert "Are you sure you want to cancel?" in patient.html
    assert "Your visit on Thursday 5 March 2026 at 07:00 will be cancelled." in patient.html
    assert fresh(case).status == "booked"

    done = patient.post("patient-cancel", {
        "reason": patient.form_value("reason"), "details": "", "sure": "on",
        "version": patient.form_value("version"),
    })

    assert done.status_code == 302
    assert done["Location"] == patient.page_url
    cancelled = fresh(case)
    assert cancelled.status == "cancelled"
    assert cancelled.cancel_reason == "I feel better"
    assert cancelled.cancelled_by is None
    event = CaseEvent.objects.get(case=case)
    assert (event.action, event.source, event.by, event.reason) == (
        "cancel", "patient_link", None, "I feel better"
    )
    assert not Reminder.objects.filter(case=case, status="pending").exists()
    page = patient.client.get(patient.page_url).content.decode()
    assert "This appointment has been cancelled." in page


def test_other_keeps_what_the_patient_wrote_in_english_for_the_unit(unit):
    case = case_made(site=unit, day=THURSDAY, patient={"language": "es"})
    patient = Patient(case)
    patient.get("patient-cancel")
    patient.post("patient-cancel", {
        "reason": "other", "details": "Mi hija  no puede\nllevarme", "version": case.version,
    })

    patient.post("patient-cancel", {
        "reason": "other", "details": patient.form_value("details"), "sure": "on",
        "version": case.version,
    })

    assert fresh(case).cancel_reason == "Other: Mi hija no puede llevarme"


def test_a_double_submit_cancels_once(case):
    patient = Patient(case)
    patient.get("patient-cancel")
    sure = {"reason": "unwell", "sure": "on", "version": case.version}

    first = patient.post("patient-cancel", sure)
    second = patient.post("patient-cancel", sure)

    assert first.status_code == second.status_code == 302
    assert second["Location"] == patient.page_url
    assert CaseEvent.objects.filter(case=case, action="cancel").count() == 1


def test_an_altered_reason_is_refused_with_a_message(case):
    patient = Patient(case)
    patient.get("patient-cancel")

    for data in ({"reason": "hates-us", "sure": "on"}, {"sure": "on"}, {"reason": "other",
                                                                       "details": "x" * 501}):
        response = patient.post("patient-cancel", {"version": case.version, **data})

        assert response.status_code == 400, data
        assert fresh(case).status == "booked"
    assert "Please write no more than 500 characters." in patient.html
    patient.post("patient-cancel", {"reason": "hates-us", "version": case.version})
    assert "Please choose one of the reasons shown." in patient.html


def test_an_altered_or_old_version_changes_nothing_and_says_so(case):
    patient = Patient(case)
    patient.get("patient-cancel")

    response = patient.post("patient-cancel", {"reason": "better", "sure": "on", "version": "x"})

    assert response.status_code == 302
    assert response["Location"] == f"{patient.page_url}?done=changed"
    assert fresh(case).status == "booked"
    page = patient.client.get(response["Location"]).content.decode()
    assert "Your visit was changed while your page was open, so nothing was done." in page


def test_it_lists_the_next_free_starts_and_moves_to_the_one_picked(case):
    patient = Patient(case)
    patient.get("patient-move")
    times = patient.times()

    # From the cut-off on (Wednesday 07:00 arrival), two a day, three hours apart, never the
    # patient's own time or one beside it: Wednesday, Thursday afternoon, Friday.
    assert times == [
        "2026-03-04T08:30:00-05:00", "2026-03-04T11:30:00-05:00",
        "2026-03-05T11:30:00-05:00",  # the last start that ends by closing time, 18:00
        "2026-03-06T08:30:00-05:00", "2026-03-06T11:30:00-05:00",
    ]
    assert "Wednesday 4 March 2026, arrive at 07:00" in patient.html
    old_plan = fresh(case).plan_version

    response = patient.post("patient-move", {"start": times[2], "version": case.version})

    assert response.status_code == 302
    assert response["Location"] == f"{patient.page_url}?done=moved"
    moved = fresh(case)
    assert moved.procedure_start == datetime.fromisoformat(times[2])
    assert moved.plan_version == old_plan + 1
    event = CaseEvent.objects.get(case=case)
    assert (event.action, event.source, event.by) == ("move", "patient_link", None)
    assert event.reason == "From Thu 5 Mar 2026 07:00 to Thu 5 Mar 2026 10:00 (arrival)."
    page = patient.client.get(response["Location"]).content.decode()
    assert "Your visit has moved." in page
    assert "10:00" in page


def test_a_time_taken_meanwhile_keeps_the_old_time_and_offers_the_free_ones(tiny_unit):
    case = case_made(site=tiny_unit, day=THURSDAY)
    stages_before = list(case.stages.values_list("planned_start", "resource_id"))
    patient = Patient(case)
    patient.get("patient-move")
    wanted = patient.times()[0]
    case_made(site=tiny_unit, start=wanted)  # a clerk books it first

    response = patient.post("patient-move", {"start": wanted, "version": case.version})

    assert response.status_code == 409
    assert "that time was taken by someone else a moment ago. Your visit has not changed." \
        in patient.html
    assert wanted not in patient.times()
    assert patient.times()
    kept = fresh(case)
    assert kept.procedure_start == case.procedure_start
    assert list(kept.stages.values_list("planned_start", "resource_id")) == stages_before
    assert not CaseEvent.objects.filter(case=case).exists()


def test_a_double_submit_moves_once(case):
    patient = Patient(case)
    patient.get("patient-move")
    start = patient.times()[0]

    first = patient.post("patient-move", {"start": start, "version": case.version})
    second = patient.post("patient-move", {"start": start, "version": case.version})

    assert first["Location"].endswith("?done=moved")
    assert second["Location"].endswith("?done=changed")
    assert CaseEvent.objects.filter(case=case, action="move").count() == 1


@pytest.mark.parametrize(("start", "message"), [
    ("next tuesday", "Please choose one of the times shown."),
    ("", "Please choose one of the times shown."),
    ("2026-03-11T09:00:00", "Please choose one of the times shown."),  # no offset
    ("2026-03-07T09:00:00-05:00", "That time cannot be chosen."),  # a Saturday: closed
    ("2026-03-04T03:00:00-05:00", "That time cannot be chosen."),  # before opening
    ("2026-03-04T09:02:00-05:00", "That time cannot be chosen."),  # off the 5-minute grid
    ("2026-03-03T09:00:00-05:00", "That time cannot be chosen."),  # inside the cut-off
    ("2026-03-02T05:00:00-05:00", "That time cannot be chosen."),  # passed
    ("2099-03-04T09:00:00-05:00", "That time cannot be chosen."),  # past the horizon
])
def test_an_altered_or_non_existent_start_is_refused_and_changes_nothing(case, start, message):
    patient = Patient(case)
    patient.get("patient-move")

    response = patient.post("patient-move", {"start": start, "version": case.version})

    assert response.status_code == 400
    assert message in patient.html
    assert "Your visit has not changed" in patient.html or message.startswith("Please")
    assert patient.times()  # the free times again
    assert fresh(case).procedure_start == case.procedure_start
    assert not CaseEvent.objects.filter(case=case).exists()


def test_after_the_cutoff_the_page_gives_the_phone_and_changes_are_refused(case, clock):
    patient = Patient(case)
    patient.get("patient-cancel")
    version = case.version
    clock.move_to(datetime(2026, 3, 3, 12, 0, tzinfo=UTC))  # 07:00 Tuesday: the cut-off

    patient.get()
    assert "To cancel or change your visit now, please call Riverside Spine Center on " \
        '<a href="tel:+12125550142">' in patient.html
    assert patient.url("patient-cancel") not in patient.html
    assert patient.url("patient-move") not in patient.html
    for name in ("patient-cancel", "patient-move"):
        response = patient.client.get(patient.url(name))
        assert response.status_code == 409
        assert "Your visit can no longer be changed on this page." in response.content.decode()
        assert 'href="tel:+12125550142"' in response.content.decode()
    patient.get()
    cancel = patient.post("patient-cancel", {"reason": "better", "sure": "on",
                                             "version": version})
    move = patient.post("patient-move", {"start": "2026-03-06T08:30:00-05:00",
                                         "version": version})

    assert cancel.status_code == move.status_code == 409
    assert fresh(case).status == "booked"
    assert fresh(case).procedure_start == case.procedure_start


def test_the_cutoff_is_the_sites(case):
    Site.objects.filter(pk=case.site_id).update(patient_change_cutoff_hours=72)

    response = Patient(case).get("patient-cancel")

    assert response.status_code == 409


def test_a_held_medicine_keeps_the_new_time_after_its_pause_can_start(unit):
    case = case_made(site=unit, day=date(2026, 3, 12), medications=["warfarin"])  # 5 days

    patient = Patient(case)
    patient.get("patient-move")

    # Today is Monday 2 March: a pause of 5 days can start tomorrow at the earliest, so the
    # procedure day is Sunday 8 March at the earliest; the unit opens again on Monday 9.
    assert patient.times()[0].startswith("2026-03-09T")


def test_a_revoked_or_expired_link_cannot_cancel_or_move(case, clock):
    patient = Patient(case)
    patient.get("patient-cancel")
    patient_links_revoke(case=case)

    for name in ("patient-cancel", "patient-move"):
        assert patient.client.get(patient.url(name)).status_code == 404
        response = patient.post(name, {"reason": "better", "sure": "on", "version": case.version,
                                       "start": "2026-03-06T08:30:00-05:00"})
        assert response.status_code == 404
        assert "This link is no longer valid." in response.content.decode()
    # Past the link's life: the procedure day, then the last pain follow-up day (30) and its
    # days to answer.
    clock.move_to(datetime(2026, 5, 20, 12, 0, tzinfo=UTC))
    expired = Patient(fresh(case))
    assert expired.get("patient-move").status_code == 404
    assert "This link has expired." in expired.html
    assert fresh(case).status == "booked"


def test_a_cancelled_case_has_nothing_to_change(case, front_desk):
    front_desk.post(f"/api/v1/cases/{case.pk}/cancel/", {"reason": "Unwell"}, format="json")
    patient = Patient(case)

    for name in ("patient-cancel", "patient-move"):
        response = patient.client.get(patient.url(name))
        assert response.status_code == 302
        assert response["Location"] == patient.page_url


def test_no_free_time_in_the_weeks_searched_gives_the_phone(case, settings):
    settings.BOOKING_HORIZON_DAYS = 2  # only up to Wednesday, which the cut-off leaves closed
    Site.objects.filter(pk=case.site_id).update(patient_change_cutoff_hours=60)

    patient = Patient(case)
    patient.get("patient-move")

    assert patient.times() == []
    assert "Sorry, we could not find a free time in the next few weeks." in patient.html
    assert 'href="tel:+12125550142"' in patient.html
