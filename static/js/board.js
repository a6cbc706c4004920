// The day board refreshes its body without a page reload: every data-refresh-seconds it fetches
// the fragment at data-board-url and swaps it in. No inline script: the CSP forbids it.
(() => {
  const board = document.getElementById("board");
  if (!board || !board.dataset.boardUrl) return;
  const live = document.getElementById("board-live");

  // Wall mode: a choice of this screen, kept for a year in a cookie the server reads too, so a
  // reload comes back already in it.
  const page = document.getElementById("board-page");
  const toggle = document.getElementById("board-wall-toggle");
  if (page && toggle) {
    toggle.addEventListener("click", () => {
      const wall = !page.classList.contains("board-wall");
      page.classList.toggle("board-wall", wall);
      toggle.setAttribute("aria-pressed", String(wall));
      const cookie = toggle.dataset.cookie || "board_wall";
      document.cookie = `${cookie}=${wall ? "1" : "0"}; path=/; max-age=31536000; SameSite=Lax`;
      fitHourLabels();
    });
  }
  const seconds = Math.max(1, Number(board.dataset.refreshSeconds) || 10);
  const status = document.getElementById("board-refresh-status");
  let busy = false;

  // Hour labels: on a long day or a narrow screen, label every second (or third...) hour, the
  // fewest needed so that no label touches the next one shown; the hour lines all stay.
  function fitHourLabels() {
    const ticks = Array.from(board.querySelectorAll(".board-axis .tick"));
    ticks.forEach((tick) => tick.classList.remove("tick-hidden"));
    if (ticks.length < 2) return;
    const boxes = ticks.map((tick) => tick.getBoundingClientRect());
    const widest = Math.max(...boxes.map((box) => box.width));
    const pitch = boxes[1].left + boxes[1].width / 2 - (boxes[0].left + boxes[0].width / 2);
    const step = pitch > 0 ? Math.max(1, Math.ceil((widest + 6) / pitch)) : 1;
    ticks.forEach((tick, i) => tick.classList.toggle("tick-hidden", i % step !== 0));
  }
  fitHourLabels();
  let resizing = 0;
  window.addEventListener("resize", () => {
    window.cancelAnimationFrame(resizing);
    resizing = window.requestAnimationFrame(fitHourLabels);
  });

  // A nurse filling in a form in place (checklist, vitals, a reason) keeps it until sent:
  // the swap waits while one is open or a field has the focus.
  function formInUse() {
    const active = document.activeElement;
    return Boolean(
      board.querySelector("details.board-panel[open]") ||
      (active && board.contains(active) && active.matches("input, select, textarea"))
    );
  }

  async function refresh() {
    if (busy || formInUse()) return;
    busy = true;
    try {
      const response = await fetch(board.dataset.boardUrl, {
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
        cache: "no-store",
      });
      if (response.redirected || !response.ok) {
        if (status) status.textContent = "Could not refresh the board; reload the page or log in again.";
        return;
      }
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      const freshLive = fresh.getElementById("board-live");
      // The live region stays the same element and changes only when its words do, so a screen
      // reader is told what changed, not the whole board every few seconds.
      if (live && freshLive && live.innerHTML !== freshLive.innerHTML) {
        live.innerHTML = freshLive.innerHTML;
      }
      const freshBoard = fresh.getElementById("board");
      board.innerHTML = freshBoard ? freshBoard.innerHTML : "";
      fitHourLabels();
      if (status) status.textContent = "";
    } catch (error) {
      if (status) status.textContent = "Could not reach the server; the board will try again.";
    } finally {
      busy = false;
    }
  }

  window.setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refresh();
  });
})();
