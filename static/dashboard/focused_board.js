// The board being worked on, in the URL (`board=<id>`, url_state.js): a link with it opens the
// page scrolled to that board, and so does editing the URL to another. The board last focused
// (its filter, a sort button, a chart bar, a link in it) becomes the URL's. An id that names
// no board on the page is ignored; ids are compared as text, never used as a selector.
import { findEntry, groupsEl } from "./dom.js";
import { focusedBoardId, setFocusedBoard, urlBoard } from "./url_state.js";

let shownFromUrl = null; // the last `board=` scrolled to: a hash edit elsewhere does not scroll again

function scrollToUrlBoard() {
  const id = urlBoard();
  if (!id || id === shownFromUrl) return;
  const section = findEntry(id);
  if (!section) return;
  shownFromUrl = id;
  section.scrollIntoView({ block: "start" });
}

export function setUpFocusedBoard() {
  groupsEl.addEventListener("focusin", (event) => {
    const section = event.target.closest("section.entry");
    if (section && section.dataset.id !== focusedBoardId()) setFocusedBoard(section.dataset.id);
  });
  window.addEventListener("hashchange", scrollToUrlBoard);
  scrollToUrlBoard();
}
