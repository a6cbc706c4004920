// The waiting-room screen brings its codes up to date in place. A timed reload of the whole page
// would take a screen reader back to the top each time (WCAG 2.2.1); without script, the
// page's <noscript> refresh does the same job the old way. A revoked link shows its "not found"
// at the next round, as a reload would.
(function () {
  const seconds = Number(document.body.dataset.refreshSeconds) || 15;

  async function update() {
    try {
      const response = await fetch(window.location.href, { cache: "no-store" });
      if (response.status === 404) {
        window.location.reload();
        return;
      }
      if (response.ok) {
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        for (const selector of [".updated", "main"]) {
          const shown = document.querySelector(selector);
          const next = fresh.querySelector(selector);
          if (shown && next) shown.replaceChildren(...next.childNodes);
        }
      }
    } catch (error) {
      // The network is down for a moment: the screen keeps what it shows and tries again.
    }
    window.setTimeout(update, seconds * 1000);
  }

  window.setTimeout(update, seconds * 1000);
})();
