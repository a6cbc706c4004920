"""The SIU^S12 for a booked case, read back field by field by another library (python-hl7):
the case's ids, its reason and times, the patient, and one resource group per stage with its
room or bay, its start and minutes, and the surgeon where the stage needs one."""

from datetime import datetime, timedelta

import hl7
import pytest

from hl7v2.siu import SiuNotValid, siu_message
from scheduling.models import Case, ResourceKind, StageKind, Surgeon
from tests.factories import SurgeonFactory, case_made
from tests.hl7v2.siu_read import ENDPOINTS, parsed, resource_groups, rows_of, segments_named

pytestmark = pytest.mark.django_db

START = "2026-03-03T09:00:00-05:00"  # the procedure's start, Tuesday in New York


@pytest.fixture
def endpoints(settings):
    settings.HL7_ENDPOINTS = ENDPOINTS
    settings.HL7_SENDING_APPLICATION = "VERTEBRO"
    settings.HL7_SENDING_FACILITY = "SPINE_UNIT"
    settings.HL7_RECEIVING_APPLICATION = "ENGINE"
    settings.HL7_RECEIVING_FACILITY = "HOSPITAL"
    settings.VERTEBRO_FHIR_MRN_SYSTEM = "urn:oid:2.16.840.1.113883.3.72.5.9.1"
    settings.VERTEBRO_FHIR_PROCEDURE_SYSTEM = "https://spine.example/CodeSystem/procedure"
    settings.VERTEBRO_FHIR_SURGEON_SYSTEM = "https://spine.example/sid/surgeon"


def two_levels(site) -> Case:
    surgeon = Surgeon.objects.get(sites=site)
    return case_made(
        site=site, start=START, levels=2, surgeon=surgeon,
        patient={"first_name": "Margaret", "last_name": "Whitfield", "mrn": "MRN004217",
                 "phone": "+12125550100", "email": "m.whitfield@example.org"},
    )


def hl7_time(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S%z")


def test_the_s12_of_a_two_level_vertebroplasty_reads_back_field_by_field(unit, endpoints):
    case = two_levels(unit)
    [row] = rows_of(case)
    message = parsed(row)
    stages = list(case.stages.select_related("resource", "surgeon").order_by("position"))

    assert message["MSH.F3"] == "VERTEBRO"
    assert message["MSH.F4"] == "SPINE_UNIT"
    assert message["MSH.F5"] == "ENGINE"
    assert message["MSH.F6"] == "HOSPITAL"
    assert message["MSH.F7"] == "20260302070000-0500"  # the clock's time in New York
    assert str(message.segment("MSH")(9)) == "SIU^S12^SIU_S12"
    assert message["MSH.F10"] == row.control_id
    assert message["MSH.F11"] == "P"
    assert message["MSH.F12"] == "2.5.1"

    assert message["SCH.F1.R1.C1"] == message["SCH.F2.R1.C1"] == str(case.pk)
    assert message["SCH.F1.R1.C2"] == "VERTEBRO"
    assert message["SCH.F6.R1.C1"] == "S12"
    assert message["SCH.F7.R1.C1"] == "vertebroplasty"
    assert message["SCH.F7.R1.C2"] == "Vertebroplasty"
    assert message["SCH.F7.R1.C3"] == "https://spine.example/CodeSystem/procedure"
    # pre-op 60 + procedure 60 and 30 for the second level + cement set 60 + recovery 120
    assert message["SCH.F9"] == "330"
    assert message["SCH.F11.R1.C4"] == "20260303080000-0500"
    assert message["SCH.F11.R1.C5"] == "20260303133000-0500"
    assert message["TQ1.F7"] == "20260303080000-0500"
    assert message["SCH.F16.R1.C1"] == unit.code
    assert message["SCH.F20.R1.C1"] == str(case.booked_by.pk)
    assert message["SCH.F25.R1.C1"] == "Booked"

    assert message["PID.F3.R1.C1"] == "MRN004217"
    assert message["PID.F3.R1.C4.S2"] == "urn:oid:2.16.840.1.113883.3.72.5.9.1"
    assert message["PID.F3.R1.C4.S3"] == "URI"
    assert message["PID.F3.R1.C5"] == "MR"
    assert message["PID.F5.R1.C1"] == "Whitfield"
    assert message["PID.F5.R1.C2"] == "Margaret"
    assert message["PID.F7"] == "19480517"
    assert message["PID.F13.R1.C1"] == "+12125550100"
    assert message["PID.F13.R2.C4"] == "m.whitfield@example.org"

    groups = resource_groups(message)
    assert len(groups) == len(stages) == 4
    for number, (group, stage) in enumerate(zip(groups, stages, strict=True), start=1):
        rgs = group[0]
        assert str(rgs(1)) == str(number)
        assert str(rgs(3)(1)(1)) == stage.kind
        [ail] = segments_named(group, "AIL")
        place = ail(3)(1)
        name_at = 2 if stage.resource.kind == ResourceKind.PROCEDURE_ROOM else 3
        assert str(place(name_at)) == str(place(9)) == stage.resource.name
        assert str(place(10)) == f"resource-{stage.resource_id}"
        assert str(ail(4)(1)(1)) == stage.resource.kind
        assert str(ail(6)) == hl7_time(stage.planned_start.astimezone(unit.zone))
        minutes = (stage.planned_end - stage.planned_start) / timedelta(minutes=1)
        assert str(ail(9)) == str(int(minutes))
        assert str(ail(10)(1)(1)) == "min"
        services = segments_named(group, "AIS")
        surgeons = segments_named(group, "AIP")
        if stage.kind == StageKind.PROCEDURE:
            [ais] = services
            assert str(ais(3)(1)(1)) == "vertebroplasty"
            assert str(ais(7)) == "90"
            [aip] = surgeons
            assert str(aip(3)(1)(1)) == case.surgeon.code
            assert str(aip(3)(1)(2)) == case.surgeon.name
            assert str(aip(3)(1)(9)) == "&https://spine.example/sid/surgeon&URI"
            assert str(aip(6)) == str(ail(6))
            assert str(aip(9)) == "90"
        else:
            assert services == []
            assert surgeons == []
    assert [str(group[0](3)(1)(1)) for group in groups] == [
        "pre_op", "procedure", "cement_set", "recovery"
    ]
    assert [str(segments_named(group, "AIL")[0](3)(1)(2)) for group in groups][1:3] == [
        case.stages.get(kind="procedure").resource.name
    ] * 2  # the cement sets in the procedure room


def test_names_with_the_separators_in_them_read_back_as_they_were_written(unit, endpoints):
    case = case_made(
        site=unit, start=START, patient={"last_name": "O'Brien|Smith^Jr", "first_name": "Ann & Jo"}
    )
    message = parsed(rows_of(case)[0])
    assert message["PID.F5.R1.C1"] == "O'Brien|Smith^Jr"
    assert message["PID.F5.R1.C2"] == "Ann & Jo"
    assert len(message.segments("PID")) == 1


def test_a_room_name_longer_than_hl7_allows_there_is_cut_there_and_whole_in_the_description(
    unit, endpoints
):
    case = two_levels(unit)
    room = case.stages.get(kind="procedure").resource
    room.name = "Interventional suite 3 (C-arm, east wing)"
    room.save()
    stages = list(case.stages.select_related("resource", "surgeon").order_by("position"))
    body = siu_message(case=case, stages=stages, trigger="S14", control_id="V1",
                       at=datetime.now().astimezone())
    place = resource_groups(hl7.parse(body))[1][-2](3)(1)
    assert str(place(2)) == "Interventional suite"
    assert str(place(9)) == room.name


def test_a_value_past_what_hl7_allows_is_refused_by_the_builder(unit, endpoints):
    """The validation is strict: a tolerant builder would write the overlong MSH-10. The
    error names the case and the fault, not the value."""
    case = two_levels(unit)
    stages = list(case.stages.select_related("resource", "surgeon").order_by("position"))
    with pytest.raises(SiuNotValid) as refused:
        siu_message(case=case, stages=stages, trigger="S12", control_id="Q" * 200,
                    at=datetime.now().astimezone())
    assert str(refused.value) == (
        f"The SIU S12 of case {case.pk} is not valid HL7 (MaxLengthReached)."
    )
    assert refused.value.__cause__ is None
    assert refused.value.__suppress_context__


def test_a_surgeon_is_named_on_each_stage_that_needs_one(unit, endpoints):
    surgeon = SurgeonFactory(sites=[unit])
    case = case_made(site=unit, start=START, surgeon=surgeon)
    groups = resource_groups(parsed(rows_of(case)[0]))
    named = [
        str(group[0](3)(1)(1)) for group in groups
        if any(str(aip(3)(1)(1)) == surgeon.code for aip in segments_named(group, "AIP"))
    ]
    assert named == [
        stage.kind for stage in case.stages.order_by("position") if stage.surgeon_id
    ] == ["procedure"]
