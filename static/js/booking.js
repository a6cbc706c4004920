// The booking screen, enhanced: the free times come beside the form without a reload, a day of
// the strip is picked with one click, the screening's usual answers with one more, and what was
// typed survives an idle logout. Without this script every button still submits the form and the
// server answers with the same panel. No inline script: the CSP forbids it.
(() => {
  const form = document.getElementById("booking-form");
  if (!form || !form.dataset.timesUrl) return;
  const panel = document.getElementById("free-times-panel");
  const DRAFT = "vertebro.booking.draft";
  const DRAFT_HOURS = 2;
  const WHEN = ["site", "procedure_type", "levels", "surgeon", "date"];
  // Never kept: the one-time token and the CSRF token belong to the page they came with.
  const NOT_KEPT = new Set(["csrfmiddlewaretoken", "token", "action", "show_date"]);
  let pending = null;

  const field = (name) => form.elements.namedItem(name);

  function draftSave() {
    const fields = [];
    for (const element of form.elements) {
      if (!element.name || NOT_KEPT.has(element.name) || element.type === "submit") continue;
      if (element.type === "radio" || element.type === "checkbox") {
        if (element.checked) fields.push([element.name, element.value]);
      } else {
        fields.push([element.name, element.value]);
      }
    }
    sessionStorage.setItem(DRAFT, JSON.stringify({ at: Date.now(), fields }));
  }

  function draftRestore() {
    const raw = sessionStorage.getItem(DRAFT);
    sessionStorage.removeItem(DRAFT);
    if (!raw) return false;
    const draft = JSON.parse(raw);
    if (Date.now() - draft.at > DRAFT_HOURS * 3600 * 1000) return false;
    const checked = new Set(draft.fields.map(([name, value]) => `${name}=${value}`));
    for (const element of form.elements) {
      if (!element.name || NOT_KEPT.has(element.name)) continue;
      if (element.type === "radio" || element.type === "checkbox") {
        element.checked = checked.has(`${element.name}=${element.value}`);
      }
    }
    for (const [name, value] of draft.fields) {
      const element = field(name);
      if (element && !(element instanceof RadioNodeList) && element.type !== "checkbox") {
        element.value = value;
      }
    }
    return draft.fields.find(([name]) => name === "start")?.[1] || "";
  }

  function loggedOut() {
    draftSave();
    panel.querySelector("#free-times-status")?.remove();
    const notice = document.createElement("p");
    notice.className = "error";
    notice.setAttribute("role", "alert");
    notice.innerHTML = "Your session ended. <a>Log in again</a> to finish the booking: what you typed is kept.";
    notice.querySelector("a").href = form.dataset.loginUrl;
    panel.prepend(notice);
  }

  async function showTimes({ day, chosen } = {}) {
    // The whole form, posted: the panel says when the screening sends the booking to review.
    const body = new FormData(form);
    for (const name of ["token", "action", "show_date"]) body.delete(name);
    if (day !== undefined) body.set("date", day);
    const start = chosen ?? form.querySelector('input[name="start"]:checked')?.value;
    body.delete("start");
    if (start) body.set("start", start);
    pending?.abort();
    pending = new AbortController();
    panel.setAttribute("aria-busy", "true");
    let response;
    try {
      response = await fetch(form.dataset.timesUrl, {
        method: "POST",
        body,
        headers: { "X-Requested-With": "booking.js" },
        credentials: "same-origin",
        signal: pending.signal,
      });
    } catch (error) {
      if (error.name !== "AbortError") panel.removeAttribute("aria-busy");
      return;
    }
    panel.removeAttribute("aria-busy");
    if (response.status === 401) return loggedOut();
    if (!response.ok) return;
    panel.innerHTML = await response.text();
    const section = panel.querySelector("#free-times");
    if (section?.dataset.day && field("date")) field("date").value = section.dataset.day;
    const legend = panel.querySelector(".times legend");
    const status = panel.querySelector("#free-times-status");
    if (status && legend) {
      const count = panel.querySelectorAll('.slots input[name="start"]').length;
      status.textContent = `${legend.textContent}: ${count} free.`;
    }
  }

  // The strip's days and "Show free times" ask for the panel instead of the whole page.
  form.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.name === "show_date") {
      event.preventDefault();
      showTimes({ day: button.value });
    } else if (button.name === "action" && button.value === "slots") {
      event.preventDefault();
      showTimes();
    }
  });
  for (const name of WHEN) {
    field(name)?.addEventListener("change", () => showTimes());
  }
  form.addEventListener("submit", draftSave);

  // The screening's usual answers: one click fills all seven, each still visible to change.
  const clear = document.getElementById("screening-clear");
  if (clear) {
    clear.closest(".screening-clear").hidden = false;
    clear.addEventListener("click", () => {
      for (const pair of clear.dataset.answers.split(" ")) {
        const [name, value] = pair.split("=");
        const radio = form.querySelector(`input[name="${name}"][value="${value}"]`);
        if (radio) radio.checked = true;
      }
    });
  }

  const resumed = new URLSearchParams(location.search).get("resume") === "1";
  const chosen = resumed ? draftRestore() : (sessionStorage.removeItem(DRAFT), "");
  if (resumed && chosen !== false) {
    const note = document.getElementById("booking-resumed");
    if (note) note.hidden = false;
  }
  if (!panel.querySelector(".times")) {
    showTimes({ chosen: chosen || undefined });
  }
})();
