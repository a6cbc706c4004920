"""What every page behind the patient link shares: the case a token opens, and the language and
time zone a page is drawn in.

A page about a case is in its patient's language (Patient.language) and its site's time zone.
A page without a case (a link that is not ours, a rate limit) is in the visitor's language, as
their browser asks for it (Accept-Language); a genuine link that has expired or was revoked is in
its patient's language, though it shows nothing of the case. English is the fallback for a
language with no catalogue under locale/.
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

from scheduling.models import Case

from .links import NOT_VALID, LinkError, link_claim

INVALID = "notifications/patient/invalid.html"


def language_supported(language: str) -> str:
    """The configured language (settings.LANGUAGES) nearest to `language`: es-MX reads as es."""
    try:
        return translation.get_supported_language_variant(language or settings.LANGUAGE_CODE)
    except LookupError:
        return translation.get_supported_language_variant(settings.LANGUAGE_CODE)


def in_visitors_language(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Draw the view's pages in the browser's language unless the view says otherwise (a page
    about a case speaks its patient's)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        language = language_supported(translation.get_language_from_request(request))
        with translation.override(language):
            response = view(request, *args, **kwargs)
            if not response.has_header("Content-Language"):
                response["Content-Language"] = language
        patch_vary_headers(response, ["Accept-Language"])
        return response

    return wrapped


def patient_render(
    request: HttpRequest, template: str, context: dict, *, case: Case, status: int = 200
) -> HttpResponse:
    """A page about the case, in its patient's language and its site's time zone."""
    language = language_supported(case.patient.language)
    with translation.override(language), timezone.override(case.site.zone):
        response = render(request, template, {"case": case, **context}, status=status)
    response["Content-Language"] = language
    return response


def case_of_token(token: str) -> Case:
    """The case the token opens, with what its pages show; LinkError when it opens none."""
    claim = link_claim(token, now=timezone.now())
    case = (
        Case.objects.select_related("site", "patient", "procedure_type", "surgeon")
        .prefetch_related("stages", "held_medications__drug")
        .filter(pk=claim.case_id)
        .first()
    )
    if case is None:
        raise LinkError(NOT_VALID)
    claim.check_current(case)
    return case


def case_or_invalid_page(
    request: HttpRequest, token: str
) -> tuple[Case | None, HttpResponse | None]:
    """(case, None), or (None, the friendly 404 page) for a link that opens no case."""
    try:
        return case_of_token(token), None
    except LinkError as exc:
        language = translation.get_language()
        if exc.case_id is not None:
            owner = Case.objects.select_related("patient").filter(pk=exc.case_id).first()
            if owner is not None:
                language = language_supported(owner.patient.language)
        with translation.override(language):
            response = render(request, INVALID, {"reason": str(exc)}, status=404)
        response["Content-Language"] = language
        return None, response
