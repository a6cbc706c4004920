"""The pain form on the patient's page (templates/notifications/patient/_pain.html)."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from limits.rates import PatientLinkRateLimit, rate_limited
from scheduling import pain
from scheduling.models import Case

from .links import LinkError, link_claim
from .pain_replies import pain_page_answer


# The signed token in the address is what authorises the form, and a forger would need it;
# the page's no-referrer policy makes browsers send "Origin: null", which Django's CSRF check
# refuses, so that check would only stop the patient.
@csrf_exempt
@require_POST
@rate_limited(PatientLinkRateLimit)
def patient_pain(request, token):
    now = timezone.now()
    try:
        claim = link_claim(token, now=now)
        case = Case.objects.select_related("site", "patient").filter(pk=claim.case_id).first()
        if case is None:
            raise LinkError("This link is not valid.")
        claim.check_current(case)
    except LinkError as exc:
        return render(request, "notifications/patient/invalid.html", {"reason": str(exc)},
                      status=404)
    page = reverse("patient-page", kwargs={"token": token})
    score = pain.score_from_reply(request.POST.get("score", ""))
    if score is None:
        return redirect(f"{page}?pain=invalid#pain")
    pain_page_answer(case=case, score=score, now=now)
    return redirect(f"{page}#pain")
