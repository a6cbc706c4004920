"""The boards a site's staff and families watch through the day.

- day.py: the day board's one selector, `day_board_get` (rooms and bays against the clock, the
  case list, the summary), as plain data: the page and the JSON write their own markup and
  format;
- lines.py: the case list's lines (times on the site's clock, countdowns, the later arrival a
  patient was told, a stage just finished);
- rows.py: the day's cases and stages read as plain rows;
- projection.py: pure: when the stages not yet finished will start and end;
- family.py: the waiting room's board, a short code and a stage per checked-in case.
"""
