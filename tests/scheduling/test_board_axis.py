"""The day board's time axis runs on the site's own whole hours, whatever its offset from UTC:
India is 5 h 30 ahead and Adelaide 9 h 30 or 10 h 30, so UTC's whole hours fall on the half
hour there."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from scheduling.board.day import day_board_get
from tests.conftest import TUESDAY, build_unit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Australia/Adelaide", "America/New_York"])
def test_the_axis_starts_and_ends_on_the_sites_whole_hours(zone):
    site = build_unit(code="far", time_zone=zone)
    local = ZoneInfo(zone)
    now = datetime.combine(TUESDAY, time(9, 10), local)

    board = day_board_get(site, TUESDAY, now)

    assert board.axis_start == datetime.combine(TUESDAY, time(7), local)
    assert board.axis_end == datetime.combine(TUESDAY, time(18), local)
    assert [tick.label for tick in board.ticks] == [f"{hour:02d}:00" for hour in range(7, 19)]
    assert board.ticks[0].left == 0
    assert board.ticks[-1].left == 100


def test_a_kolkata_board_at_opening_has_now_on_its_left_edge_and_ends_at_closing():
    site = build_unit(code="kol", time_zone="Asia/Kolkata")
    kolkata = ZoneInfo("Asia/Kolkata")
    opens = datetime.combine(TUESDAY, time(7), kolkata)

    board = day_board_get(site, TUESDAY, opens)

    # 18:00 local closing is 12:30 UTC: the axis must not stop at 12:00 or 13:00 UTC.
    assert board.axis_end.astimezone(kolkata).time() == time(18)
    assert board.now_left == 0
