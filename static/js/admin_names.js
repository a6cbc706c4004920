"use strict";
// Names for the admin's own widgets where Django leaves them without one a screen reader (or
// axe) can use. Run on "load", after the admin's scripts have drawn their widgets.

function unnamed(field) {
  return !field.labels.length && !field.hasAttribute("aria-label")
    && !field.hasAttribute("aria-labelledby");
}

function name(field, ...parts) {
  if (unnamed(field)) field.setAttribute("aria-label", parts.filter(Boolean).join(", "));
}

// A table of forms, one per row (fields edited in a list, an inline's rows): each field is
// named by its column and its row, as "Opens, Monday 06:30-18:00".
function tableNamed(table, rowName) {
  if (!table.tHead || !table.tBodies.length) return;
  // A sorted column's heading also holds its sorting controls; its name is in `.text`.
  const columns = Array.from(table.tHead.rows[0].cells, (cell) =>
    (cell.querySelector(".text") || cell).textContent.trim());
  Array.from(table.tBodies[0].rows).forEach((row, number) => {
    // The hidden template of an added row: each copy of it is named when added.
    if (row.classList.contains("empty-form")) return;
    const rowText = rowName(row) || `row ${number + 1}`;
    Array.from(row.cells).forEach((cell, index) => {
      cell.querySelectorAll("input:not([type=hidden]), select, textarea").forEach((field) => {
        name(field, columns[index], rowText);
      });
    });
  });
}

// A tabular inline's rows; a saved row is named as the admin shows it.
function inlineNamed(table) {
  tableNamed(table, (row) => {
    const original = row.querySelector("td.original p");
    return original ? original.textContent.trim() : "";
  });
}

// A row added with "Add another" is named as it appears.
document.addEventListener("formset:added", (event) => {
  const table = event.target.closest(".tabular table");
  if (table) inlineNamed(table);
});

window.addEventListener("load", () => {
  // The filter box of a two-list selector (filter_horizontal) is named by a magnifier icon: a
  // plain span may not carry an aria-label, an image may.
  document.querySelectorAll(".help-tooltip[aria-label]:not([role])").forEach((icon) => {
    icon.setAttribute("role", "img");
  });

  // The changelist's search box is labelled by the magnifier's alt text alone, which axe does
  // not take for a label once the box also has help text.
  const search = document.getElementById("searchbar");
  const magnifier = search && search.labels[0] && search.labels[0].querySelector("img[alt]");
  if (magnifier && !search.hasAttribute("aria-label")) {
    search.setAttribute("aria-label", magnifier.alt);
  }

  // Fields edited in the list itself (list_editable); the row is named by its link.
  const list = document.getElementById("result_list");
  if (list) {
    tableNamed(list, (row) => {
      const heading = row.querySelector("th");
      return heading ? heading.textContent.trim() : "";
    });
  }

  document.querySelectorAll(".tabular table").forEach(inlineNamed);

  // A date and time in two boxes: the field's label belongs to neither, and "Date:" and
  // "Time:" are plain text before each.
  document.querySelectorAll("p.datetime").forEach((pair) => {
    const label = pair.parentElement.querySelector(":scope > label");
    const fieldName = label ? label.textContent.trim().replace(/:$/, "") : "";
    pair.querySelectorAll("input").forEach((field) => {
      const before = field.previousSibling;
      const part = before && before.nodeType === Node.TEXT_NODE
        ? before.textContent.trim().replace(/:$/, "") : "";
      name(field, fieldName, part);
    });
  });
});
