"""The unit's configuration as bookings read it, kept in each process between requests.

A booking reads the same few things every time: the procedure type and its stages, the site's
opening hours for the weekday, its rooms and bays, the surgeons' shifts, the closures and leave
ahead, and the reminder rules. They change when a manager edits them, a few times a month;
bookings are made all day. So each
process keeps what it read, with the configuration's stamp (config_models.ConfigStamp) of the
moment it read it, and reads it again only when the stamp has changed.

Why this is right across processes: the stamp is a row of the database, renewed by triggers in
the same transaction as any write to those tables (the admin, the API, a bulk insert, a seed
command), and never given the same value twice. Every gunicorn worker and Celery process reads
the stamp before it trusts its copy, so a change committed anywhere is seen by the next booking
everywhere, and a change rolled back never matches a copy made while it was pending. The
Django cache would not do: in the embedded default, and in production without CACHE_URL, it is
each process's own memory, so one worker would never hear of a change made through another.

The stamp costs nothing when the site came from selectors.site_get, which reads it in the same
statement as the site (`STAMP_FIELD`); otherwise it is one read of one row.
"""

from collections.abc import Callable
from datetime import date, time
from typing import NamedTuple, TypeVar

from django.db.models import Prefetch, Q, Subquery

from .models import (
    Closure,
    ConfigStamp,
    OpeningHours,
    ProcedureType,
    Resource,
    Site,
    StageTemplate,
    Surgeon,
    SurgeonHours,
)

T = TypeVar("T")
STAMP_FIELD = "config_stamp"
# Copies kept per process: a few per site, weekday and procedure type. Past this, all are
# dropped and read again, which only costs the reads.
MOST_KEPT = 1024

_kept: dict[tuple, tuple[int, object]] = {}


def stamp_read() -> Subquery:
    """The stamp as a column, for the site's own query (selectors.site_get)."""
    return Subquery(ConfigStamp.objects.filter(pk=1).values("value")[:1])


def stamp_of(site: Site | None = None) -> int | None:
    """The configuration's stamp: as read with the site, else from its row. None: no row (a
    database flushed by a test), and nothing is kept until a write renews it."""
    stamp = getattr(site, STAMP_FIELD, None) if site is not None else None
    if stamp is None:
        stamp = ConfigStamp.objects.filter(pk=1).values_list("value", flat=True).first()
    return stamp


def kept(key: tuple, load: Callable[[], T], *, stamp: int | None) -> T:
    """What `load` returns, read again only when the stamp differs from the kept copy's."""
    if stamp is None:
        return load()
    copy = _kept.get(key)
    if copy is not None and copy[0] == stamp:
        return copy[1]
    value = load()
    if len(_kept) >= MOST_KEPT:
        _kept.clear()
    _kept[key] = (stamp, value)
    return value


def procedure_type_bookable(code: str, *, site: Site | None = None) -> ProcedureType | None:
    """The active procedure type with this code that has stages, its stages in order (as
    prefetched), or None."""

    def load() -> ProcedureType | None:
        return (
            ProcedureType.objects.filter(code=code, active=True, stage_templates__isnull=False)
            .distinct()
            .prefetch_related(
                Prefetch("stage_templates", StageTemplate.objects.order_by("position"))
            )
            .first()
        )

    return kept(("procedure_type", code), load, stamp=stamp_of(site))


class ShiftHours(NamedTuple):
    surgeon: Surgeon
    opens: time
    closes: time


class WeekdaySetup(NamedTuple):
    """A site's weekday before closures: its opening hours (None: it does not open), its
    active rooms and bays by name, and the surgeons' working periods by name, then start."""

    hours: tuple[time, time] | None
    resources: tuple[Resource, ...]
    shifts: tuple[ShiftHours, ...]


def weekday_setup(*, site: Site, weekday: int, surgeon: Surgeon | None = None) -> WeekdaySetup:
    """The site's weekday; the shifts of `surgeon` alone when one is asked for (wherever they
    work), else of every active surgeon of the site."""

    def load() -> WeekdaySetup:
        hours = OpeningHours.objects.filter(site=site, weekday=weekday).first()
        shifts = SurgeonHours.objects.filter(weekday=weekday, surgeon__active=True)
        shifts = shifts.filter(surgeon=surgeon) if surgeon else shifts.filter(surgeon__sites=site)
        return WeekdaySetup(
            hours=(hours.opens, hours.closes) if hours else None,
            resources=tuple(Resource.objects.filter(site=site, active=True).order_by("name")),
            shifts=tuple(
                ShiftHours(shift.surgeon, shift.opens, shift.closes)
                for shift in shifts.select_related("surgeon").order_by("surgeon__name", "opens")
            ),
        )

    key = ("weekday", site.pk, weekday, surgeon.pk if surgeon else None)
    return kept(key, load, stamp=stamp_of(site))


def closures_ahead(*, site: Site, today: date) -> tuple[Closure, ...]:
    """The closures not over by `today` that can touch the site's days: the site's own (the
    whole site, a room or bay) and every surgeon's leave, wherever it was entered; first day
    first. A few rows, kept as one copy per site and day."""

    def load() -> tuple[Closure, ...]:
        return tuple(
            Closure.objects.filter(Q(site=site) | Q(surgeon__isnull=False), end_date__gte=today)
            .select_related("resource", "surgeon")
        )

    return kept(("closures", site.pk, today), load, stamp=stamp_of(site))
