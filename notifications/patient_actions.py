"""Cancel and "ask for another time" on the patient's page, until the site's cut-off.

Cancel is two steps with no script: the reason, then "are you sure?". Another time lists the next
free starts of the unit's own slot search, and the one picked goes through the reschedule
service: a time taken meanwhile leaves the visit where it was, and the page says so and lists the
times free now. Each form carries the case's version as the page showed it, so a double submit
or a page left open while the unit changed the visit acts on nothing it did not show.
"""

from datetime import datetime

from django import forms
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from limits.rates import PatientLinkRateLimit, rate_limited
from scheduling.errors import SchedulingError
from scheduling.models import RELEASED_STATUSES, Case
from scheduling.services.patient_changes import (
    case_cancel_by_patient,
    case_move_by_patient,
    patient_changes_get,
    patient_free_starts,
)

from .patient_access import case_or_invalid_page, in_visitors_language, patient_render

CANCEL_REASONS = [
    ("better", _("I feel better")),
    ("cannot_come", _("I cannot come that day")),
    ("unwell", _("I am unwell")),
    ("other", _("Other")),
]
CHOOSE_A_TIME = _("Please choose one of the times shown.")
# A move refused because the time is no longer free (or never was one of ours): the visit stays
# where it was and the page lists the times free now.
TIME_LOST = {"slot_taken", "surgeon_unavailable", "no_free_slot", "patient_already_booked"}


class PatientForm(forms.Form):
    use_required_attribute = False  # the server says what is missing, in the patient's words
    version = forms.CharField(widget=forms.HiddenInput, max_length=64)


class CancelForm(PatientForm):
    reason = forms.ChoiceField(
        choices=CANCEL_REASONS,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose a reason."),
            "invalid_choice": _("Please choose one of the reasons shown."),
        },
    )
    details = forms.CharField(required=False, max_length=500, widget=forms.Textarea(
        attrs={"rows": 3, "maxlength": 500}
    ))
    sure = forms.BooleanField(required=False)

    def reason_for_staff(self) -> str:
        """The reason as the unit reads it on the case's history: in English, whatever the
        patient's language, with what they wrote."""
        with translation.override("en"):
            text = str(dict(CANCEL_REASONS)[self.cleaned_data["reason"]])
        details = " ".join(self.cleaned_data["details"].split())
        return f"{text}: {details}" if details else text

    def reason_shown(self):
        # Lazy: it is read when the page is drawn, in the patient's language.
        return dict(CANCEL_REASONS)[self.cleaned_data["reason"]]


class MoveForm(PatientForm):
    start = forms.CharField(max_length=40, error_messages={"required": CHOOSE_A_TIME})

    def clean_start(self) -> datetime:
        try:
            start = datetime.fromisoformat(self.cleaned_data["start"])
        except ValueError:
            raise forms.ValidationError(CHOOSE_A_TIME) from None
        if start.tzinfo is None:
            raise forms.ValidationError(CHOOSE_A_TIME)
        return start


def _stale(request, case: Case) -> bool:
    """A form sent from a page that showed the case as it no longer is (sent twice, or the
    unit changed the visit meanwhile): nothing is done, and the page says so. The service
    checks the version again under the case's lock."""
    return request.method == "POST" and request.POST.get("version") != case.version


def _closed_page(request, case: Case, token: str):
    """After the cut-off, or once the case is checked in: the unit's phone."""
    return patient_render(
        request, "notifications/patient/too_late.html", {"token": token}, case=case, status=409
    )


def _page(token: str, notice: str = ""):
    url = reverse("patient-page", kwargs={"token": token})
    return redirect(f"{url}?done={notice}" if notice else url)


@in_visitors_language
@require_http_methods(["GET", "POST"])
@rate_limited(PatientLinkRateLimit)
def patient_cancel(request, token):
    case, error = case_or_invalid_page(request, token)
    if error:
        return error
    if case.status in RELEASED_STATUSES:
        return _page(token)  # already cancelled (a second press of the button): say so
    if _stale(request, case):
        return _page(token, "changed")
    if not patient_changes_get(case=case).allowed:
        return _closed_page(request, case, token)
    if request.method == "GET":
        return _cancel_page(request, case, token, CancelForm(initial={"version": case.version}))
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _cancel_page(request, case, token, form, status=400)
    if not form.cleaned_data["sure"]:
        return patient_render(request, "notifications/patient/cancel_sure.html", {
            "token": token, "form": form, "reason": form.reason_shown(),
        }, case=case)
    try:
        case_cancel_by_patient(
            case=case, reason=form.reason_for_staff(),
            expected_version=form.cleaned_data["version"],
        )
    except SchedulingError as refusal:
        if refusal.code == "patient_change_closed":
            return _closed_page(request, case, token)
        return _page(token, "changed")  # the unit changed the visit since the page was drawn
    return _page(token)


def _cancel_page(request, case: Case, token: str, form: CancelForm, *, status: int = 200):
    return patient_render(
        request, "notifications/patient/cancel.html", {"token": token, "form": form},
        case=case, status=status,
    )


@in_visitors_language
@require_http_methods(["GET", "POST"])
@rate_limited(PatientLinkRateLimit)
def patient_move(request, token):
    case, error = case_or_invalid_page(request, token)
    if error:
        return error
    if case.status in RELEASED_STATUSES:
        return _page(token)
    if _stale(request, case):
        return _page(token, "changed")
    if not patient_changes_get(case=case).allowed:
        return _closed_page(request, case, token)
    if request.method == "GET":
        return _move_page(request, case, token)
    form = MoveForm(request.POST)
    if not form.is_valid():
        # Every refusal of the field says the same, in the patient's language when drawn.
        return _move_page(request, case, token, problem=CHOOSE_A_TIME, status=400)
    try:
        case_move_by_patient(
            case=case, start=form.cleaned_data["start"],
            expected_version=form.cleaned_data["version"],
        )
    except SchedulingError as refusal:
        if refusal.code == "patient_change_closed":
            return _closed_page(request, case, token)
        if refusal.code == "case_changed":
            return _page(token, "changed")
        if refusal.code in TIME_LOST:
            problem = _("Sorry, that time was taken by someone else a moment ago. Your visit "
                        "has not changed. Here are the times that are free now.")
            return _move_page(request, case, token, problem=problem, status=409)
        # Not one of the times offered (altered, or no longer in the window): the times now.
        problem = _("That time cannot be chosen. Your visit has not changed. Please choose one "
                    "of the times shown.")
        return _move_page(request, case, token, problem=problem, status=400)
    return _page(token, "moved")


def _move_page(request, case: Case, token: str, *, problem: str = "", status: int = 200):
    zone = case.site.zone
    times = [
        {
            # The start as the service takes it back: ISO 8601 with the site's offset.
            "value": slot.times.procedure_start.astimezone(zone).isoformat(),
            "arrival_at": slot.times.arrival_at,
        }
        for slot in patient_free_starts(case=case)
    ]
    return patient_render(request, "notifications/patient/move.html", {
        "token": token, "version": case.version, "times": times, "problem": problem,
    }, case=case, status=status)
