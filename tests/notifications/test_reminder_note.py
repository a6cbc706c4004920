"""A running-late notice's note carries the delay it told, and the reminder reads it back."""

import pytest

from notifications.models import MessageKind, Reminder, running_late_note


@pytest.mark.parametrize(
    ("kind", "note", "delay"),
    [
        (MessageKind.RUNNING_LATE, running_late_note(45), 45),
        (MessageKind.RUNNING_LATE, "delay:120", 120),
        (MessageKind.RUNNING_LATE, "", 0),
        (MessageKind.RUNNING_LATE, "delay:", 0),
        (MessageKind.RUNNING_LATE, "delay:-5", 0),
        (MessageKind.RUNNING_LATE, "wait:45", 0),
        (MessageKind.ARRIVAL, "delay:45", 0),
    ],
)
def test_the_delay_told_is_read_from_the_note(kind, note, delay):
    assert Reminder(kind=kind, note=note).running_late_delay == delay


def test_the_note_names_the_delay():
    assert running_late_note(45) == "delay:45"
