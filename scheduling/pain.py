"""Pain follow-up, the rules without the database: which days a site asks on, what counts as an
answer (a whole number from 0 to 10), which words in a reply are worrying, and which moment a
score given on the patient's page belongs to.

A moment is the booking (before the procedure: `None`) or a follow-up day (1, 7, 30, ... days
after the procedure day, in the site's zone)."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

# A score at or above this after the procedure: the front desk calls the patient.
HIGH_SCORE = 8
# How long an ask stays open for a reply, and the page's form after a follow-up day's ask.
ANSWER_DAYS = 3
# The patient's link must still open on the last follow-up day and its answer days.
LINK_DAYS_AFTER_LAST_ASK = ANSWER_DAYS

# "7", "7.", " 7 ", "07". Not "7/10" (the scale is 0-10 and the patient is asked for one
# number: "7/10" may as well be a date or two numbers, so it gets the one retry), not "-1".
_WHOLE_NUMBER = re.compile(r"[0-9]{1,2}\.?", re.ASCII)
# A worrying reply is called about anyway; a number it starts with ("6, and it is red") is kept.
_LEADING_NUMBER = re.compile(r"\s*([0-9]{1,2})(?![0-9/.,]?[0-9])(?!\s*/)", re.ASCII)

# Words that make a reply worth a call, whatever the number: signs of an infection where the
# needle went in (the aftercare sheet's "redness or drainage, or any fever"). Compared without
# accents and case, as whole words.
WORRYING_WORDS = frozenset(
    {
        # English
        "fever", "feverish", "redness", "red", "hot", "pus", "drainage", "draining",
        # Spanish ("pus" is the same word)
        "fiebre", "calentura", "rojo", "roja", "rojos", "rojas", "rojez", "enrojecimiento",
        "enrojecido", "enrojecida", "supura", "supuracion", "caliente",
    }
)


def followup_days(text: str) -> tuple[int, ...]:
    """A site's follow-up days ("1,7,30") in order, each once; blank or junk parts are left
    out (the admin form validates the field; this reads what is stored whatever it holds)."""
    days = set()
    for part in (text or "").split(","):
        part = part.strip()
        if part.isascii() and part.isdigit() and 0 < int(part) <= 366:
            days.add(int(part))
    return tuple(sorted(days))


def score_from_reply(body: str) -> int | None:
    """The score in a reply that is only a whole number from 0 to 10, else None."""
    text = (body or "").strip()
    if not _WHOLE_NUMBER.fullmatch(text):
        return None
    score = int(text.rstrip("."))
    return score if score <= 10 else None


def leading_score(body: str) -> int | None:
    """The score a reply starts with ("6, and it is red": 6), else None."""
    match = _LEADING_NUMBER.match(body or "")
    return int(match[1]) if match and int(match[1]) <= 10 else None


def mentions_worry(body: str) -> bool:
    """Whether a reply names a fever, redness, heat or drainage, in English or Spanish."""
    plain = unicodedata.normalize("NFKD", (body or "").casefold())
    plain = "".join(char for char in plain if not unicodedata.combining(char))
    return any(word in WORRYING_WORDS for word in re.findall(r"[^\W\d_]+", plain))


def needs_call(*, score: int | None, followup_day: int | None, worrying: bool) -> bool:
    """A worrying reply, or a high score after the procedure: someone calls the patient."""
    after = followup_day is not None
    return worrying or (after and score is not None and score >= HIGH_SCORE)


@dataclass(frozen=True)
class Moment:
    followup_day: int | None  # None: before the procedure (the booking's ask)


def page_moment(*, today: date, procedure_day: date, days: tuple[int, ...]) -> Moment | None:
    """Which ask a score given on the patient's page `today` answers: before the procedure day,
    the booking's; from a follow-up day until the next one (or, after the last, for its answer
    days), that day's. None on the procedure day itself and outside those times."""
    if today < procedure_day:
        return Moment(None)
    elapsed = (today - procedure_day).days
    asked = [day for day in days if day <= elapsed]
    if not asked or elapsed > days[-1] + ANSWER_DAYS:
        return None
    return Moment(asked[-1])


def link_days_after_procedure(days: tuple[int, ...]) -> int:
    """How many days after the procedure day the patient's link must still open: until the
    answer days of the last follow-up ask are over (0 with no follow-up)."""
    return days[-1] + LINK_DAYS_AFTER_LAST_ASK if days else 0


def moment_label(followup_day: int | None) -> str:
    return "Before" if followup_day is None else f"Day {followup_day}"
