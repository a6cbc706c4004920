"""GET /api/v1/board/?site=&date=: the day board's data as JSON, from the same selector as the
page (board.day_board_get), so both show the same projection."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.query import query_data
from api.schema import ErrorSerializer

from .. import horizon, selectors
from ..board.day import DayBoard, day_board_get
from . import serializers as s
from .board_schema import BoardSerializer

BOARD_ERRORS = {
    400: OpenApiResponse(
        ErrorSerializer,
        description="Bad date (`invalid`), a day outside the days shown (`date_out_of_range`) "
        "or `unknown_site`.",
    ),
    401: OpenApiResponse(ErrorSerializer, description="Not logged in."),
    403: OpenApiResponse(ErrorSerializer, description="Role not allowed."),
}


class BoardQuery(serializers.Serializer):
    site = serializers.CharField(max_length=50)
    date = s.IsoDateField(required=False, help_text="Default: today at the site.")


class BoardView(APIView):
    @extend_schema(
        parameters=[BoardQuery],
        responses={200: BoardSerializer, **BOARD_ERRORS},
        description="The site's day: every stage with its planned, actual and projected times; "
        "`late` when projected to end more than `late_after_minutes` after its planned end.",
    )
    def get(self, request: Request) -> Response:
        query = BoardQuery(data=query_data(request))
        query.is_valid(raise_exception=True)
        site = selectors.site_get(query.validated_data["site"], request.user)
        now = timezone.now()
        today = now.astimezone(site.zone).date()
        day = query.validated_data.get("date") or today
        horizon.day_shown_check(day=day, today=today)
        with timezone.override(site.zone):
            return Response(board_data(day_board_get(site, day, now)))


def board_data(board: DayBoard) -> dict:
    # DRF's own formatting in the site's zone, each instant once: stages share their ends and
    # starts, and a 300-case day has ~6,000 instants to write.
    when = serializers.DateTimeField(default_timezone=board.site.zone).to_representation
    written: dict = {None: None}

    def at(instant):
        text = written.get(instant, written)
        if text is written:
            text = written[instant] = when(instant)
        return text

    summary = board.summary
    return {
        "site": board.site.code,
        "date": board.day.isoformat(),
        "now": at(board.now),
        "opens": at(board.opens),
        "closes": at(board.closes),
        "late_after_minutes": board.late_after_minutes,
        "summary": {
            "planned": summary.planned,
            "in_progress": summary.in_progress,
            "done": summary.done,
            "cancelled": summary.cancelled,
            "no_show": summary.no_show,
            "late": summary.late,
            "room_occupancy": _ratio(summary.room_occupancy),
            "bay_occupancy": _ratio(summary.bay_occupancy),
        },
        "rooms": [
            {
                "id": row.resource.pk,
                "name": row.resource.name,
                "kind": row.resource.kind,
                "stages": [
                    {
                        "case": block.case.pk,
                        "kind": block.stage.kind,
                        "state": block.state,
                        "planned": {
                            "start": at(block.stage.planned_start),
                            "end": at(block.stage.planned_end),
                        },
                        "actual": {
                            "start": at(block.stage.actual_start),
                            "end": at(block.stage.actual_end),
                        },
                        "projected": (
                            None if block.state == "done"
                            else {"start": at(block.start), "end": at(block.end)}
                        ),
                        "late": block.late,
                        "delay_minutes": block.delay_minutes,
                    }
                    for block in row.blocks
                ],
            }
            for row in board.rows
        ],
        "cases": [
            {
                "id": line.case.pk,
                "status": line.case.status,
                "patient": {
                    "id": line.case.patient.pk,
                    "first_name": line.case.patient.first_name,
                    "last_name": line.case.patient.last_name,
                    "mrn": line.case.patient.mrn,
                },
                "procedure_type": line.case.procedure_type_code,
                "levels": line.case.levels,
                "surgeon": line.case.surgeon_code,
                "arrival_at": at(line.case.arrival_at),
                "procedure_start": at(line.case.procedure_start),
                "driver": {"name": line.case.driver_name, "phone": line.case.driver_phone},
                "flags": line.flags,
                "late": line.late,
                "delay_minutes": line.delay_minutes,
                "ends_at": at(line.ends_at),
            }
            for line in board.cases
        ],
    }


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
