"""The patient's page behind the signed link: no login, only what the token opens."""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from limits.rates import PatientLinkRateLimit, rate_limited
from scheduling.models import Case
from scheduling.services import case_confirm

from .ics import appointment_ics
from .links import LinkError, link_claim


def _case_or_error(request, token):
    try:
        claim = link_claim(token, now=timezone.now())
        case = (
            Case.objects.select_related("site", "patient")
            .prefetch_related("stages", "held_medications__drug")
            .filter(pk=claim.case_id)
            .first()
        )
        if case is None:
            raise LinkError("This link is not valid.")
        claim.check_current(case)
    except LinkError as exc:
        return None, render(request, "notifications/patient/invalid.html", {"reason": str(exc)},
                            status=404)
    return case, None


@rate_limited(PatientLinkRateLimit)
def patient_page(request, token):
    case, error = _case_or_error(request, token)
    if error:
        return error
    with timezone.override(case.site.zone):
        return render(request, "notifications/patient/page.html", {"case": case, "token": token})


@require_POST
@rate_limited(PatientLinkRateLimit)
def patient_confirm(request, token):
    case, error = _case_or_error(request, token)
    if error:
        return error
    case_confirm(case=case)
    return redirect("patient-page", token=token)


@rate_limited(PatientLinkRateLimit)
def patient_ics(request, token):
    case, error = _case_or_error(request, token)
    if error:
        return error
    response = HttpResponse(appointment_ics(case), content_type="text/calendar")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response
