"""Reading back the SIU messages the outbox holds, as a receiving engine does: with python-hl7
(a library other than the one that built them), and with hl7apy's strict parser."""

import hl7
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from hl7v2.models import OutboundMessage

ENDPOINTS = {"engine": "127.0.0.1:2575", "radiology": "127.0.0.1:2576"}


def rows_of(case, endpoint: str = "engine") -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(case=case, endpoint=endpoint).order_by("sequence"))


def parsed(row: OutboundMessage) -> hl7.Message:
    assert "\n" not in row.body
    return hl7.parse(row.body)


def strictly_valid(row: OutboundMessage) -> bool:
    message = parse_message(
        row.body, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True
    )
    return message.validate()


def resource_groups(message: hl7.Message) -> list[list[hl7.Segment]]:
    """The message's RGS groups, each as its segments in order (RGS first)."""
    groups: list[list[hl7.Segment]] = []
    for segment in message:
        name = str(segment[0])
        if name == "RGS":
            groups.append([segment])
        elif groups:
            groups[-1].append(segment)
    return groups


def segments_named(group: list[hl7.Segment], name: str) -> list[hl7.Segment]:
    return [segment for segment in group if str(segment[0]) == name]
