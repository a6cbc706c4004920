"""The booking form's finder: registered patients named by what a clerk types."""

import re

from django.db.models import Q, QuerySet

from ..models import Patient
from ..timing import date_typed

FOUND_SHOWN = 8  # patients the finder lists at most; a longer list needs a narrower search


def patients_found(mine: QuerySet[Patient], typed: str, *, locale: str) -> list[Patient]:
    """Registered patients (of `mine`, the visible ones) a clerk's words name: a date of birth as
    the site writes it, or a name ("Whitfield", "Whitfield, Margaret", "Margaret Whitfield")."""
    born = date_typed(typed, locale=locale)
    if born is not None:
        condition = Q(date_of_birth=born)
    else:
        words = [word for word in re.split(r"[\s,]+", typed) if word]
        if not words:
            return []
        condition = Q()
        for word in words[:3]:
            condition &= Q(last_name__icontains=word) | Q(first_name__icontains=word)
    return list(mine.filter(condition).order_by("last_name", "first_name", "pk")[:FOUND_SHOWN])
