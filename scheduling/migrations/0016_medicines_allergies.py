"""Allergies on the patient, "takes none" and other medicines on the case, and the NSAIDs in the
medication-hold table.

NSAID hold days, for a procedure with a high bleeding risk (vertebral augmentation is one), from:
- ASRA/ESRA/WIP/AAPM guidelines on interventional spine and pain procedures in patients on
  antiplatelet and anticoagulant medications, 2nd edition (Narouze S. et al., Reg Anesth Pain Med
  2018;43:225-262), table of NSAIDs for high-risk procedures (about five half-lives): diclofenac
  1 day, ibuprofen 1, ketorolac 1, etodolac 2, indomethacin 2, meloxicam 4, naproxen 4,
  nabumetone 6, oxaprozin 10, piroxicam 10.
- SIR 2019 consensus (Patel I.J. et al., J Vasc Interv Radiol 2019;30:1168-1184), which groups
  NSAIDs by half-life; celecoxib, which ASRA does not ask to stop (COX-2 selective), is held
  3 days here as an intermediate half-life NSAID, the more cautious reading.
The values were entered from these tables as cited, without the papers at hand when this was
written: a clinician checks them against the published tables before the unit relies on them.
Clinicians edit the table in the admin; this only adds the rows that are missing.
"""

from django.db import migrations, models

NSAIDS = [
    # code, name, hold days before the procedure day
    ("ibuprofen", "Ibuprofen (NSAID)", 1),
    ("diclofenac", "Diclofenac (NSAID)", 1),
    ("ketorolac", "Ketorolac (NSAID)", 1),
    ("etodolac", "Etodolac (NSAID)", 2),
    ("indomethacin", "Indomethacin (NSAID)", 2),
    ("celecoxib", "Celecoxib (NSAID)", 3),
    ("meloxicam", "Meloxicam (NSAID)", 4),
    ("naproxen", "Naproxen (NSAID)", 4),
    ("nabumetone", "Nabumetone (NSAID)", 6),
    ("oxaprozin", "Oxaprozin (NSAID)", 10),
    ("piroxicam", "Piroxicam (NSAID)", 10),
]


def seed(apps, schema_editor):
    Drug = apps.get_model("scheduling", "Drug")
    for code, name, hold_days in NSAIDS:
        Drug.objects.get_or_create(code=code, defaults={"name": name, "hold_days": hold_days})


def unseed(apps, schema_editor):
    Drug = apps.get_model("scheduling", "Drug")
    Drug.objects.filter(code__in=[code for code, _, _ in NSAIDS], casemedication=None).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0015_closures"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="other_medicines",
            field=models.CharField(
                blank=True, help_text="Other medicines the patient takes, as told.", max_length=500
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="takes_no_medicines",
            field=models.BooleanField(
                default=False,
                help_text="Asked, the patient takes none of the medicines in the hold table.",
            ),
        ),
        migrations.AddField(
            model_name="patient",
            name="allergy_contrast",
            field=models.BooleanField(default=False, verbose_name="Allergic to contrast"),
        ),
        migrations.AddField(
            model_name="patient",
            name="allergy_latex",
            field=models.BooleanField(default=False, verbose_name="Allergic to latex"),
        ),
        migrations.AddField(
            model_name="patient",
            name="allergy_other",
            field=models.CharField(blank=True, max_length=240, verbose_name="Other allergies"),
        ),
        migrations.AlterField(
            model_name="caseevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("check_in", "Checked in"),
                    ("stage_start", "Stage started"),
                    ("stage_finish", "Stage finished"),
                    ("discharge", "Discharged"),
                    ("confirm", "Confirmed"),
                    ("cancel", "Cancelled"),
                    ("move", "Moved"),
                    ("offer_accept", "Booked from an offer"),
                    ("correct", "Screening or medicines corrected"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(seed, unseed),
    ]
