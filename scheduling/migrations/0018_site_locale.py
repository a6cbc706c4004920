from django.db import migrations, models

# Sites already running keep the way their zone's staff write: en-US for American zones (the
# default), British English for London, Spanish conventions for Spain.
ZONE_LOCALES = {"Europe/London": "en-GB", "Europe/Madrid": "es", "Atlantic/Canary": "es"}


def locale_from_zone(apps, schema_editor):
    Site = apps.get_model("scheduling", "Site")
    for zone, locale in ZONE_LOCALES.items():
        Site.objects.filter(time_zone=zone).update(locale=locale)


class Migration(migrations.Migration):

    dependencies = [
        ("scheduling", "0017_needs_review"),
    ]

    operations = [
        migrations.AddField(
            model_name="site",
            name="locale",
            field=models.CharField(
                choices=[("en-US", "English (United States)"),
                         ("en-GB", "English (United Kingdom)"), ("es", "Spanish")],
                default="en-US",
                help_text="How staff pages write dates, times (12 h in en-US, 24 h elsewhere) "
                "and spellings, and how a typed date such as 03/17/1944 is read.",
                max_length=8,
            ),
        ),
        migrations.RunPython(locale_from_zone, migrations.RunPython.noop),
        migrations.AddField(
            model_name="proceduretype",
            name="usual",
            field=models.BooleanField(
                default=False,
                help_text="The booking form starts on it. Without one, on the procedure booked "
                "most.",
                verbose_name="the usual procedure",
            ),
        ),
    ]
