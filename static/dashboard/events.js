// What each event of the stream does to the page.
import { clearActivity, showFailure, showProgress, showUnchanged } from "./activity.js";
import { connect } from "./connection.js";
import { placeRows, setUpBoard } from "./controls.js";
import { entrySections, findEntry, flash, fragment, groupsEl, pendingEl, updateEmptyState } from "./dom.js";

export const HANDLERS = {
  snapshot(data) {
    const template = document.createElement("template");
    template.innerHTML = data.html; // server-rendered and escaped by the server's templates
    groupsEl.replaceChildren(template.content);
    pendingEl.replaceChildren();
    for (const section of entrySections()) setUpBoard(section);
    updateEmptyState();
  },
  board(data) {
    const section = fragment(data.html);
    findEntry(data.id)?.remove();
    clearActivity(data.id);
    placeFirst(section, data.group);
    setUpBoard(section);
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
    section.querySelector(".board-summary").replaceWith(fragment(data.summary_html));
    const rows = [...data.changed, ...data.added].map(({ html }) => fragment(html));
    placeRows(section, data.removed, rows);
    for (const row of rows) flash(row);
    placeFirst(section, data.group);
  },
  removed(data) {
    findEntry(data.id)?.remove();
    clearActivity(data.id);
    for (const group of groupsEl.querySelectorAll(".group:empty")) group.remove();
    updateEmptyState();
  },
  sync_progress: showProgress,
  sync_unchanged: showUnchanged,
  sync_failed: showFailure,
};

function groupElement(key) {
  let group = [...groupsEl.children].find((el) => el.dataset.group === key);
  if (!group) {
    group = document.createElement("div");
    group.className = "group";
    group.dataset.group = key;
  }
  return group;
}

function placeFirst(section, groupKey) {
  // Newest activity first, within its group and for the group. Moving a node blurs whatever
  // was focused inside it: put it back.
  const focused = section.contains(document.activeElement) ? document.activeElement : null;
  const selection = focused && "selectionStart" in focused ? [focused.selectionStart, focused.selectionEnd] : null;
  const group = groupElement(groupKey);
  if (group.firstElementChild !== section) group.prepend(section);
  if (groupsEl.firstElementChild !== group) groupsEl.prepend(group);
  for (const empty of groupsEl.querySelectorAll(".group:empty")) empty.remove();
  if (focused && document.activeElement !== focused) {
    focused.focus();
    if (selection) focused.setSelectionRange(...selection);
  }
}
