// Pages drawn by the API's libraries (the browsable API, the API docs) do not name their
// language; a screen reader needs it to pronounce them. Their menu buttons named only by a
// tooltip's title lose the name when the tooltip script takes the title: keep it as a label.
document.documentElement.lang = document.documentElement.lang || "en";
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("button[title]:not([aria-label])").forEach((button) => {
    if (!button.textContent.trim()) button.setAttribute("aria-label", button.title);
  });
});
