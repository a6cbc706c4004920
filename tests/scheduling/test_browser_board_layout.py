"""The day board on a wall screen and a laptop (Chromium driven by Playwright), with the demo's
day at 11:00: one room runs late, so the projections run past closing and the time axis is
longer than the opening hours. Nothing may be cut off and no hour label may overlap another."""

import os

import pytest
from playwright.sync_api import expect

# The demo day is seeded once for the module (tests/scheduling/conftest.py: demo_board).
pytestmark = pytest.mark.django_db
BOARD = "/board/?site=main&date=2026-03-02"
SCREENS = [(1920, 1080), (1600, 900), (1366, 768)]
# BOARD_SCREENSHOTS=<folder>: keep a picture of the board at each size, to look at.
SCREENSHOTS = os.environ.get("BOARD_SCREENSHOTS")


def hour_labels(page) -> list[dict]:
    """Each hour label of the axis: its text, whether it shows, and its box."""
    return page.eval_on_selector_all(
        ".board-axis .tick",
        """ticks => ticks.map(tick => {
            const box = tick.getBoundingClientRect();
            return {text: tick.textContent, shown: getComputedStyle(tick).visibility !== "hidden",
                    left: box.left, right: box.right};
        })""",
    )


def assert_labels_apart(page, width: int) -> None:
    labels = hour_labels(page)
    shown = [label for label in labels if label["shown"]]
    assert labels[0]["shown"], labels
    for before, after in zip(shown, shown[1:], strict=False):
        assert before["right"] <= after["left"], (width, before, after)
    # At most every other hour loses its label.
    for before, after in zip(labels, labels[1:], strict=False):
        assert before["shown"] or after["shown"], (width, before, after)
    assert all(label["left"] >= 0 and label["right"] <= width for label in shown), width


def test_every_action_button_lies_within_the_screen_and_its_column(demo_board):
    page = demo_board
    for width, height in SCREENS:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(BOARD)
        # What shows: the buttons and the steps that open a form; a closed form's are hidden.
        buttons = page.locator(".board-cases :is(button, summary) >> visible=true")
        expect(buttons.first).to_be_visible()
        if SCREENSHOTS:
            page.screenshot(path=f"{SCREENSHOTS}/board-{width}.png")
        assert buttons.count() >= 7  # a step for each of today's cases, and the late notices
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        ), f"the board scrolls sideways at {width} px"
        cases = page.locator(".board-cases").bounding_box()
        for index in range(buttons.count()):
            box = buttons.nth(index).bounding_box()
            label = buttons.nth(index).text_content()
            assert box["x"] >= 0, (width, label, box)
            assert box["x"] + box["width"] <= width, (width, label, box)
            assert cases["x"] <= box["x"], (width, label, box, cases)
            right = box["x"] + box["width"]
            assert right <= cases["x"] + cases["width"], (width, label, box, cases)
            assert box["height"] >= 44, (width, label, box)  # big enough for a finger


def test_hour_labels_never_overlap_on_a_day_running_past_closing(demo_board):
    page = demo_board
    page.goto(BOARD)
    closes = page.locator(".board-updated").text_content().split("–")[-1].strip()
    assert hour_labels(page)[-1]["text"] > closes  # the projections widened the axis

    for width, height in [*SCREENS, (1024, 768), (700, 900)]:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(100)  # the resize handler runs on the next frame
        assert_labels_apart(page, width)

    # A narrow screen that refreshes: the swapped-in axis is fitted again.
    page.goto(f"{BOARD}&refresh=1")
    page.eval_on_selector(".board-axis .tick", "tick => tick.dataset.before = 'refresh'")
    page.wait_for_selector(".board-axis .tick[data-before]", state="detached", timeout=5_000)
    page.wait_for_timeout(100)
    assert_labels_apart(page, 700)
    assert not all(label["shown"] for label in hour_labels(page))  # some had to give way
