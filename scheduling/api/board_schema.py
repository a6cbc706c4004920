"""The day board's JSON as the OpenAPI schema describes it. board.board_data writes the dict
directly (a full day has thousands of instants); these serializers only say its shape, and the
API fuzzer checks every board it gets against them."""

from rest_framework import serializers

from ..models import CaseStatus, ResourceKind, StageKind

Instant = serializers.DateTimeField


class SpanSerializer(serializers.Serializer):
    start = Instant()
    end = Instant()


class OpenSpanSerializer(serializers.Serializer):
    start = Instant(allow_null=True)
    end = Instant(allow_null=True)


class BoardStageSerializer(serializers.Serializer):
    case = serializers.IntegerField()
    kind = serializers.ChoiceField(StageKind.choices)
    state = serializers.ChoiceField(["done", "running", "projected"])
    planned = SpanSerializer()
    actual = OpenSpanSerializer(help_text="What happened so far; null until it does.")
    projected = SpanSerializer(allow_null=True, help_text="Null once the stage is done.")
    late = serializers.BooleanField()
    delay_minutes = serializers.IntegerField()


class BoardRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(ResourceKind.choices)
    stages = BoardStageSerializer(many=True)


class BoardPatientSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    mrn = serializers.CharField()


class BoardDriverSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)


class BoardCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(CaseStatus.choices)
    patient = BoardPatientSerializer()
    procedure_type = serializers.CharField()
    levels = serializers.IntegerField()
    surgeon = serializers.CharField(allow_null=True)
    arrival_at = Instant()
    procedure_start = Instant()
    driver = BoardDriverSerializer()
    flags = serializers.ListField(child=serializers.CharField())
    late = serializers.BooleanField()
    delay_minutes = serializers.IntegerField()
    ends_at = Instant(allow_null=True, help_text="Actual or projected end of the last stage.")


class BoardSummarySerializer(serializers.Serializer):
    planned = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    done = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    no_show = serializers.IntegerField()
    late = serializers.IntegerField()
    room_occupancy = serializers.FloatField(
        allow_null=True, help_text="0 to 1; null before opening."
    )
    bay_occupancy = serializers.FloatField(allow_null=True)


class BoardSerializer(serializers.Serializer):
    site = serializers.CharField()
    date = serializers.DateField()
    now = Instant()
    opens = Instant(allow_null=True, help_text="Null on a day the site is closed.")
    closes = Instant(allow_null=True)
    late_after_minutes = serializers.IntegerField()
    summary = BoardSummarySerializer()
    rooms = BoardRowSerializer(many=True, help_text="Rooms and bays, each with its stages.")
    cases = BoardCaseSerializer(many=True)
