"""The page behind an offer's link: no login, only the offer its token names, in the patient's
language. Accept books the time (scheduling.offers.accept); the page then shows what happened."""

from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods

from limits.rates import PatientLinkRateLimit, rate_limited
from scheduling.models import EventSource
from scheduling.offer_models import Offer
from scheduling.offers.accept import offer_accept, offer_decline
from scheduling.offers.links import offer_id_from
from scheduling.offers.texts import offer_language

from .rendering import language_code


@require_http_methods(["GET", "POST"])
@rate_limited(PatientLinkRateLimit, methods=["POST"])
def offer_page(request, token):
    offer_id = offer_id_from(token)
    offer = (
        Offer.objects.select_related("patient", "freed_time__site", "case").filter(pk=offer_id)
        .first() if offer_id else None
    )
    if offer is None:
        language = language_code(translation.get_language_from_request(request))
        with translation.override(language):
            return render(request, "notifications/offer/page.html",
                          {"offer": None, "language": language}, status=404)
    if request.method == "POST":
        if request.POST.get("answer") == "accept":
            offer_accept(offer_id=offer.pk, source=EventSource.PATIENT_LINK)
        elif request.POST.get("answer") == "decline":
            offer_decline(offer_id=offer.pk)
        return redirect("offer-page", token=token)
    language = offer_language(offer)
    site = offer.freed_time.site
    context = {
        "offer": offer, "site": site, "language": language,
        "open": offer.status == "offered" and timezone.now() < offer.expires_at,
    }
    with translation.override(language), timezone.override(site.zone):
        return render(request, "notifications/offer/page.html", context)
