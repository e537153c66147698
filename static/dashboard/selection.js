// The selection: the rows the reader ticks, for their assistant to read ("these", "the ones I
// picked"). It lives in the server's store, so every open page, every worker and a reload show
// the same: a tick is sent to /api/dashboard/selection, and the stream's `selection` event (and
// a snapshot's) says what is selected now. Rows are rendered once on the server and kept, all
// unticked; this script ticks the selected ones. One listener on the groups serves every row
// (event delegation): a 5,000-row board gets no listener of its own.
import { entrySections, findEntry, groupsEl, rowByNumber } from "./dom.js";

const API = "/api/dashboard/selection";
let selected = new Set(
  (document.getElementById("selection")?.dataset.items || "").split(" ").filter(Boolean),
);

/** The item a row's checkbox stands for: `owner/repo#N`, the repository in lower case. */
function itemOf(box, section) {
  if (box.dataset.item) return box.dataset.item;
  const row = box.closest("tr");
  return `${(section.dataset.repository || "").toLowerCase()}#${row.dataset.number}`;
}

/** Ticks a board's selected rows (and only those), and says how many in its header. */
function mark(section) {
  if (!section?.querySelector("input.select-row")) return;
  for (const box of section.querySelectorAll("input.select-row:checked")) {
    if (!selected.has(itemOf(box, section))) box.checked = false;
  }
  const named = section.querySelectorAll("input.select-row[data-item]"); // a view's rows name their item
  if (named.length) {
    for (const box of named) box.checked = selected.has(box.dataset.item);
  } else {
    const prefix = `${(section.dataset.repository || "").toLowerCase()}#`;
    for (const item of selected) {
      if (!item.startsWith(prefix)) continue;
      const box = rowByNumber(section, item.slice(prefix.length))?.querySelector("input.select-row");
      if (box) box.checked = true;
    }
  }
  showCount(section);
}

function showCount(section) {
  const status = section.querySelector(".selection-status");
  if (!status) return;
  const count = section.querySelectorAll("input.select-row:checked").length;
  status.hidden = count === 0;
  status.querySelector(".selected-count").textContent = `${count} selected`;
}

function markAll() {
  for (const section of entrySections()) mark(section);
}

function adopt(items) {
  selected = new Set(items);
  markAll();
}

/** Asks the server for a change; on refusal, the page shows what the server holds again. */
async function send(change, section) {
  try {
    const answer = await fetch(API, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(change),
    });
    const body = await answer.json();
    if (!answer.ok) throw new Error(body.error || `the server answered ${answer.status}`);
    adopt(body.selected);
  } catch (failure) {
    markAll(); // what was last known to be selected
    const status = section.querySelector(".selection-status");
    if (status) {
      status.hidden = false;
      status.querySelector(".selected-count").textContent = `Not saved: ${failure.message}`;
    }
  }
}

function onChange(event) {
  const box = event.target;
  if (!box.matches?.("input.select-row")) return;
  const section = box.closest("section.entry");
  const item = itemOf(box, section);
  if (box.checked) selected.add(item);
  else selected.delete(item);
  markAll(); // the same item may be on another board
  send(box.checked ? { add: [item] } : { remove: [item] }, section);
}

function onClick(event) {
  const clear = event.target.closest?.(".selection-clear");
  if (!clear) return;
  const section = clear.closest("section.entry");
  const items = [...section.querySelectorAll("input.select-row:checked")].map((box) => itemOf(box, section));
  for (const item of items) selected.delete(item);
  markAll();
  send({ remove: items }, section);
}

/** Ticks the rows, listens for ticks, and keeps the marks through every update of `handlers`. */
export function setUpSelection(handlers) {
  groupsEl.addEventListener("change", onChange);
  groupsEl.addEventListener("click", onClick);
  markAll();
  const { snapshot, board, board_delta: boardDelta } = handlers;
  handlers.snapshot = (data) => {
    snapshot(data);
    adopt(data.selection?.items ?? []);
  };
  handlers.board = (data) => {
    board(data);
    mark(findEntry(data.id));
  };
  handlers.board_delta = (data) => {
    boardDelta(data);
    mark(findEntry(data.id));
  };
  handlers.selection = (data) => adopt(data.items);
}
