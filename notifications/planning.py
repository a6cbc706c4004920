"""Which messages a case gets, to whom, by which channel and when. Pure: facts in, plan out.

Wall-clock rules ("the day before at 16:00") are placed in the site's zone; offsets ("48 hours
after discharge") are added in UTC, so they are real hours across a daylight-saving change.

One text where one will do: held drugs that start pausing on the same day share one message
(its note names the day, "hold:2026-03-05"), and a notice of a change takes in the messages
that would have gone out with it (`messages_folded`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

QUIET_ENDS = time(8, 0)  # messages may go from 08:00 ...
QUIET_STARTS = time(21, 0)  # ... until 21:00, in the recipient's zone


@dataclass(frozen=True)
class RuleSpec:
    id: int
    kind: str
    audience: str  # patient | driver
    anchor: str  # booking | arrival | procedure_start | discharge | hold_start
    offset_minutes: int = 0
    day_offset: int = 0
    at_time: time | None = None
    channel: str = "preferred"  # preferred | sms | email
    condition: str = "always"  # always | has_held_drug | has_driver | needs_inr
    urgent: bool = False
    skip_in_quiet_hours: bool = False
    send_within_minutes: int = 720


@dataclass(frozen=True)
class HeldDrug:
    id: int
    code: str
    hold_starts_on: date
    inr_check: bool = False


@dataclass(frozen=True)
class CaseFacts:
    zone: ZoneInfo
    booked_at: datetime  # the booking, or the change that is being planned
    arrival_at: datetime
    procedure_start: datetime
    discharge_at: datetime
    patient_phone: str = ""
    patient_email: str = ""
    preferred_channel: str = "sms"
    driver_phone: str = ""
    held_drugs: tuple[HeldDrug, ...] = ()
    opted_out_phones: frozenset[str] = frozenset()
    pain_followup_days: tuple[int, ...] = ()  # the site's; see notifications.pain_planning


@dataclass(frozen=True)
class PlannedMessage:
    rule_id: int
    kind: str
    audience: str
    channel: str
    recipient: str
    due_at: datetime
    send_by: datetime
    # What the message is about beyond its kind: part of the reminder's unique key.
    note: str = ""


HOLD_NOTE_PREFIX = "hold"


def hold_note(day: date) -> str:
    """The note of the medication-hold message for the drugs whose first day without is `day`."""
    return f"{HOLD_NOTE_PREFIX}:{day.isoformat()}"


def hold_day(note: str | None) -> date | None:
    """The hold day a note names (a hold message's, or a notice's that carries one), or None."""
    prefix, _, day = (note or "").partition(":")
    if prefix != HOLD_NOTE_PREFIX:
        return None
    try:
        return date.fromisoformat(day)
    except ValueError:
        return None


def plan_messages(facts: CaseFacts, rules: list[RuleSpec], now: datetime) -> list[PlannedMessage]:
    planned = []
    for rule in rules:
        for day in _hold_days_for(rule, facts):
            address = recipient(rule, facts)
            if address is None:
                continue
            channel, to = address
            anchor = _anchor_instant(rule, facts, day)
            due = _due(rule, anchor, facts.zone)
            send_by = due + timedelta(minutes=rule.send_within_minutes)
            if due < facts.procedure_start:
                # A message about the day itself is worthless once the procedure has begun.
                send_by = min(send_by, facts.procedure_start)
            due = max(due, now)
            if due > send_by:
                continue  # planned too late to be of use (e.g. booked for tomorrow)
            if not rule.urgent and is_quiet(due, facts.zone):
                if rule.skip_in_quiet_hours:
                    continue
                due = quiet_hours_end(due, facts.zone)
                send_by = max(send_by, due)
            planned.append(
                PlannedMessage(
                    rule_id=rule.id,
                    kind=rule.kind,
                    audience=rule.audience,
                    channel=channel,
                    recipient=to,
                    due_at=due,
                    send_by=send_by,
                    note=hold_note(day) if day else "",
                )
            )
    return sorted(planned, key=lambda message: (message.due_at, message.kind))


def messages_folded(
    notice: PlannedMessage, others: list[PlannedMessage], folds: Mapping[str, str]
) -> tuple[PlannedMessage, list[PlannedMessage]]:
    """The notice of a change, and the messages of `others` left to go on their own: a message
    that would reach the same recipient on the same channel at the same moment, of a kind that
    `folds` names, is folded into the notice instead. `folds` maps a kind to "" when the notice
    already says what it would (the new arrival time), else to the token the notice's note gets
    for the sentence its text adds ("fasting"; a hold message's token is its own note). An SMS
    has room for one such sentence: the notice carries the first, in the order of `folds`, and
    any other goes on its own (with the seeded rules no two fall due together)."""
    order = list(folds)
    at_its_moment = [
        message for message in others
        if message.kind in folds
        and (message.due_at, message.channel, message.recipient)
        == (notice.due_at, notice.channel, notice.recipient)
    ]
    said = [message for message in at_its_moment if not folds[message.kind]]
    sentences = sorted(
        (message for message in at_its_moment if folds[message.kind]),
        key=lambda message: order.index(message.kind),
    )
    folded = said + sentences[:1]
    note = (sentences[0].note or folds[sentences[0].kind]) if sentences else ""
    left = [message for message in others if not any(message is f for f in folded)]
    return replace(notice, note=note), left


def recipient(rule: RuleSpec, facts: CaseFacts) -> tuple[str, str] | None:
    """(channel, address), or None when nobody can be reached on a permitted channel."""
    if rule.audience == "driver":
        if facts.driver_phone and facts.driver_phone not in facts.opted_out_phones:
            return "sms", facts.driver_phone
        return None
    sms = facts.patient_phone if facts.patient_phone not in facts.opted_out_phones else ""
    options = {"sms": sms, "email": facts.patient_email}
    if rule.channel in options:
        order = [rule.channel]
    else:
        other = "email" if facts.preferred_channel == "sms" else "sms"
        order = [facts.preferred_channel, other]
    for channel in order:
        if options.get(channel):
            return channel, options[channel]
    return None


def is_quiet(instant: datetime, zone: ZoneInfo) -> bool:
    local = instant.astimezone(zone).time()
    return local < QUIET_ENDS or local >= QUIET_STARTS


def quiet_hours_end(instant: datetime, zone: ZoneInfo) -> datetime:
    """The first instant at or after `instant` outside quiet hours."""
    local = instant.astimezone(zone)
    day = local.date() if local.time() < QUIET_ENDS else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_ENDS, tzinfo=zone).astimezone(UTC)


def _hold_days_for(rule: RuleSpec, facts: CaseFacts) -> list[date | None]:
    """The first days without a held drug, one message each for a rule anchored on them;
    [None] (one message) for any other rule whose condition holds."""
    if rule.anchor == "hold_start":
        return sorted({drug.hold_starts_on for drug in facts.held_drugs})
    if rule.condition == "has_held_drug" and not facts.held_drugs:
        return []
    if rule.condition == "needs_inr" and not any(drug.inr_check for drug in facts.held_drugs):
        return []
    if rule.condition == "has_driver" and not facts.driver_phone:
        return []
    return [None]


def _anchor_instant(rule: RuleSpec, facts: CaseFacts, day: date | None) -> datetime:
    if rule.anchor == "hold_start":
        # The first day without the drugs, from the start of that day at the site.
        return datetime.combine(day, time(0), tzinfo=facts.zone).astimezone(UTC)
    return {
        "booking": facts.booked_at,
        "arrival": facts.arrival_at,
        "procedure_start": facts.procedure_start,
        "discharge": facts.discharge_at,
    }[rule.anchor]


def _due(rule: RuleSpec, anchor: datetime, zone: ZoneInfo) -> datetime:
    if rule.at_time is None:
        return anchor.astimezone(UTC) + timedelta(minutes=rule.offset_minutes)
    local_day = anchor.astimezone(zone).date() + timedelta(days=rule.day_offset)
    return datetime.combine(local_day, rule.at_time, tzinfo=zone).astimezone(UTC)
