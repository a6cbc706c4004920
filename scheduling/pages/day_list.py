"""The printable day list of a site: its cases under their procedure rooms, in start order, with
the same number of queries for one case or fifty."""

from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.shortcuts import render
from django.utils import timezone

from .. import roles, selectors
from ..flags import FLAG_LABELS
from ..models import RELEASED_STATUSES, Case, StageKind
from .access import role_required
from .site_day import site_and_day


@dataclass
class RoomDay:
    name: str
    cases: list[Case]


@role_required(*roles.READ_CASES)
def day_list(request):
    sites, site, day, today = site_and_day(request)
    if site is None:
        messages.info(request, "You do not work at any site yet: ask an administrator.")
        return render(request, "pages/day_list.html", {"sites": [], "site": None})
    rooms, released = _by_room(selectors.cases_of_day(site, day))
    context = {
        "sites": sites,
        "site": site,
        "day": day,
        "today": today,
        "rooms": rooms,
        "released": released,
        "count": sum(len(room.cases) for room in rooms),
        "closures": selectors.closures_of_day(site=site, day=day),
        "closed_day_label": FLAG_LABELS["on_closed_day"],
        "contrast_label": FLAG_LABELS["contrast_allergy"],
        "latex_label": FLAG_LABELS["latex_allergy"],
        "previous_day": date.fromordinal(day.toordinal() - 1),
        "next_day": date.fromordinal(day.toordinal() + 1),
    }
    with timezone.override(site.zone):
        return render(request, "pages/day_list.html", context)


def _by_room(cases: list[Case]) -> tuple[list[RoomDay], list[Case]]:
    """Active cases under their procedure room, rooms by name, cases in start order; cancelled
    and no-show cases apart."""
    rooms: dict[str, RoomDay] = {}
    released = []
    for case in cases:  # in procedure start order
        if case.status in RELEASED_STATUSES:
            released.append(case)
            continue
        room = next(
            (stage.resource.name for stage in case.stages.all()
             if stage.kind == StageKind.PROCEDURE),
            "No procedure room",
        )
        rooms.setdefault(room, RoomDay(room, [])).cases.append(case)
    return sorted(rooms.values(), key=lambda room: room.name), released
