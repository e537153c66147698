// What each event of the stream does to the page.
import { clearActivity, showFailure, showProgress, showUnchanged } from "./activity.js";
import { connect } from "./connection.js";
import { setUpAttention } from "./attention.js";
import { updateBoardIndex } from "./board_index.js";
import { forgetBoard, trackBoard, trackBoards, trackDelta } from "./changes.js";
import { applyControls, placeRows, setUpBoard } from "./controls.js";
import { entrySections, findEntry, flash, fragment, groupsEl, pendingEl, updateEmptyState } from "./dom.js";
import { arrange, placeEntry } from "./order.js";
import { keepingFocus } from "./focus_keeper.js";
import { setUpOrderControls } from "./order_controls.js";
import { previewUpdated } from "./preview.js";
import { keepingScroll } from "./scroll_anchor.js";

export const HANDLERS = {
  snapshot(data) {
    const template = document.createElement("template");
    template.innerHTML = data.html; // server-rendered and escaped by the server's templates
    groupsEl.replaceChildren(template.content);
    pendingEl.replaceChildren();
    for (const section of entrySections()) {
      setUpBoard(section);
      setUpOrderControls(section);
    }
    arrange(); // the reader's own order, if they set one
    trackBoards();
    updateEmptyState();
  },
  board(data) {
    const section = fragment(data.html);
    const existing = findEntry(data.id);
    clearActivity(data.id);
    if (existing?.parentElement.dataset.group === data.group) existing.replaceWith(section); // it keeps its place
    else {
      existing?.remove(); // new, or a panel now about another repository: placed in its group
      placeEntry(section, data.group);
    }
    setUpBoard(section);
    setUpOrderControls(section);
    trackBoard(section);
    previewUpdated(section, [...section.querySelectorAll("tr[data-number]")]);
    flash(section);
    updateEmptyState();
  },
  board_delta(data) {
    const section = findEntry(data.id);
    if (!section) {
      connect({ resume: false }); // out of step: start again from a snapshot
      return;
    }
    clearActivity(data.id);
    section.querySelector(".board-header").replaceWith(fragment(data.header_html));
    section.querySelector('[data-part="summary"]').replaceWith(fragment(data.summary_html));
    setUpAttention(section, applyControls); // a pull-request board's cards, as they are now
    const rows = [...data.changed, ...data.added].map(({ html }) => fragment(html));
    placeRows(section, data.removed, rows);
    for (const row of rows) flash(row);
    trackDelta(section, data);
    previewUpdated(section, rows);
  },
  removed(data) {
    findEntry(data.id)?.remove();
    clearActivity(data.id);
    forgetBoard(data.id);
    for (const group of groupsEl.querySelectorAll(".group:empty")) group.remove();
    updateEmptyState();
  },
  sync_progress: showProgress,
  sync_unchanged: showUnchanged,
  sync_failed: showFailure,
};

// Any update may change the height of something above the reader or replace what has the focus:
// each keeps their scroll position (scroll_anchor.js) and their focus (focus_keeper.js), and the
// board index (above everything: inside the scroll keeping) says what the page now shows.
for (const [name, handle] of Object.entries(HANDLERS)) {
  HANDLERS[name] = (data) =>
    keepingScroll(() => {
      keepingFocus(() => handle(data));
      updateBoardIndex();
    });
}
