"""Cases cancelled or missed, and how the messages did: counted in the database per ISO week
(and per kind of message), so the cost is the same for a quiet month and a busy year."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Q
from django.db.models.functions import TruncWeek

from notifications.models import NOT_REACHED_STATUSES, MessageKind, Reminder, ReminderStatus

from .. import pain
from ..models import Case, CaseStatus, Site
from .period import Period, percent, week_of

# A follow-up message retried, or sent again by the front desk, goes out up to this many days
# after the follow-up day it was planned for.
LATE_MESSAGE_DAYS = 31


@dataclass
class CaseWeek:
    week: date
    cases: int = 0
    cancelled: int = 0
    no_show: int = 0

    @property
    def cancelled_pct(self) -> float | None:
        return percent(self.cancelled, self.cases)

    @property
    def no_show_pct(self) -> float | None:
        return percent(self.no_show, self.cases)

    def add(self, other: "CaseWeek") -> None:
        self.cases += other.cases
        self.cancelled += other.cancelled
        self.no_show += other.no_show


@dataclass
class Cancellations:
    period: Period
    weeks: list[CaseWeek]
    total: CaseWeek


def cancellations_get(*, site: Site, period: Period) -> Cancellations:
    """Cases by the week of their procedure day: the week that lost the slot."""
    counts = (
        Case.objects.filter(site=site, day__range=(period.start, period.end))
        .annotate(week=TruncWeek("day"))
        .values("week")
        .annotate(
            cases=Count("id"),
            cancelled=Count("id", filter=Q(status=CaseStatus.CANCELLED)),
            no_show=Count("id", filter=Q(status=CaseStatus.NO_SHOW)),
        )
    )
    weeks = {week: CaseWeek(week) for week in period.weeks}
    total = CaseWeek(period.start)
    for row in counts:
        week = _monday(row["week"], period)
        line = CaseWeek(week, row["cases"], row["cancelled"], row["no_show"])
        weeks[line.week].add(line)
        total.add(line)
    return Cancellations(period, list(weeks.values()), total)


COUNTS = ("planned", "sent", "delivered", "failed", "confirmed")


@dataclass
class MessageCounts:
    planned: int = 0  # every message made for the period, less those withdrawn by a change
    sent: int = 0  # handed to the SMS or email provider
    delivered: int = 0
    failed: int = 0
    confirmed: int = 0  # sent, and the patient confirmed the case after it went out

    def add(self, other: "MessageCounts") -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def delivered_pct(self) -> float | None:
        return percent(self.delivered, self.sent)


KIND_LABELS = dict(MessageKind.choices)
KIND_ORDER = list(MessageKind.values)


def _kind_order(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


@dataclass
class MessageWeek:
    week: date
    total: MessageCounts = field(default_factory=MessageCounts)
    kinds: dict[str, MessageCounts] = field(default_factory=dict)

    @property
    def labelled(self) -> list[tuple[str, MessageCounts]]:
        """(the kind's label, its counts) in the order of the message kinds."""
        return [(KIND_LABELS.get(kind, kind), self.kinds[kind])
                for kind in sorted(self.kinds, key=_kind_order)]


@dataclass
class Messages:
    period: Period
    weeks: list[MessageWeek]
    kinds: list[tuple[str, MessageCounts]]  # (label, the period's counts) per kind used
    total: MessageCounts


def messages_get(*, site: Site, period: Period) -> Messages:
    """Messages by the week (in the site's zone) they were due to go out, and by kind."""
    counts = (
        Reminder.objects.filter(
            case__site=site, case__day__range=message_case_days(site, period),
            due_at__gte=period.starts_at, due_at__lt=period.ends_at,
        )
        .annotate(week=TruncWeek("due_at", tzinfo=period.zone))
        .values("week", "kind")
        # Counted by a column the message report index holds (every message has a kind), not by
        # id, which it does not: PostgreSQL then counts from the index alone, never the table.
        .annotate(
            planned=Count("kind", filter=~Q(status=ReminderStatus.CANCELLED)),
            sent=Count("kind", filter=Q(sent_at__isnull=False)),
            delivered=Count("kind", filter=Q(status=ReminderStatus.DELIVERED)),
            failed=Count("kind", filter=Q(status__in=NOT_REACHED_STATUSES)),
            confirmed=Count(
                "kind", filter=Q(sent_at__isnull=False, case__confirmed_at__gte=F("sent_at"))
            ),
        )
        .order_by()
    )
    weeks = {week: MessageWeek(week) for week in period.weeks}
    kinds: dict[str, MessageCounts] = {}
    total = MessageCounts()
    for row in counts:
        line = MessageCounts(**{name: row[name] for name in COUNTS})
        week = weeks[_monday(row["week"], period)]
        week.kinds.setdefault(row["kind"], MessageCounts()).add(line)
        week.total.add(line)
        kinds.setdefault(row["kind"], MessageCounts()).add(line)
        total.add(line)
    return Messages(
        period=period,
        weeks=list(weeks.values()),
        kinds=[(KIND_LABELS.get(kind, kind), kinds[kind])
               for kind in sorted(kinds, key=_kind_order)],
        total=total,
    )


def message_case_days(site: Site, period: Period) -> tuple[date, date]:
    """The procedure days of the cases whose messages can fall due in the period: the messages
    are read through the site's cases of those days (an index), never by their due time across
    every site's history.

    Before its day, a message is due at the earliest when the booking or change that planned it
    was made (planning never makes one due in the past), and a case is booked at most the
    booking horizon ahead. After its day, only follow-ups go out: on the site's pain follow-up
    days, then retried or sent again for up to LATE_MESSAGE_DAYS."""
    last_followup = max(pain.followup_days(site.pain_followup_days), default=0)
    return (
        period.start - timedelta(days=last_followup + LATE_MESSAGE_DAYS),
        period.end + timedelta(days=settings.BOOKING_HORIZON_DAYS),
    )


def _monday(value: date | datetime, period: Period) -> date:
    """TruncWeek's answer as the Monday in the site's zone. The databases differ in what they
    hand back for a truncated time (an aware instant on both, in UTC or in the zone asked for),
    so the instant is read in the site's zone; a date column is already a local day."""
    if isinstance(value, datetime):
        value = value.astimezone(period.zone).date()
    return week_of(value)
