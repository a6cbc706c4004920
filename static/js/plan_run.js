// The plan page while a worker plans the day: every second it fetches the run's part of the page
// (data-poll) and puts in the new progress line and, once the run is done, the proposal. The
// progress line stays the same element, a polite live region, so a screen reader hears each step
// and then that the proposal is ready. No inline script: the CSP forbids it.
(() => {
  const run = document.getElementById("plan-run");
  if (!run || !run.dataset.poll) return;
  const progress = run.querySelector(".plan-progress");
  const body = run.querySelector(".plan-run-body");
  const every = 1000;

  async function poll() {
    let fresh;
    try {
      const answer = await fetch(run.dataset.poll, {
        headers: { Accept: "text/html" }, credentials: "same-origin",
      });
      if (!answer.ok) throw new Error(String(answer.status));
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      fresh = page.getElementById("plan-run");
    } catch (error) {
      window.setTimeout(poll, every * 3);  // a network blip: try again a little later
      return;
    }
    if (!fresh) return;
    const text = fresh.querySelector(".plan-progress").textContent;
    if (progress.textContent !== text) progress.textContent = text;
    run.dataset.status = fresh.dataset.status;
    if (fresh.dataset.poll) {
      window.setTimeout(poll, every);
      return;
    }
    delete run.dataset.poll;
    body.replaceChildren(...fresh.querySelector(".plan-run-body").childNodes);
  }
  window.setTimeout(poll, every);
})();
