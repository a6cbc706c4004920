"""The medication-hold table, seeded with defaults from the SIR 2019 consensus for procedures with
a high bleeding risk. Clinicians edit it in the admin; this only fills an empty table."""

from django.db import migrations

DRUGS = [
    # code, name, hold days before the procedure day, doses held, INR check on the day
    ("warfarin", "Warfarin", 5, None, True),
    ("clopidogrel", "Clopidogrel", 5, None, False),
    ("ticagrelor", "Ticagrelor", 5, None, False),
    ("prasugrel", "Prasugrel", 7, None, False),
    ("aspirin", "Aspirin", 5, None, False),
    # Direct oral anticoagulants are held by doses: twice-daily apixaban and dabigatran, 4 doses
    # (2 days); once-daily rivaroxaban and edoxaban, 2 doses (2 days). Longer with low kidney
    # function: the care team decides.
    ("apixaban", "Apixaban", 2, 4, False),
    ("rivaroxaban", "Rivaroxaban", 2, 2, False),
    ("dabigatran", "Dabigatran", 2, 4, False),
    ("edoxaban", "Edoxaban", 2, 2, False),
]


def seed(apps, schema_editor):
    Drug = apps.get_model("scheduling", "Drug")
    for code, name, hold_days, hold_doses, inr_check in DRUGS:
        Drug.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "hold_days": hold_days,
                "hold_doses": hold_doses,
                "inr_check": inr_check,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0003_staff_roles")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
