"""Pain scores (0-10) that patients give at booking and on the follow-up days after their
procedure, by text or on their page: the outcome the procedure is for.

Imported by scheduling.models, so Django registers it with the app; the foreign key names its
target as a string so this module needs nothing from models.py. The reply's own words are not
kept here (the text stays with the inbound message it came in): only the number."""

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q


class PainSource(models.TextChoices):
    SMS = "sms", "Text message"
    LINK = "link", "The patient's page"


class PainScore(models.Model):
    case = models.ForeignKey(
        "scheduling.Case", on_delete=models.CASCADE, related_name="pain_scores"
    )
    followup_day = models.PositiveSmallIntegerField(
        null=True, blank=True,
        help_text="The day after the procedure it answers; empty: the booking's ask, before "
        "the procedure.",
    )
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])
    received_at = models.DateTimeField()
    source = models.CharField(max_length=8, choices=PainSource.choices)
    # The provider's id of the text that gave it, so a webhook's retry and the reply it gets
    # find the same score.
    sms_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["case", "received_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=10), name="pain_score_0_to_10"),
            # One answer per ask: the booking's, and each follow-up day's.
            models.UniqueConstraint(
                fields=["case"], condition=Q(followup_day__isnull=True),
                name="one_pain_score_before",
            ),
            models.UniqueConstraint(
                fields=["case", "followup_day"], condition=Q(followup_day__isnull=False),
                name="one_pain_score_per_day",
            ),
            models.UniqueConstraint(
                fields=["sms_id"], condition=~Q(sms_id=""), name="one_pain_score_per_text"
            ),
        ]
        indexes = [
            # The outcomes report reads the scores of a period's cases from the index alone, one
            # case at a time, instead of scanning every score ever given.
            models.Index(
                fields=["case"], include=["followup_day", "score"], name="pain_score_case_report"
            ),
        ]

    def __str__(self) -> str:
        when = "before" if self.followup_day is None else f"day {self.followup_day}"
        return f"Pain {self.score}/10 ({when})"
