from django.apps import AppConfig


class Hl7v2Config(AppConfig):
    """HL7 v2 with the hospital's interface engine: SIU scheduling messages out over MLLP (an
    outbox sent exactly once) and ADT patient updates in."""

    name = "hl7v2"
    verbose_name = "HL7 v2"
