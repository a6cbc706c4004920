"""No room, bay or surgeon is ever held twice at once: exclusion constraints on PostgreSQL.

Ranges are half-open ([start, end)), so a stage may begin the instant the previous one ends.
Only active stages (of cases not cancelled or no-show) hold their resource. SQLite has no
exclusion constraints; there the booking service's check inside a serialised transaction holds.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

CONSTRAINTS = {
    "stage_resource_no_overlap": (
        "EXCLUDE USING gist (resource_id WITH =, "
        "tstzrange(planned_start, held_until, '[)') WITH &&) WHERE (active)"
    ),
    "stage_surgeon_no_overlap": (
        "EXCLUDE USING gist (surgeon_id WITH =, "
        "tstzrange(planned_start, planned_end, '[)') WITH &&) "
        "WHERE (active AND surgeon_id IS NOT NULL)"
    ),
}


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in CONSTRAINTS.items():
        schema_editor.execute(f"ALTER TABLE scheduling_stage ADD CONSTRAINT {name} {definition}")


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE scheduling_stage DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraints, drop_constraints),
    ]
