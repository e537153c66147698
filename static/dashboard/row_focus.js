// Which issue or pull-request row has the keyboard's attention, and giving it to another one.
// Rows are not in the Tab order (a board can have thousands): a row is made focusable
// (`tabindex="-1"`) only when it is given focus.
import { groupsEl } from "./dom.js";

export const ROW = "section.entry tbody tr[data-number]";

let lastRow = null; // {id, number}: the row last focused, found again if a live update replaced it

export function isRow(element) {
  return element instanceof Element && element.matches(ROW);
}

export function rowOf(element) {
  return element instanceof Element ? element.closest(ROW) : null;
}

export function isShown(row) {
  return !row.hidden && !row.closest("[hidden]");
}

/** Every row that is shown (not filtered out), in page order. */
export function shownRows(root = groupsEl) {
  return [...root.querySelectorAll(ROW)].filter(isShown);
}

export function focusRow(row) {
  row.tabIndex = -1;
  row.focus({ preventScroll: true });
  row.scrollIntoView({ block: "nearest" });
  lastRow = { id: row.closest("section.entry").dataset.id, number: row.dataset.number };
}

/** The row that has focus (or holds it, like its title link), else the one that last had it. */
export function currentRow() {
  const focused = rowOf(document.activeElement);
  if (focused) return focused;
  if (!lastRow) return null;
  const section = [...groupsEl.querySelectorAll("section.entry")].find((s) => s.dataset.id === lastRow.id);
  return section?.querySelector(`tbody tr[data-number="${Number(lastRow.number)}"]`) ?? null;
}
