"""When a patient is asked for their pain. Pure, like planning: facts in, plan out.

The booking's ask is an ordinary rule (anchored on the booking). A rule anchored on the pain
follow-up days stands for one ask on each of the site's days after the procedure day, at the
rule's time of day in the site's zone (10:00 stays 10:00 across a daylight-saving change), each
with its own note ("day:7") so the days are separate messages and a reply finds its day."""

from dataclasses import replace
from datetime import datetime

from . import planning

PAIN_ASK = "pain_ask"
FOLLOWUP_ANCHOR = "pain_followup"
NOTE_PREFIX = "day"
MINUTES_A_DAY = 24 * 60


def followup_note(day: int) -> str:
    return f"{NOTE_PREFIX}:{day}"


def followup_day_of(note: str) -> int | None:
    """The follow-up day a pain ask's note names; None for the booking's ask."""
    prefix, _, day = (note or "").partition(":")
    return int(day) if prefix == NOTE_PREFIX and day.isdigit() else None


def plan_with_pain_followups(
    facts: planning.CaseFacts,
    rules: list[planning.RuleSpec],
    now: datetime,
    *,
    answered: frozenset[int | None] = frozenset(),
) -> list[planning.PlannedMessage]:
    """`planning.plan_messages` for `rules`, with each follow-up rule made into one ask per
    follow-up day of `facts`. An ask already `answered` (the booking's: None; a day: its number)
    is not asked again, e.g. after a reschedule."""
    plain = [rule for rule in rules if rule.anchor != FOLLOWUP_ANCHOR]
    planned = [
        message
        for message in planning.plan_messages(facts, plain, now)
        # The booking's ask is about the pain before the procedure: not asked once it began.
        if not (
            message.kind == PAIN_ASK
            and (None in answered or message.due_at >= facts.procedure_start)
        )
    ]
    for rule in rules:
        if rule.anchor != FOLLOWUP_ANCHOR:
            continue
        for day in facts.pain_followup_days:
            if day in answered:
                continue
            daily = (
                replace(rule, anchor="procedure_start", day_offset=day)
                if rule.at_time is not None
                else replace(  # no time of day: whole days after the procedure's start
                    rule, anchor="procedure_start",
                    offset_minutes=rule.offset_minutes + day * MINUTES_A_DAY,
                )
            )
            planned += [
                replace(message, note=followup_note(day))
                for message in planning.plan_messages(facts, [daily], now)
            ]
    return sorted(planned, key=lambda message: (message.due_at, message.kind))
