"""The patient's page behind the signed link: no login, only what the token opens. Cancel and
"ask for another time" are in patient_actions.py; what the pages share in patient_access.py."""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.utils import translation
from django.views import csrf
from django.views.decorators.http import require_POST

from limits.rates import PatientLinkRateLimit, rate_limited
from scheduling.models import EventSource
from scheduling.services import case_confirm
from scheduling.services.patient_changes import patient_changes_get

from .ics import appointment_ics
from .links import LinkError
from .patient_access import (
    case_of_token,
    case_or_invalid_page,
    in_visitors_language,
    language_supported,
    patient_render,
)

# What a change made from the page says when the patient comes back to it (?done=...).
NOTICES = ("moved", "changed")


@in_visitors_language
@rate_limited(PatientLinkRateLimit)
def patient_page(request, token):
    case, error = case_or_invalid_page(request, token)
    if error:
        return error
    notice = request.GET.get("done")
    return patient_render(request, "notifications/patient/page.html", {
        "token": token,
        "changes": patient_changes_get(case=case),
        "notice": notice if notice in NOTICES else "",
    }, case=case)


@in_visitors_language
@require_POST
@rate_limited(PatientLinkRateLimit)
def patient_confirm(request, token):
    case, error = case_or_invalid_page(request, token)
    if error:
        return error
    case_confirm(case=case, source=EventSource.PATIENT_LINK)
    return redirect("patient-page", token=token)


@in_visitors_language
@rate_limited(PatientLinkRateLimit)
def patient_ics(request, token):
    case, error = case_or_invalid_page(request, token)
    if error:
        return error
    response = HttpResponse(appointment_ics(case), content_type="text/calendar")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response


PATIENT_PAGES = (
    "patient-page", "patient-confirm", "patient-cancel", "patient-move", "patient-pain",
)
CSRF_FAILED = "notifications/patient/csrf_failed.html"


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW. On the patient's pages, a failed check (cookies blocked or
    cleared, a page left open for days) is the patient's page saying their answer did not reach
    us, in their language, with the way back; anywhere else, Django's own page. The check's
    reason is never shown: it means nothing to a patient."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        match = None
    if match is None or match.url_name not in PATIENT_PAGES:
        return csrf.csrf_failure(request, reason=reason)
    token = match.kwargs["token"]
    try:
        case = case_of_token(token)
    except LinkError:
        case = None
    if case is not None:
        return patient_render(request, CSRF_FAILED, {"token": token}, case=case, status=403)
    language = language_supported(translation.get_language_from_request(request))
    with translation.override(language):
        response = render(request, CSRF_FAILED, {"token": token}, status=403)
    response["Content-Language"] = language
    return response
