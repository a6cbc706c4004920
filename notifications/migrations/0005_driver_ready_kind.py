"""The driver hears the projected pickup time when recovery starts."""

from django.db import migrations, models


def seed_driver_ready(apps, schema_editor):
    ReminderRule = apps.get_model("notifications", "ReminderRule")
    if not ReminderRule.objects.filter(kind="driver_ready").exists():
        ReminderRule.objects.create(
            kind="driver_ready", audience="driver", anchor="booking", condition="has_driver",
            urgent=True, send_within_minutes=120,
        )


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0004_reminder_requested_by'),
    ]

    operations = [
        migrations.AlterField(
            model_name='reminder',
            name='kind',
            field=models.CharField(choices=[('confirmation', 'Booking confirmation'), ('medication_hold', 'Medication hold'), ('what_to_bring', 'What to bring and wear'), ('fasting', 'Fasting cut-offs'), ('arrival', 'Arrival time (day before)'), ('arrival_morning', 'Arrival time (morning of)'), ('driver_pickup', 'Driver pickup'), ('driver_ready', 'Driver: pickup time once recovery starts'), ('aftercare', 'Aftercare'), ('infection_check', 'Infection check'), ('reschedule_notice', 'New time after a reschedule'), ('cancellation_notice', 'Cancellation notice')], max_length=32),
        ),
        migrations.AlterField(
            model_name='reminderrule',
            name='kind',
            field=models.CharField(choices=[('confirmation', 'Booking confirmation'), ('medication_hold', 'Medication hold'), ('what_to_bring', 'What to bring and wear'), ('fasting', 'Fasting cut-offs'), ('arrival', 'Arrival time (day before)'), ('arrival_morning', 'Arrival time (morning of)'), ('driver_pickup', 'Driver pickup'), ('driver_ready', 'Driver: pickup time once recovery starts'), ('aftercare', 'Aftercare'), ('infection_check', 'Infection check'), ('reschedule_notice', 'New time after a reschedule'), ('cancellation_notice', 'Cancellation notice')], max_length=32),
        ),
        migrations.RunPython(seed_driver_ready, migrations.RunPython.noop),
    ]
