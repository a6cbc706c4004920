"""docs/hl7-sample-s12.txt is the message the builder makes for its made-up two-level
vertebroplasty (bin/hl7_sample_s12.py writes it): a valid SIU^S12 that follows the builder."""

import importlib.util
import sys
from pathlib import Path

import hl7

from tests.hl7v2.siu_read import resource_groups, segments_named

ROOT = Path(__file__).resolve().parent.parent.parent


def _script():
    path = ROOT / "bin" / "hl7_sample_s12.py"
    spec = importlib.util.spec_from_file_location("hl7_sample_s12", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


script = _script()


def test_the_sample_in_the_docs_is_what_the_builder_makes(settings):
    for name, value in script.NAMES.items():
        setattr(settings, name, value)
    assert script.SAMPLE.read_text() == script.sample_text()


def test_the_sample_is_a_two_level_vertebroplasty_in_four_stages():
    message = hl7.parse(script.SAMPLE.read_text().replace("\n", "\r"))
    assert str(message.segment("MSH")(9)) == "SIU^S12^SIU_S12"
    assert message["SCH.F1.R1.C1"] == message["SCH.F2.R1.C1"] == "2718"
    groups = resource_groups(message)
    assert [str(segments_named(group, "AIL")[0](9)) for group in groups] == [
        "60", "90", "60", "120"
    ]
    assert [len(segments_named(group, "AIP")) for group in groups] == [0, 1, 0, 0]
