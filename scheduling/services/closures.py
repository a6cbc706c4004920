"""Close a site, a room or bay, or a surgeon's diary for some days, and lift the closure again;
and the refusal a booking on a closed day meets.

A closure never moves a case: the cases already booked on its days come back as `affected` and
carry the `on_closed_day` flag (flags.py) until the front desk moves them, or the closure is
lifted."""

from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q

from ..errors import SchedulingError
from ..models import CLOSED_STATUSES, Case, Closure, Resource, Site, Surgeon
from ..slots import DayBook


def closure_create(
    *,
    site: Site,
    start_date: date,
    end_date: date,
    reason: str,
    created_by: AbstractBaseUser,
    resource: Resource | None = None,
    surgeon: Surgeon | None = None,
) -> tuple[Closure, list[Case]]:
    """The closure, and the cases still to come or under way on its days that it shuts out
    (in day and start order), left where they are."""
    closure_check(
        start_date=start_date, end_date=end_date,
        names_resource=resource is not None, names_surgeon=surgeon is not None,
    )
    if resource is not None and resource.site_id != site.pk:
        # A programming error: the API finds the resource among the site's own.
        raise ValueError("The resource is at another site.")
    with transaction.atomic():
        closure = Closure.objects.create(
            site=site, start_date=start_date, end_date=end_date, reason=reason.strip(),
            resource=resource, surgeon=surgeon, created_by=created_by,
        )
        affected = list(cases_closed_by(closure=closure))
    return closure, affected


def closure_check(
    *, start_date: date, end_date: date, names_resource: bool, names_surgeon: bool
) -> None:
    """Refuse a closure that cannot be: the API asks before looking up the names it was given,
    so the same input always meets the same refusal."""
    if end_date < start_date:
        raise SchedulingError(
            "closure_days_out_of_order",
            f"The last day ({end_date}) is before the first ({start_date}).",
            field="end_date",
        )
    if names_resource and names_surgeon:
        raise SchedulingError(
            "closure_room_or_surgeon",
            "Close a room or bay, or a surgeon's diary, not both at once: add two closures.",
            field="resource",
        )


def closure_delete(*, closure: Closure) -> None:
    """Lift the closure: its days are bookable again and its cases lose the flag."""
    closure.delete()


def cases_closed_by(*, closure: Closure):
    """The cases not yet over on the closure's days that it touches: every case of the site,
    those holding the room or bay, or the surgeon's (at any site)."""
    cases = Case.objects.filter(
        day__gte=closure.start_date, day__lte=closure.end_date
    ).exclude(status__in=CLOSED_STATUSES)
    if closure.surgeon_id:
        cases = cases.filter(surgeon_id=closure.surgeon_id)
    elif closure.resource_id:
        cases = cases.filter(
            Q(stages__resource_id=closure.resource_id, stages__active=True)
        ).distinct()
    else:
        cases = cases.filter(site_id=closure.site_id)
    return cases.order_by("day", "procedure_start", "pk")


def closure_refusal(book: DayBook) -> SchedulingError | None:
    """Why a closure keeps the case off the whole day, as the front desk reads it, or None."""
    if book.closed is None:
        return None
    day = f"{book.day:%A %-d %B %Y}"
    site_closure = next(
        (c for c in book.closures if not c.resource_id and not c.surgeon_id), None
    )
    if book.closed == "site_closed":
        return SchedulingError(
            "site_closed", f"{book.site.name} is closed on {day} ({site_closure.reason}).",
            field="date",
        )
    if book.closed == "surgeon_on_leave":
        surgeon = book.requested_surgeon
        leave = next(c for c in book.closures if c.surgeon_id == surgeon.pk)
        return SchedulingError(
            "surgeon_on_leave", f"{surgeon.name} is on leave on {day} ({leave.reason}).",
            field="surgeon",
        )
    closed = ", ".join(
        f"{c.resource.name} ({c.reason})" for c in book.closures if c.resource_id
    )
    return SchedulingError(
        "resource_closed",
        f"No room or bay this case needs is left open on {day}: closed {closed}.",
        field="date",
    )
