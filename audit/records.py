"""Bulk writes that still leave an audit trail, and an audit trail written in bulk.

django-auditlog listens to save and delete signals, which bulk_create, bulk_update and
QuerySet.update() do not send. The booking services write a case's stages and held drugs in bulk;
they go through these helpers so that those rows are logged like any other, by the same
receivers, with the same actor and address.

A booking creates a patient, a case, four stages and its held drugs: auditlog would write one
log row for each, one INSERT at a time. Inside `one_insert()` the log rows of created rows are
made exactly as auditlog makes them (its own manager fills them) but held back, and written in
one INSERT when the block ends, inside the caller's transaction. A change or a deletion logged
in the meantime first writes what is held, so the trail keeps its order.
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from auditlog import get_logentry_model
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntryManager
from auditlog.receivers import log_create, log_update
from auditlog.registry import auditlog
from auditlog.signals import pre_log
from django.conf import settings
from django.db import router
from django.db.models import Model, QuerySet
from django.db.models.signals import pre_save
from django.dispatch import receiver

M = TypeVar("M", bound=Model)

_held: ContextVar[list | None] = ContextVar("audit_held", default=None)


class _Unsaved(LogEntryManager):
    """auditlog's own way of filling a log entry, stopping short of saving it."""

    def create(self, **kwargs):
        return self.model(**kwargs)


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


@contextmanager
def one_insert() -> Iterator[None]:
    """Hold the log rows of the rows created inside, and write them in one INSERT at the end
    (nothing when the block fails: its transaction is rolled back). Use it inside the
    transaction. Nested, the outermost block writes."""
    if _held.get() is not None:
        yield
        return
    held: list = []
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
    _write(held)


# Connected here, not in the app's ready(): only one_insert needs it, and one_insert is here.
@receiver(pre_log, dispatch_uid="audit-held")
def creation_held(sender, instance, action, **kwargs) -> bool | None:
    """pre_log of auditlog: inside one_insert, make a creation's log row and hold it (False
    tells auditlog not to write it itself); before any other entry, write what is held."""
    held = _held.get()
    if held is None:
        return None
    LogEntry = get_logentry_model()
    if action != LogEntry.Action.CREATE:
        _write(held)
        return None
    changes = model_instance_diff(
        None, instance, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES
    )
    if changes:
        unsaved = _Unsaved()
        unsaved.model = LogEntry
        held.append(unsaved.log_create(instance, action=action, changes=changes))
    return False


def _write(held: list) -> None:
    """Write the held log rows, each first given what a save would (the actor and the address,
    from the receivers of the entry's pre_save), and empty the list."""
    if not held:
        return
    LogEntry = get_logentry_model()
    using = router.db_for_write(LogEntry)
    for entry in held:
        pre_save.send(sender=LogEntry, instance=entry, raw=False, using=using, update_fields=None)
    LogEntry.objects.bulk_create(held)
    held.clear()
