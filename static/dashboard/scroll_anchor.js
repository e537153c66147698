// Keeps what the reader is looking at where it is while the page changes above it.
//
// A live update may grow or shrink anything above the viewport (rows added to a board higher
// up, a board replaced, a whole snapshot after a reconnect). Before it, the row or entry under
// the top third of the viewport is noted by identity (the entry's id and the row's number, since
// the update may replace the very node); before the next frame is painted, the page is scrolled
// by however far that moved, so the reader never sees the jump. The browser's own scroll
// anchoring stays on: it is what holds the page still while chunks of rows are laid out as they
// come near the screen (content-visibility), and after an update this measures what it left,
// so nothing is corrected twice; but it cannot hold on to a node the update replaced.
import { findEntry, rowByNumber } from "./dom.js";

function anchorAt() {
  if (window.scrollY <= 0) return null; // at the top, the reader sees what arrives there
  const x = Math.round(document.documentElement.clientWidth / 2);
  const y = Math.round(window.innerHeight / 3);
  const hit = document.elementFromPoint(x, y);
  const section = hit?.closest("section.entry[data-id]");
  if (!section) return null;
  const row = hit.closest("tr[data-number]");
  const element = row && section.contains(row) ? row : section;
  return { id: section.dataset.id, number: row ? row.dataset.number : null, top: element.getBoundingClientRect().top };
}

function find(anchor) {
  const section = findEntry(anchor.id);
  if (!section) return null;
  if (anchor.number === null) return section;
  const row = rowByNumber(section, anchor.number); // in whichever of the table's bodies it is
  return row && !row.hidden ? row : null; // gone, or filtered out: nothing to hold on to
}

let pending = null; // the anchor of the updates since the last frame, corrected before it is painted

function correct() {
  const anchor = pending;
  pending = null;
  const element = anchor && find(anchor);
  if (element) {
    const moved = element.getBoundingClientRect().top - anchor.top;
    if (Math.abs(moved) >= 1) window.scrollBy(0, moved);
  }
}

/** Runs `change` (a synchronous DOM update); before the next frame is painted, scrolls so that
 * the anchor is where it was before the first update since the last frame. The correction waits
 * for that frame because measuring right after the change would lay out the page (a 5,000-row
 * table: hundreds of milliseconds) once more than the browser's own rendering does. */
export function keepingScroll(change) {
  if (pending === null) {
    const anchor = anchorAt(); // the page is laid out already: measuring costs nothing here
    if (anchor) {
      pending = anchor;
      requestAnimationFrame(correct);
    }
  }
  change();
}
