"""The waiting room's family board: each checked-in case only as a short code and its stage.

Families are told their code at check-in; the board, reached by the site's random token with no
login, shows nothing else about the patient (no name, MRN, procedure or times). `family_board_get`
costs two queries whatever the number of cases: the site by its token, then the day's cases
(two columns of them).

The code is issued here too (`case_family_code_issue`), from tracking.case_check_in inside its
transaction, because its alphabet and shape belong with the board that shows it.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, transaction

from ..models import Case, CaseStatus, Site

# No vowels, so that no code spells a word, and none of the look-alikes O/0, I/1 (and L, which
# passes for 1 on some screens).
CODE_LETTERS = "BCDFGHJKMNPQRSTVWXZ"
CODE_DIGITS = "23456789"
CODE_SHAPE = re.compile(rf"[{CODE_LETTERS}]{{3}}[{CODE_DIGITS}]{{2}}")
# secrets.token_urlsafe(24) gives 32 characters; anything else is refused without a query.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")


# The word a family reads for each status shown, in the order a patient moves through the unit
# (the page's legend follows it).
FAMILY_STAGES = {
    CaseStatus.CHECKED_IN: "Checked in",
    CaseStatus.IN_PRE_OP: "Pre-op",
    CaseStatus.IN_PROCEDURE: "Procedure",
    CaseStatus.CEMENT_SETTING: "Cement setting",
    CaseStatus.IN_RECOVERY: "Recovery",
    CaseStatus.DISCHARGED: "Ready to go home",
}


@dataclass(frozen=True)
class FamilyLine:
    code: str
    status: str
    stage: str  # the family's word for it


@dataclass(frozen=True)
class FamilyBoard:
    site: Site
    day: date
    updated_at: datetime  # in the site's zone
    lines: list[FamilyLine]


def family_board_get(token: str, now: datetime) -> FamilyBoard | None:
    """The board of the site whose family-board token this is, or None (unknown or revoked)."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    # An exact match on a random 192-bit token: guessing one is hopeless, so the lookup's timing
    # tells an attacker nothing useful.
    site = Site.objects.filter(family_board_token=token).only("name", "time_zone").first()
    if site is None:
        return None
    local_now = now.astimezone(site.zone)
    # A case whose check-in was undone keeps its code but is BOOKED/CONFIRMED again, so it
    # leaves the board until it is checked in once more; cancelled and no-show never show.
    rows = (
        Case.objects.filter(site=site, day=local_now.date(), status__in=list(FAMILY_STAGES))
        .exclude(family_code="")
        .order_by("family_code")
        .values_list("family_code", "status")
    )
    lines = [FamilyLine(code, status, FAMILY_STAGES[status]) for code, status in rows]
    return FamilyBoard(site=site, day=local_now.date(), updated_at=local_now, lines=lines)


def family_code_new() -> str:
    letters = "".join(secrets.choice(CODE_LETTERS) for _ in range(3))
    digits = "".join(secrets.choice(CODE_DIGITS) for _ in range(2))
    return letters + digits


def case_family_code_issue(case: Case) -> str:
    """Give a checked-in case its code, unique among the site's cases that day.

    Call inside the check-in's transaction. A case that already has one (its check-in was undone
    and is being done again) keeps it: the family may already have been told it.
    """
    if case.family_code:
        return case.family_code
    taken = set(
        Case.objects.filter(site_id=case.site_id, day=case.day)
        .exclude(family_code="")
        .values_list("family_code", flat=True)
    )
    for _ in range(20):
        code = family_code_new()
        if code in taken:
            continue
        # Two check-ins at the same site can draw the same code at the same moment; the unique
        # constraint refuses the second, which draws again inside its own savepoint.
        case.family_code = code
        try:
            with transaction.atomic():
                case.save(update_fields=["family_code", "updated_at"])  # audited, like status
        except IntegrityError:
            case.family_code = ""
            taken.add(code)
            continue
        return code
    raise RuntimeError("No free family code after 20 draws.")  # 6,859 x 64 codes a day
