// The day board refreshes its body without a page reload: every data-refresh-seconds it fetches
// the fragment at data-board-url and swaps it in. No inline script: the CSP forbids it.
(() => {
  const board = document.getElementById("board");
  if (!board || !board.dataset.boardUrl) return;
  const seconds = Math.max(1, Number(board.dataset.refreshSeconds) || 10);
  const status = document.getElementById("board-refresh-status");
  let busy = false;

  async function refresh() {
    if (busy) return;
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
      board.innerHTML = await response.text();
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
