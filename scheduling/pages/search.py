"""Patient search: by name, MRN, date of birth or phone, over the patients the user may see
(selectors.patients_visible), each with their cases at the user's sites (two queries, however
many match)."""

import re
from datetime import date

from django.db.models import Prefetch, Q
from django.shortcuts import render

from .. import roles, selectors
from ..horizon import ISO_DAY
from ..models import Case, Patient
from ..timing import DEFAULT_LOCALE, date_text, date_typed
from .access import role_required

SEARCH_MIN_CHARS = 2
SEARCH_LIMIT = 50
SEARCH_HINT = (
    "Type at least two characters of a name, an MRN, a date of birth or a phone number."
)
PHONE_LIKE = re.compile(r"[\d\s()+.\-]+")
PHONE_MIN_DIGITS = 4


@role_required(*roles.READ_CASES)
def patient_search(request):
    # A NUL byte can only be pasted in by mistake, and PostgreSQL refuses text holding one.
    query = " ".join(request.GET.get("q", "").replace("\x00", " ").split())[:100]
    patients, hint, more = [], "", False
    locale = _locale_of(request.user)
    if len(query) < SEARCH_MIN_CHARS:
        hint = SEARCH_HINT
    else:
        condition, hint = _search_condition(query, locale=locale)
        if condition is not None:
            patients = _patients_matching(condition, request.user)
            more = len(patients) > SEARCH_LIMIT
            patients = patients[:SEARCH_LIMIT]
    context = {"query": query, "patients": patients, "hint": hint, "more": more,
               "limit": SEARCH_LIMIT,
               "born_example": date_text(date(1944, 3, 17), locale=locale, style="short"),
               "can_book": roles.user_has_role(request.user, roles.BOOK_CASES)}
    return render(request, "pages/search.html", context)


def _locale_of(user) -> str:
    """The locale a date of birth is typed in: that of the user's first site (as the booking
    form's finder reads it), so 03/17/1944 finds the same patient on both pages."""
    site = selectors.visible_sites(user).order_by("pk").first()
    return site.locale if site is not None else DEFAULT_LOCALE


def _search_condition(query: str, *, locale: str) -> tuple[Q | None, str]:
    """What the query can mean: a date of birth, a phone number or MRN, or a name or MRN."""
    mrn = Q(mrn__icontains=query)
    if not ISO_DAY.fullmatch(query) and (born := date_typed(query, locale=locale)) is not None:
        return Q(date_of_birth=born), ""
    if ISO_DAY.fullmatch(query):
        try:
            return Q(date_of_birth=date.fromisoformat(query)), ""
        except ValueError:
            return None, f"“{query}” is not a date. Give a date of birth as YYYY-MM-DD."
    if PHONE_LIKE.fullmatch(query):
        digits = re.sub(r"\D", "", query)
        if len(digits) < PHONE_MIN_DIGITS:
            return mrn, ""
        # Phones are stored in E.164 (+12125550100): the digits typed, in any layout, with or
        # without the country code, are a run inside it.
        return mrn | Q(phone__contains=digits), ""
    name = Q()
    for word in re.split(r"[\s,]+", query):
        if word:
            name &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    return mrn | name, ""


def _patients_matching(condition: Q, user) -> list[Patient]:
    """The user's patients that match, each with their cases at the user's sites: two queries."""
    sites = selectors.visible_sites(user)
    cases = (
        Case.objects.filter(site__in=sites)
        .select_related("site", "procedure_type")
        .order_by("-day", "-procedure_start")
    )
    return list(
        selectors.patients_visible(user).filter(condition)
        .prefetch_related(Prefetch("cases", queryset=cases, to_attr="visible_cases"))
        .order_by("last_name", "first_name", "pk")[: SEARCH_LIMIT + 1]
    )
