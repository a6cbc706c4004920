"""The day board as a wall screen, a tablet and a phone (Chromium driven by Playwright), on the
demo's day at 11:00: one room runs about 40 minutes late and a cement set runs.

Wall mode is read from across the room: names and stages at 20 px or more, times at 18 px or
more, the demo's rooms and bays on one 1920x1080 screen, the countdowns on the blocks, alerts
with a mark and a word. On a tablet each case's next step comes before the time axis; on a
phone each case is a card with its step, and nothing is wider than the screen."""

import os

import pytest
from playwright.sync_api import expect

from tests.axe import axe_source, serious

# The demo day is seeded once for the module (tests/scheduling/conftest.py: demo_board).
pytestmark = pytest.mark.django_db
BOARD = "/board/?site=main&date=2026-03-02"
WALL, TABLET, PHONE = (1920, 1080), (1024, 768), (390, 844)
# BOARD_SCREENSHOTS=<folder>: keep a picture of the board in each layout, to look at.
SCREENSHOTS = os.environ.get("BOARD_SCREENSHOTS")
# Each case's next step: a button, or one that opens its form in place (a summary).
STEPS = (
    ".case-actions > form.board-step > button.step-next, .case-actions > .board-panel > summary"
)


def sized(page, size):
    width, height = size
    page.set_viewport_size({"width": width, "height": height})


def wall_on(page):
    sized(page, WALL)
    page.goto(BOARD)
    page.get_by_role("button", name="Wall mode").click()
    expect(page.locator("#board-page.board-wall")).to_have_count(1)


def keep(page, name):
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png")


def font_sizes(page, selector: str) -> list[float]:
    """The computed font size of each element shown that matches `selector`."""
    return page.eval_on_selector_all(
        selector,
        """nodes => nodes.filter(node => node.getClientRects().length
                                       && getComputedStyle(node).display !== 'none')
            .map(node => parseFloat(getComputedStyle(node).fontSize))""",
    )


def test_wall_mode_is_readable_across_the_room_and_fits_one_screen(demo_board):
    page = demo_board
    wall_on(page)
    keep(page, "board-wall")

    for selector in [".block-name", ".block-kind", ".board-row-label strong", ".alert"]:
        sizes = font_sizes(page, selector)
        assert sizes, selector
        assert min(sizes) >= 20, (selector, sizes)
    for selector in [".block-time", ".board-axis .tick"]:
        sizes = font_sizes(page, selector)
        assert sizes, selector
        assert min(sizes) >= 18, (selector, sizes)
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Every room and bay of the unit shows, whole, on the screen.
    rows = page.locator(".board-row")
    assert rows.count() == 12
    for index in range(rows.count()):
        box = rows.nth(index).bounding_box()
        assert box["y"] >= 0, (index, box)
        assert box["y"] + box["height"] <= WALL[1] + 0.5, (index, box)
    # The time axis uses the full width of the screen.
    track = page.locator(".board-row .board-track").first.bounding_box()
    assert track["x"] + track["width"] >= WALL[0] - 40
    assert track["width"] >= WALL[0] * 0.85
    # The case list and its buttons stay on the nurses' own screens.
    expect(page.locator(".board-cases")).to_be_hidden()


def test_countdowns_and_alerts_show_on_the_timeline_blocks(demo_board):
    page = demo_board
    wall_on(page)
    timers = page.locator(
        ".block.kind-cement_set.state-running .block-timer, "
        ".block.kind-recovery.state-running .block-timer, "
        ".block.state-running.overdue .block-alert"
    )
    expect(timers.first).to_be_visible()
    text = timers.first.text_content()
    minutes, unit = text.removeprefix("⚠ ").removesuffix(" OVERDUE").split()
    assert (minutes.lstrip("+").isdigit(), unit) == (True, "min"), text
    inside_its_block(page, timers.first)
    late = page.locator(".block.late .block-alert").first
    expect(late).to_be_visible()
    assert "⚠ LATE +" in late.text_content()
    inside_its_block(page, late)
    alert = page.locator(".board-alerts .alert-late").first
    expect(alert).to_contain_text("LATE")
    assert "⚠" in alert.text_content()


def inside_its_block(page, locator):
    """The text lies inside its block, whole: neither cut off at the bottom nor pushed out."""
    assert locator.evaluate(
        """node => {
            const box = node.getBoundingClientRect();
            const block = node.closest('.block').getBoundingClientRect();
            return box.top >= block.top - 0.5 && box.bottom <= block.bottom + 0.5
                && box.left >= block.left - 0.5 && box.left < block.right;
        }"""
    ), locator.text_content()


def test_wall_mode_is_remembered_through_a_reload_and_the_refresh(demo_board):
    page = demo_board
    wall_on(page)
    page.goto(f"{BOARD}&refresh=1")
    expect(page.locator("#board-page.board-wall")).to_have_count(1)
    toggle = page.get_by_role("button", name="Wall mode")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.eval_on_selector("#board-updated", "node => node.dataset.before = 'refresh'")
    page.wait_for_selector("#board-updated[data-before]", state="detached", timeout=5_000)
    expect(page.locator("#board-page.board-wall")).to_have_count(1)

    toggle.click()
    # The choice is kept when the page has taken the click, not before: wait for it.
    expect(page.locator("#board-page.board-wall")).to_have_count(0)
    page.reload()
    expect(page.locator("#board-page.board-wall")).to_have_count(0)
    expect(page.get_by_role("button", name="Wall mode")).to_have_attribute("aria-pressed", "false")


def test_on_a_tablet_every_next_step_comes_before_the_time_axis(demo_board):
    page = demo_board
    sized(page, TABLET)
    page.goto(BOARD)
    keep(page, "board-tablet")
    first_step = page.locator(STEPS).first
    expect(first_step).to_be_visible()
    step = first_step.bounding_box()
    timeline = page.locator(".board-timeline").bounding_box()
    assert step["y"] + step["height"] <= TABLET[1], step
    # Every case's step lies above the time axis: none is reached by scrolling past it.
    steps = page.locator(STEPS)
    for index in range(steps.count()):
        box = steps.nth(index).bounding_box()
        assert box["y"] + box["height"] <= timeline["y"], (index, box, timeline)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_on_a_phone_each_case_is_a_card_with_its_step_and_nothing_is_wider(demo_board):
    page = demo_board
    sized(page, PHONE)
    page.goto(BOARD)
    page.eval_on_selector("#board-cases-heading", "heading => heading.scrollIntoView()")
    keep(page, "board-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    rows = page.locator(".board-case-list tbody tr")
    assert rows.count() == 6  # the demo day's cases
    for index in range(rows.count()):
        row = rows.nth(index)
        card = row.bounding_box()
        assert 0 <= card["x"] <= card["x"] + card["width"] <= PHONE[0], (index, card)
        expect(row.locator(".case-patient a")).to_be_visible()
        expect(row.locator(".case-status")).to_be_visible()
        arrival = row.locator(".case-arrival")
        expect(arrival).to_be_visible()
        assert "Arrival" in arrival.evaluate("td => getComputedStyle(td, '::before').content")
        button = row.locator(STEPS).first
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert 0 <= box["x"] <= box["x"] + box["width"] <= PHONE[0], (index, box)
        assert box["height"] >= 44


EMPTY_FRAMES = """() => Array.from(document.querySelectorAll('.board-track *')).filter(node => {
    const style = getComputedStyle(node);
    const box = node.getBoundingClientRect();
    if (!box.width || !box.height || style.visibility === 'hidden') return false;
    const framed = ['Top', 'Right', 'Bottom', 'Left'].some(side =>
        style[`border${side}Style`] !== 'none' && parseFloat(style[`border${side}Width`]) > 0);
    return framed && !node.innerText.trim();
}).map(node => node.closest('[id]') ? node.closest('[id]').id : node.className)"""


def test_no_empty_frame_and_no_label_cut_off_on_the_time_axis(demo_board):
    page = demo_board
    for size, wall in [(WALL, True), (WALL, False), ((1366, 768), False), (TABLET, False),
                       (PHONE, False)]:
        sized(page, size)
        page.goto(BOARD)
        if wall != bool(page.locator("#board-page.board-wall").count()):
            page.get_by_role("button", name="Wall mode").click()
        assert page.evaluate(EMPTY_FRAMES) == [], size
        cut = page.eval_on_selector_all(
            ".block-body > *",
            """nodes => nodes.filter(node => {
                if (getComputedStyle(node).display === 'none') return false;
                const box = node.getBoundingClientRect();
                const body = node.parentElement.getBoundingClientRect();
                if (box.left >= body.right - 1) return false;  // left out whole
                const half = box.bottom > body.bottom + 0.5;
                const clipped = node.scrollWidth > node.clientWidth
                    && getComputedStyle(node).textOverflow !== 'ellipsis';
                return half || clipped || !node.closest('.block').title;
            }).map(node => node.closest('.block').id + ': ' + node.textContent)""",
        )
        assert cut == [], (size, wall, cut)


@pytest.mark.parametrize("layout", ["normal", "wall", "tablet", "phone"])
def test_axe_finds_nothing_serious_on_the_board(demo_board, layout):
    page = demo_board
    if layout == "wall":
        wall_on(page)
    else:
        sized(page, {"normal": (1366, 768), "tablet": TABLET, "phone": PHONE}[layout])
        page.goto(BOARD)
    assert serious(page, axe_source()) == []


def test_only_the_summary_and_alerts_are_a_live_region(demo_board):
    page = demo_board
    page.goto(BOARD)
    live = page.eval_on_selector_all(
        "[aria-live], [role=alert], [role=status], [role=log]",
        "nodes => nodes.map(node => node.id || node.className)",
    )
    assert live == ["board-live", "board-refresh-status"]
    expect(page.locator("#board-live .board-summary")).to_have_count(1)
    expect(page.locator("#board-live .board-alerts")).to_have_count(1)
    expect(page.locator("#board-live .board-case-list, #board-live .board-grid")).to_have_count(0)
