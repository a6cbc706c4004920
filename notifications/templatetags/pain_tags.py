"""What the pain form on the patient's page shows: the open ask, and its answer once given."""

from dataclasses import dataclass

from django import template
from django.utils import timezone

from scheduling import pain
from scheduling.services.pain import pain_moment_open

register = template.Library()


@dataclass(frozen=True)
class PainOnPage:
    open: bool
    followup_day: int | None = None
    score: int | None = None  # the answer already given to the open ask

    @property
    def scale(self) -> range:
        return range(11)

    @property
    def needs_call(self) -> bool:
        return pain.needs_call(score=self.score, followup_day=self.followup_day, worrying=False)


@register.simple_tag
def pain_on_page(case) -> PainOnPage:
    moment = pain_moment_open(case=case, now=timezone.now())
    if moment is None:
        return PainOnPage(open=False)
    given = next(
        (s.score for s in case.pain_scores.all() if s.followup_day == moment.followup_day), None
    )
    return PainOnPage(open=True, followup_day=moment.followup_day, score=given)
