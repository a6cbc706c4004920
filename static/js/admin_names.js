"use strict";
// Names for the admin's own widgets where Django leaves them without one a screen reader (or
// axe) can use. Run on "load", after the admin's scripts have drawn their widgets.
window.addEventListener("load", () => {
  // The filter box of a two-list selector (filter_horizontal) is named by a magnifier icon: a
  // plain span may not carry an aria-label, an image may.
  document.querySelectorAll(".help-tooltip[aria-label]:not([role])").forEach((icon) => {
    icon.setAttribute("role", "img");
  });

  // The changelist's search box is labelled by the magnifier's alt text alone.
  const search = document.getElementById("searchbar");
  const magnifier = search && search.labels[0] && search.labels[0].querySelector("img[alt]");
  if (magnifier && !search.hasAttribute("aria-label")) {
    search.setAttribute("aria-label", magnifier.alt);
  }

  // Fields edited in the list itself (list_editable) have no label: each is named by its
  // column and its row, as "Position, Driver present".
  const list = document.getElementById("result_list");
  if (!list || !list.tHead || !list.tBodies.length) return;
  // A sorted column's heading also holds its sorting controls; its name is in `.text`.
  const columns = Array.from(list.tHead.rows[0].cells, (cell) =>
    (cell.querySelector(".text") || cell).textContent.trim());
  for (const row of list.tBodies[0].rows) {
    const heading = row.querySelector("th");
    const rowName = heading ? heading.textContent.trim() : "";
    Array.from(row.cells).forEach((cell, index) => {
      cell.querySelectorAll("input:not([type=hidden]), select, textarea").forEach((field) => {
        if (field.labels.length || field.hasAttribute("aria-label")) return;
        if (field.classList.contains("action-select")) return;  // named by the admin
        field.setAttribute("aria-label", [columns[index], rowName].filter(Boolean).join(", "));
      });
    });
  }
});
