"""The pain form on the patient's page (templates/notifications/patient/_pain.html)."""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from limits.rates import PatientLinkRateLimit, rate_limited
from scheduling import pain

from .pain_replies import pain_page_answer
from .patient_access import case_or_invalid_page, in_visitors_language


@in_visitors_language
@require_POST
@rate_limited(PatientLinkRateLimit)
def patient_pain(request, token):
    case, error = case_or_invalid_page(request, token)
    if error:
        return error
    page = reverse("patient-page", kwargs={"token": token})
    # The same reading as a texted answer: one whole number from 0 to 10, else asked again.
    score = pain.score_from_reply(request.POST.get("score", ""))
    if score is None:
        return redirect(f"{page}?pain=invalid#pain")
    pain_page_answer(case=case, score=score, now=timezone.now())
    return redirect(f"{page}#pain")
