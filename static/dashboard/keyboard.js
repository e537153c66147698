// Keyboard shortcuts, and a skip link to each board.
//
// `/` focuses the filter of the board you are in (or the first one on screen), `j`/`k` move to
// the next/previous row shown (across boards), `o` opens the row on GitHub (a new tab), Enter
// opens its preview, `Esc` closes the preview, or leaves the filter box (keeping the filter) for
// the board's rows. Keys typed into a field are the field's,
// and so are keys with Ctrl, Alt or Meta.
import { entrySections, groupsEl } from "./dom.js";
import { closePreview, openPreview, previewHas, previewOpen } from "./preview.js";
import { currentRow, focusRow, isRow, isShown, rowOf, shownRows } from "./row_focus.js";

const EDITABLE = "input, textarea, select, [contenteditable]";
const skipNav = document.getElementById("skip-links");

export function setUpKeyboard() {
  document.addEventListener("keydown", onKey);
  skipNav.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-board]");
    if (!link) return;
    event.preventDefault(); // the fragment holds each board's filter and sort (url_state.js): leave it be
    const section = entrySections().find((s) => s.dataset.id === link.dataset.board);
    if (section) jumpTo(section);
  });
  // Boards come and go with live updates: the links follow.
  const observer = new MutationObserver(() => {
    watch(observer);
    renderSkipLinks();
  });
  watch(observer);
  renderSkipLinks();
}

function watch(observer) {
  observer.disconnect();
  observer.observe(groupsEl, { childList: true });
  for (const group of groupsEl.children) observer.observe(group, { childList: true });
}

function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  const target = event.target;
  if (previewOpen() && event.key === "Escape" && (previewHas(target) || !target.matches?.(EDITABLE))) {
    event.preventDefault();
    closePreview();
    return;
  }
  if (previewHas(target)) return; // keys in the drawer are the drawer's
  if (target instanceof Element && target.matches(EDITABLE)) {
    if (event.key === "Escape" && target.matches(".filter-text")) {
      event.preventDefault(); // a search box would clear itself: the filter stays
      leaveFilter(target);
    }
    return;
  }
  const action = ACTIONS[event.key];
  if (action && action(target)) event.preventDefault();
}

const ACTIONS = {
  "/": () => {
    const filter = nearestBoard()?.querySelector(".board-controls:not([hidden]) .filter-text");
    if (!filter) return false;
    filter.focus();
    filter.select();
    return true;
  },
  j: () => move(1),
  k: () => move(-1),
  o: (target) => {
    const link = rowOf(target)?.querySelector(".title a[href]"); // only the row you are on
    if (!link) return false;
    link.click(); // the row's own link: a new tab, without a handle on this page
    return true;
  },
  Enter: (target) => {
    if (!isRow(target)) return false; // Enter on a link or a button is theirs
    openPreview(target);
    return true;
  },
};

function move(step) {
  const rows = shownRows();
  if (rows.length === 0) return false;
  const current = currentRow();
  let index = current && isShown(current) ? rows.indexOf(current) + step : -1;
  if (index < 0 || index >= rows.length) {
    if (current && isShown(current)) return true; // at the first or last row: stay there
    const board = nearestBoard();
    const first = rows.findIndex((row) => board && board.contains(row));
    index = first >= 0 ? first : 0;
  }
  focusRow(rows[index]);
  return true;
}

/** The board holding focus, else the first one on screen, else the first one. */
function nearestBoard() {
  const boards = entrySections().filter((s) => s.querySelector(".board-controls"));
  const holding = boards.find((s) => s.contains(document.activeElement));
  if (holding) return holding;
  return boards.find((s) => s.getBoundingClientRect().bottom > 0 && s.getBoundingClientRect().top < innerHeight) ?? boards[0];
}

function leaveFilter(filter) {
  const section = filter.closest("section.entry");
  const current = currentRow();
  const row = current && section.contains(current) && isShown(current) ? current : shownRows(section)[0];
  if (row) focusRow(row);
  else jumpTo(section);
}

function jumpTo(section) {
  const heading = section.querySelector("h2");
  heading.tabIndex = -1;
  heading.focus({ preventScroll: true });
  heading.scrollIntoView({ block: "start" });
}

// Our own chrome: each link's text is its board's heading, as text.
function renderSkipLinks() {
  const items = entrySections().map((section) => {
    const link = document.createElement("a");
    link.href = `#${section.querySelector("h2")?.id ?? ""}`;
    link.dataset.board = section.dataset.id;
    link.textContent = `Skip to ${section.querySelector("h2")?.textContent.trim() ?? section.dataset.id}`;
    const item = document.createElement("li");
    item.append(link);
    return item;
  });
  skipNav.querySelector("ul").replaceChildren(...items);
  skipNav.hidden = items.length === 0;
}
