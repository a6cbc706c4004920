"""Bulk writes that still leave an audit trail.

django-auditlog listens to save and delete signals, which bulk_create, bulk_update and
QuerySet.update() do not send. The booking services write a case's stages and held drugs in bulk;
they go through these helpers so that those rows are logged like any other, by the same
receivers, with the same actor and address.
"""

from collections.abc import Iterable, Sequence
from typing import TypeVar

from auditlog.receivers import log_create, log_update
from auditlog.registry import auditlog
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def created(rows: Sequence[M]) -> Sequence[M]:
    """Log rows just written by bulk_create (they carry their primary keys)."""
    for row in rows:
        if auditlog.contains(type(row)):
            log_create(sender=type(row), instance=row, created=True)
    return rows


def bulk_update(rows: Sequence[M], fields: Iterable[str]) -> int:
    """Model.objects.bulk_update, logging each row's change against the stored row first."""
    if not rows:
        return 0
    fields = list(fields)
    model = type(rows[0])
    if auditlog.contains(model):
        for row in rows:
            log_update(sender=model, instance=row, update_fields=fields)
    return model.objects.bulk_update(rows, fields)


def update(queryset: QuerySet, **values) -> int:
    """QuerySet.update(**values), logging the change of each row it touches."""
    if auditlog.contains(queryset.model):
        for row in queryset:
            for name, value in values.items():
                setattr(row, name, value)
            log_update(sender=queryset.model, instance=row, update_fields=list(values))
    return queryset.update(**values)
