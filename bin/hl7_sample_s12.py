"""Write docs/hl7-sample-s12.txt: the SIU^S12 the unit sends for a made-up two-level
vertebroplasty, built by hl7v2.siu from unsaved records (nothing is read from or written to a
database), one segment a line (on the wire they end with CR).

    .venv/bin/python bin/hl7_sample_s12.py            # write the file
    .venv/bin/python bin/hl7_sample_s12.py --check    # fail if the file is not what it builds

tests/hl7v2/test_siu_sample.py runs the check, so the sample follows the builder.
"""

import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "docs" / "hl7-sample-s12.txt"
# The sample's own names and addresses, whatever the environment configures.
NAMES = {
    "HL7_SENDING_APPLICATION": "VERTEBRO",
    "HL7_SENDING_FACILITY": "SPINE_UNIT",
    "HL7_RECEIVING_APPLICATION": "ENGINE",
    "HL7_RECEIVING_FACILITY": "HOSPITAL",
    "VERTEBRO_FHIR_MRN_SYSTEM": "https://vertebro.org/fhir/sid/mrn",
    "VERTEBRO_FHIR_PROCEDURE_SYSTEM": "https://vertebro.org/fhir/CodeSystem/procedure-type",
    "VERTEBRO_FHIR_SURGEON_SYSTEM": "https://vertebro.org/fhir/sid/surgeon",
}


def sample_s12() -> str:
    """The sample message, segments separated by CR."""
    from hl7v2.siu import siu_message
    from scheduling import timing
    from scheduling.models import Case, Patient, ProcedureType, Resource, Site, Stage, Surgeon

    site = Site(pk=1, code="riverside", name="Riverside Spine Center",
                time_zone="America/New_York", phone="+12125550142")
    procedure_type = ProcedureType(pk=1, code="vertebroplasty", name="Vertebroplasty")
    patient = Patient(pk=1042, first_name="Margaret", last_name="Whitfield",
                      date_of_birth=date(1948, 5, 17), mrn="MRN004217", phone="+12125550100",
                      email="m.whitfield@example.org")
    surgeon = Surgeon(pk=3, code="dr-okafor", name="Dr Amara Okafor")
    case = Case(pk=2718, site=site, patient=patient, procedure_type=procedure_type, levels=2,
                surgeon=surgeon, status="booked")
    places = {
        "pre_op_bay": Resource(pk=21, site=site, kind="pre_op_bay", name="Pre-op 2"),
        "procedure_room": Resource(pk=11, site=site, kind="procedure_room", name="Room 1"),
        "recovery_bay": Resource(pk=32, site=site, kind="recovery_bay", name="Recovery 3"),
    }
    start = datetime(2027, 3, 16, 13, 0, tzinfo=UTC)  # 09:00 in New York
    stages = []
    for position, rule in enumerate(timing.VERTEBROPLASTY_RULES):
        end = start + timedelta(minutes=timing.stage_minutes(rule, case.levels))
        stages.append(Stage(
            case=case, position=position, kind=rule.kind, resource=places[rule.resource_kind],
            surgeon=surgeon if rule.needs_surgeon else None, planned_start=start,
            planned_end=end, held_until=end,
        ))
        start = end
    return siu_message(
        case=case, stages=stages, trigger="S12", control_id="V4F1C2A9077D3E5B6C8A",
        at=datetime(2027, 3, 1, 15, 4, 5, tzinfo=UTC),
    )


def sample_text() -> str:
    return sample_s12().replace("\r", "\n")


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vertebro_site.settings")
    import django
    from django.conf import settings

    django.setup()
    for name, value in NAMES.items():
        setattr(settings, name, value)
    text = sample_text()
    if "--check" in argv:
        if SAMPLE.read_text() != text:
            print(f"{SAMPLE.relative_to(ROOT)} is not what the builder makes: run {argv[0]}")
            return 1
        return 0
    SAMPLE.write_text(text)
    print(f"wrote {SAMPLE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
