"""Time the unit is shut: a whole site (a public holiday, a day, a range of days), one room or
bay (maintenance), or one surgeon (leave). The slot search, the day planner and the board read
them through unit_day.py and `case_on_closed_day`; a closure never moves a case, it flags it.

Imported by scheduling.models, so Django registers it with the app; the foreign keys name their
targets as strings so this module needs nothing from models.py."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q


class ClosureQuerySet(models.QuerySet):
    def covering(self, day) -> "ClosureQuerySet":
        """The closures whose days (both ends included) include `day`."""
        return self.filter(start_date__lte=day, end_date__gte=day)


class Closure(models.Model):
    """One closure. With neither `resource` nor `surgeon` the whole site is shut; with
    `resource` that room or bay alone; with `surgeon` that surgeon is on leave (wherever they
    work: leave recorded at one site keeps them from every site's list)."""

    site = models.ForeignKey("scheduling.Site", on_delete=models.CASCADE, related_name="closures")
    start_date = models.DateField(help_text="The first day closed, in the site's time zone.")
    end_date = models.DateField(help_text="The last day closed (included).")
    reason = models.CharField(max_length=200, help_text="e.g. “Christmas Day”, “C-arm service”.")
    resource = models.ForeignKey(
        "scheduling.Resource", on_delete=models.CASCADE, null=True, blank=True,
        related_name="closures", help_text="Only this room or bay is closed.",
    )
    surgeon = models.ForeignKey(
        "scheduling.Surgeon", on_delete=models.CASCADE, null=True, blank=True,
        related_name="leave", help_text="Only this surgeon is away.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClosureQuerySet.as_manager()

    class Meta:
        ordering = ["start_date", "end_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="closure_days_in_order"
            ),
            models.CheckConstraint(
                condition=Q(resource__isnull=True) | Q(surgeon__isnull=True),
                name="closure_of_a_room_or_a_surgeon_not_both",
            ),
        ]
        indexes = [models.Index(fields=["site", "end_date", "start_date"])]

    def __str__(self) -> str:
        days = f"{self.start_date}" if self.start_date == self.end_date else (
            f"{self.start_date} to {self.end_date}"
        )
        return f"{self.what}: {days} ({self.reason})"

    @property
    def what(self) -> str:
        if self.resource_id:
            return f"{self.resource.name} closed"
        if self.surgeon_id:
            return f"{self.surgeon.name} on leave"
        return "Site closed"

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The last day is before the first."})
        if self.resource_id and self.surgeon_id:
            raise ValidationError("Close a room or bay, or a surgeon's diary, not both at once.")
        if self.resource_id and self.site_id and self.resource.site_id != self.site_id:
            raise ValidationError({"resource": "The room or bay is at another site."})


def case_on_closed_day(*, case_ref: str = "pk") -> Exists:
    """Whether a case falls on a day its site, one of its rooms or bays (by its active stages),
    or its surgeon is closed: the `on_closed_day` flag. One expression for the board, the case
    API and the day list, annotated on a Case queryset (`case_ref`: the case's id there)."""
    case = OuterRef(case_ref)
    return Exists(
        Closure.objects.filter(start_date__lte=OuterRef("day"), end_date__gte=OuterRef("day"))
        .filter(
            Q(site_id=OuterRef("site_id"), resource__isnull=True, surgeon__isnull=True)
            | Q(resource__stages__case_id=case, resource__stages__active=True)
            # Leave is the surgeon's, at whichever site it was recorded.
            | Q(surgeon_id=OuterRef("surgeon_id"))
        )
    )
