"""Bar charts drawn on the server as inline SVG (templates/pages/reports_chart.html), so they
need no script and read the same in print.

Horizontal bars: long labels (room names, weeks) fit on the left, and every bar carries its own
number at its end. Colours are the Okabe-Ito palette, which stays distinct for the common
colour-vision deficiencies; the legend lists the series in the order of the bars in each row.
"""

import math
from dataclasses import dataclass

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")
LABEL_WIDTH = 150
PLOT_WIDTH = 330
VALUE_WIDTH = 70
BAR_HEIGHT = 17
ROW_GAP = 12
LEGEND_HEIGHT = 28
AXIS_HEIGHT = 22


@dataclass(frozen=True)
class Bar:
    y: int
    width: float
    colour: str
    text: str


@dataclass(frozen=True)
class Row:
    label: str
    y: int  # the label's baseline
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    rows: tuple[Row, ...]
    legend: tuple[tuple[str, str, int], ...]  # (name, colour, x)
    ticks: tuple[tuple[float, str], ...]  # (x, text)
    plot_x: int
    plot_bottom: int
    bar_height: int = BAR_HEIGHT


def bar_chart(
    *,
    title: str,
    series: list[str],
    rows: list[tuple[str, list[float | None]]],
    unit: str = "",
    scale_max: float | None = None,
    label_width: int = LABEL_WIDTH,
) -> Chart:
    values = [value for _, row in rows for value in row if value is not None]
    top = scale_max or _nice(max(values, default=0))
    row_height = BAR_HEIGHT * len(series) + ROW_GAP
    drawn = []
    y = LEGEND_HEIGHT
    for label, row in rows:
        bars = tuple(
            Bar(
                y=y + index * BAR_HEIGHT,
                width=round(PLOT_WIDTH * min(value or 0, top) / top, 1),
                colour=PALETTE[index % len(PALETTE)],
                text="no data" if value is None else f"{_number(value)}{unit}",
            )
            for index, value in enumerate(row)
        )
        drawn.append(Row(label=label, y=y + (row_height - ROW_GAP) // 2 + 5, bars=bars))
        y += row_height
    if not rows:
        y += 2 * ROW_GAP  # room for the "nothing to show" line
    legend, x = [], label_width
    for index, name in enumerate(series):
        legend.append((name, PALETTE[index % len(PALETTE)], x))
        x += 26 + 8 * len(name)
    ticks = tuple(
        (label_width + PLOT_WIDTH * step / 4, f"{_number(top * step / 4)}{unit}")
        for step in range(5)
    )
    return Chart(
        title=title,
        width=label_width + PLOT_WIDTH + VALUE_WIDTH,
        height=y + AXIS_HEIGHT,
        rows=tuple(drawn),
        legend=tuple(legend),
        ticks=ticks,
        plot_x=label_width,
        plot_bottom=y,
    )


def _nice(value: float) -> float:
    """The scale's end: the value rounded up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
