// Keeps the server-rendered dashboard live (loaded as a module; its parts are in dashboard/).
//
// Follows the event stream (dashboard/connection.js), whose events carry HTML fragments rendered
// by the server's own templates (autoescaped there): the script only places them
// (dashboard/events.js), and never builds markup from data. Filters and sort orders are
// client-side, survive every update (dashboard/controls.js), and are kept in the URL's fragment
// so that a link shares them and reload and Back restore them (dashboard/url_state.js), with
// the board last worked on (dashboard/focused_board.js). What changed since this browser last
// saw a board is marked until seen (dashboard/changes.js).
import { updateBoardIndex } from "./dashboard/board_index.js";
import { setUpChanges } from "./dashboard/changes.js";
import { follow } from "./dashboard/connection.js";
import { applyUrlState, setUpBoard } from "./dashboard/controls.js";
import { entrySections } from "./dashboard/dom.js";
import { HANDLERS } from "./dashboard/events.js";
import { setUpSticky } from "./dashboard/sticky.js";
import { setUpFocusedBoard } from "./dashboard/focused_board.js";
import { setUpKeyboard } from "./dashboard/keyboard.js";
import { setUpPreview } from "./dashboard/preview.js";
import { arrange } from "./dashboard/order.js";
import { setUpSelection } from "./dashboard/selection.js";
import { setUpOrderControls } from "./dashboard/order_controls.js";
import { tickTimes } from "./dashboard/times.js";

// The empty state's "Copy" buttons.
for (const button of document.querySelectorAll("button.copy")) {
  if (!navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    await navigator.clipboard.writeText(document.getElementById(button.dataset.copy).textContent);
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy"), 2000);
  });
}

// `pageshow` comes on every showing of the page, a bfcache restore included, after the
// browser has restored what it restores of the form; `hashchange` when someone edits the URL.
window.addEventListener("pageshow", applyUrlState);
window.addEventListener("hashchange", applyUrlState);

for (const section of entrySections()) {
  setUpBoard(section);
  setUpOrderControls(section);
}
arrange(); // the reader's own order of the entries, if they set one (dashboard/order.js)
delete document.documentElement.dataset.arranging; // shown, in that order (early.js)
updateBoardIndex();
document.addEventListener("issuebridge:arranged", updateBoardIndex);
tickTimes(); // the times' titles (the exact time); the rows near the screen get theirs as they come near
setUpChanges();
setUpSticky();
setUpFocusedBoard(); // after arranging: it scrolls to the URL's board
setUpPreview();
setUpKeyboard();
setUpSelection(HANDLERS); // the rows the reader ticks, kept in the store (dashboard/selection.js)
setInterval(() => tickTimes(), 30000);
follow(HANDLERS);
