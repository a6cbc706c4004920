"""The configuration's stamp (scheduling/config_models.py) and the triggers that renew it with
every write to a configuration table, whatever makes the write: the admin, the API, a bulk
insert, a seed command or plain SQL."""

from django.db import migrations, models

CONFIGURATION_TABLES = (
    "scheduling_closure",
    "scheduling_proceduretype",
    "scheduling_stagetemplate",
    "scheduling_openinghours",
    "scheduling_resource",
    "scheduling_surgeon",
    "scheduling_surgeon_sites",
    "scheduling_surgeonhours",
    "notifications_reminderrule",
)

# PostgreSQL: one renewal per statement, from a sequence, whose values a rollback never hands out
# again; concurrent writers queue on the one row until the first commits.
POSTGRES_FUNCTION = """
CREATE SEQUENCE scheduling_configstamp_seq;
CREATE FUNCTION scheduling_config_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO scheduling_configstamp (id, value)
    VALUES (1, nextval('scheduling_configstamp_seq'))
    ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value;
    RETURN NULL;
END
$$;
INSERT INTO scheduling_configstamp (id, value) VALUES (1, nextval('scheduling_configstamp_seq'));
"""
POSTGRES_TRIGGER = (
    "CREATE TRIGGER {table}_config_stamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
    "ON {table} FOR EACH STATEMENT EXECUTE FUNCTION scheduling_config_stamp();"
)
POSTGRES_DROP = """
DROP FUNCTION IF EXISTS scheduling_config_stamp() CASCADE;
DROP SEQUENCE IF EXISTS scheduling_configstamp_seq;
"""
# SQLite has neither sequences nor statement triggers: a random 64-bit value for every row.
SQLITE_RENEW = "INSERT OR REPLACE INTO scheduling_configstamp (id, value) VALUES (1, random());"
SQLITE_TRIGGER = (
    "CREATE TRIGGER {table}_config_stamp_{op} AFTER {op} ON {table} "
    "BEGIN " + SQLITE_RENEW + " END;"
)
OPERATIONS = ("INSERT", "UPDATE", "DELETE")


def triggers_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        statements = [POSTGRES_FUNCTION] + [
            POSTGRES_TRIGGER.format(table=table) for table in CONFIGURATION_TABLES
        ]
    else:
        statements = [SQLITE_RENEW] + [
            SQLITE_TRIGGER.format(table=table, op=op)
            for table in CONFIGURATION_TABLES
            for op in OPERATIONS
        ]
    for statement in statements:
        schema_editor.execute(statement)


def triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)
        return
    for table in CONFIGURATION_TABLES:
        for op in OPERATIONS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_config_stamp_{op};")


class Migration(migrations.Migration):

    dependencies = [
        ("scheduling", "0018_site_locale"),
        ("notifications", "0012_reminder_sending_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConfigStamp",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("value", models.BigIntegerField()),
            ],
            options={"verbose_name": "configuration stamp"},
        ),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
