"""The default message schedule; admins change it in the admin. Only fills an empty table."""

from datetime import time

from django.db import migrations

RULES = [
    # kind, audience, anchor, offset minutes, day offset, at time, condition, extra
    ("confirmation", "patient", "booking", 0, 0, None, "always", {}),
    ("medication_hold", "patient", "hold_start", 0, -1, time(18, 0), "has_held_drug", {}),
    ("what_to_bring", "patient", "procedure_start", 0, -2, time(10, 0), "always", {}),
    ("fasting", "patient", "procedure_start", 0, -1, time(16, 0), "always", {}),
    ("arrival", "patient", "procedure_start", 0, -1, time(16, 0), "always", {}),
    ("arrival_morning", "patient", "arrival", -120, 0, None, "always",
     {"skip_in_quiet_hours": True, "send_within_minutes": 90}),
    ("driver_pickup", "driver", "discharge", 0, -1, time(17, 0), "has_driver", {}),
    ("aftercare", "patient", "discharge", 0, 0, time(19, 0), "always", {}),
    ("infection_check", "patient", "discharge", 48 * 60, 0, None, "always", {}),
    ("reschedule_notice", "patient", "booking", 0, 0, None, "always", {}),
    ("cancellation_notice", "patient", "booking", 0, 0, None, "always", {}),
]


def seed(apps, schema_editor):
    ReminderRule = apps.get_model("notifications", "ReminderRule")
    if ReminderRule.objects.exists():
        return
    for kind, audience, anchor, offset, day_offset, at_time, condition, extra in RULES:
        ReminderRule.objects.create(
            kind=kind, audience=audience, anchor=anchor, offset_minutes=offset,
            day_offset=day_offset, at_time=at_time, condition=condition, **extra,
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
