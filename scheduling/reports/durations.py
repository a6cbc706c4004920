"""How long each stage really took, against its plan and its template, by procedure type and
number of levels; and the value the template would have if it followed the median."""

from dataclasses import dataclass

from django.db.models import Prefetch

from ..models import ProcedureType, Site, StageKind, StageTemplate
from ..slots import stage_rules
from ..timing import GRID_MINUTES, StageRule, stage_minutes
from .period import Period
from .stages import PeriodStages


@dataclass
class DurationLine:
    procedure_type: str
    stage: str
    levels: int
    count: int
    template: str  # the template as an admin edits it: "60 + 30/extra level"
    template_minutes: int | None  # what the template gives for this many levels today
    planned_median: float
    actual_median: float

    @property
    def suggested_minutes(self) -> int:
        return to_grid(self.actual_median)

    @property
    def change_minutes(self) -> int | None:
        if self.template_minutes is None:
            return None
        return self.suggested_minutes - self.template_minutes


@dataclass
class Durations:
    period: Period
    lines: list[DurationLine]


def durations_get(
    *, site: Site, period: Period, stages: PeriodStages | None = None
) -> Durations:
    stages = stages or PeriodStages.load(site=site, period=period)
    groups = {
        key: {"count": count, "planned": planned, "actual": actual}
        for key, (count, planned, actual) in stages.durations.items()
    }
    types = ProcedureType.objects.filter(pk__in={key[0] for key in groups}).prefetch_related(
        Prefetch("stage_templates", StageTemplate.objects.order_by("position"))
    )
    names = {kind.pk: kind.name for kind in types}
    for (type_id, _, _), group in groups.items():
        group["name"] = names[type_id]
    # (procedure type, stage kind): (position, the template as the booking reads it)
    templates = {
        (kind.pk, rule.kind): (position, rule)
        for kind in types
        for position, rule in enumerate(stage_rules(kind))
    }
    labels = dict(StageKind.choices)
    lines = []
    for key in sorted(groups, key=lambda k: _order(k, groups, templates)):
        type_id, kind, levels = key
        group = groups[key]
        _, template = templates.get((type_id, kind), (None, None))
        lines.append(DurationLine(
            procedure_type=group["name"],
            stage=labels.get(kind, kind),
            levels=levels,
            count=group["count"],
            template=_describe(template),
            template_minutes=stage_minutes(template, levels) if template else None,
            planned_median=round(group["planned"], 1),
            actual_median=round(group["actual"], 1),
        ))
    return Durations(period, lines)


def to_grid(minutes: float) -> int:
    """To the nearest 5 minutes (halves up), never below one step: the booking grid."""
    return max(GRID_MINUTES, int(minutes / GRID_MINUTES + 0.5) * GRID_MINUTES)


def _order(key: tuple, groups: dict, templates: dict) -> tuple:
    position, _ = templates.get(key[:2], (99, None))
    return (groups[key]["name"], position, key[1], key[2])


def _describe(template: StageRule | None) -> str:
    if template is None:
        return "no template"
    if not template.minutes_per_extra_level:
        return f"{template.base_minutes}"
    return f"{template.base_minutes} + {template.minutes_per_extra_level}/extra level"
