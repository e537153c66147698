// A board's filter box, label picker, chart bars and sortable column headers, and the sort and
// filter engine behind them.
//
// Sorting and filtering go through the board's row index (rows_index.js): each row's values
// are read from its data-* attributes once, a filter keystroke re-sorts nothing, and only rows
// out of place move. A board in its default state (no filter, newest update first: the order
// the server rendered) is not touched at all when the page loads. Interface:
//   setUpBoard(section): wires a board's controls and shows its rows as its state says.
//   applyControls(section): shows the board's rows as its state says (sort, filter, labels),
//     and refreshes the label picker's counts and the sort headers.
//   showRows(section): only the rows, as its state says (after a filter or sort changed).
//   placeRows(section, removed, rows): a re-sync: removes the rows whose numbers are in
//     `removed`, puts each <tr> of `rows` (rendered by the server) in the place of the row
//     with its number, or adds it, then sorts and filters as the board's state says. This is
//     what a `board_delta` event calls (events.js).
//   applyUrlState(): every board as the URL says.
//   rowFilter(section) -> {active, matches(row)}: the board's filter (filter_query.js's language,
//     the label picker's choice, an attention card's pull requests) over Rows of the index
//     (rows_index.js); each row's plain data for the filter (`readRow`) is read once.
import { setUpAttention, attentionNumbers } from "./attention.js";
import { setUpChartFilters, showChartFilters } from "./chart_filter.js";
import { entrySections, partOf } from "./dom.js";
import { parseFilter, readRow } from "./filter_query.js";
import { setUpLabelPicker, showLabelChoices } from "./label_picker.js";
import { rowIndex } from "./rows_index.js";
import { defaultState, sameLabels, stateFromUrl, stateOf } from "./state.js";
import { refreshTimes, watchChunk } from "./times.js";
import { writeUrlState } from "./url_state.js";

// Newest, largest and most discussed first; names and titles A to Z.
const DESCENDING_FIRST = new Set(["number", "comments", "updated", "created"]);

export function setUpBoard(section) {
  const controls = section.querySelector(".board-controls");
  if (!controls) return; // panels and commit timelines have no filters
  const state = stateOf(section);
  controls.hidden = false;
  const text = controls.querySelector(".filter-text");
  text.value = state.text;
  text.addEventListener("input", () => {
    state.text = text.value;
    showRows(section);
    writeUrlState();
  });
  const filterChanged = () => {
    showRows(section);
    writeUrlState();
  };
  setUpLabelPicker(section, filterChanged);
  setUpChartFilters(section, filterChanged);
  for (const header of section.querySelectorAll("th[data-sort]")) {
    header.querySelector("button").addEventListener("click", () => {
      const key = header.dataset.sort;
      if (state.sortKey === key) {
        state.sortDir = state.sortDir === "ascending" ? "descending" : "ascending";
      } else {
        state.sortKey = key;
        state.sortDir = DESCENDING_FIRST.has(key) ? "descending" : "ascending";
      }
      showSort(section);
      showRows(section);
      writeUrlState();
    });
  }
  setUpAttention(section, showRows);
  for (const chunk of section.querySelectorAll("table.chunked > tbody.rows")) watchChunk(chunk);
  if (isDefault(section)) {
    // As rendered: read the rows (for the label menu and the first keystroke) when idle.
    showSort(section);
    showChartFilters(section); // its bars are buttons
    whenIdle(() => section.isConnected && warm(section));
  } else {
    applyControls(section);
  }
}

export function applyControls(section) {
  showSort(section);
  showRows(section);
  showLabelChoices(section);
}

export function placeRows(section, removed, rows) {
  const index = indexOf(section);
  if (!index) return;
  index.update(removed, rows);
  showRows(section);
  showLabelChoices(section);
}

function isDefault(section) {
  const state = stateOf(section);
  const defaults = defaultState(section);
  return !rowFilter(section).active && state.sortKey === defaults.sortKey && state.sortDir === defaults.sortDir;
}

function indexOf(section) {
  const defaults = defaultState(section);
  return rowIndex(section, comparator(defaults.sortKey, defaults.sortDir));
}

// ---- sorting ----

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
const SORT_VALUES = {
  number: (row) => row.number,
  position: (row) => Number(row.dataset.position), // a search view's: GitHub's order
  comments: (row) => Number(row.dataset.comments),
  title: (row) => row.title,
  assignees: (row) => row.list("assignees").join(", "),
  reviewers: (row) => row.list("reviewers").join(", "),
  branches: (row) => row.dataset.head || "",
  // As the server orders rows: by the last update, or the creation when there was none.
  updated: (row) => row.dataset.updated || row.dataset.created || "",
};
const NUMBERS = new Set(["number", "comments", "position"]);
const TIMES = new Set(["updated", "created"]); // ISO 8601 in UTC: as text, in time order
const comparators = new Map();

const readers = new Map();

// How a column's value is read from a row: one function per column, so that a row keeps the
// value it read (Row.sortValue) for both directions.
function readerOf(key) {
  if (!readers.has(key)) readers.set(key, SORT_VALUES[key] ?? ((row) => (row.dataset[key] || "").toLowerCase()));
  return readers.get(key);
}

// One function per column and direction, so the index can tell its order is already right.
// Empty values (no assignee, no date) come last either way; ties newest number first.
function comparator(key, direction) {
  const id = `${key} ${direction}`;
  if (comparators.has(id)) return comparators.get(id);
  const read = readerOf(key);
  const valueOf = (row) => row.sortValue(key, read);
  const order = NUMBERS.has(key) ? (a, b) => a - b : TIMES.has(key) ? (a, b) => (a < b ? -1 : a > b ? 1 : 0) : collator.compare;
  const sign = direction === "ascending" ? 1 : -1;
  const compare = (a, b) => {
    const x = valueOf(a);
    const y = valueOf(b);
    if ((x === "") !== (y === "")) return x === "" ? 1 : -1;
    return sign * order(x, y) || b.number - a.number;
  };
  comparators.set(id, compare);
  return compare;
}

function showSort(section) {
  const { sortKey, sortDir } = stateOf(section);
  for (const header of section.querySelectorAll("th[data-sort]")) {
    header.setAttribute("aria-sort", header.dataset.sort === sortKey ? sortDir : "none");
  }
}

// ---- filtering ----

// Each row's plain data for the filter (filter_query.js), read once: a row an update replaces is
// a new Row, read when first met.
const rowData = new WeakMap();

function dataOf(row) {
  let data = rowData.get(row);
  if (!data) rowData.set(row, (data = readRow(row.element)));
  return data;
}

export function rowFilter(section) {
  const { text, labels, noLabel } = stateOf(section);
  const query = parseFilter(text, { labels, noLabel });
  const counted = attentionNumbers(section);
  return {
    active: Boolean(query.active || counted),
    matches: (row) => query.matches(dataOf(row)) && (!counted || counted.has(row.element.dataset.item || String(row.number))),
  };
}

// ---- showing ----

export function showRows(section) {
  const index = indexOf(section);
  if (!index) return;
  const { sortKey, sortDir } = stateOf(section);
  const filter = rowFilter(section);
  const shown = index.arrange(comparator(sortKey, sortDir), filter.matches);
  const total = index.records.size;
  partOf(section, "board-controls").querySelector(".shown").textContent = filter.active ? `${shown} of ${total} shown` : "";
  partOf(section, "no-matches").hidden = !(filter.active && shown === 0 && total > 0);
  partOf(section, "no-issues").hidden = total > 0;
  showChartFilters(section);
  refreshTimes(section);
}

// Reads every row's values in idle time, a slice at a time, so that the first sort by any
// column or the first keystroke finds them read; then counts the label picker's labels.
function warm(section) {
  const rows = [...indexOf(section).records.values()];
  const columns = [...section.querySelectorAll("th[data-sort]")].map((header) => header.dataset.sort);
  let next = 0;
  const slice = (deadline) => {
    const end = Math.min(rows.length, next + 40); // at least that many, even when idle time ran out
    while (next < end || (next < rows.length && deadline.timeRemaining() > 1)) {
      const row = rows[next++];
      dataOf(row);
      for (const key of columns) row.sortValue(key, readerOf(key));
    }
    if (next < rows.length) whenIdle(slice);
    else if (section.isConnected) showLabelChoices(section);
  };
  whenIdle(slice);
}

function whenIdle(callback) {
  if (window.requestIdleCallback) requestIdleCallback(callback, { timeout: 2000 });
  else setTimeout(() => callback({ timeRemaining: () => 10 }), 50);
}

// Shows every board as the URL says, whatever the browser put back into the form controls;
// a board that already agrees is left alone (sorting a large board twice on load is not free).
export function applyUrlState() {
  for (const section of entrySections()) {
    const controls = section.querySelector(".board-controls");
    if (!controls) continue;
    const state = stateOf(section);
    const wanted = { ...defaultState(section), attention: state.attention, ...stateFromUrl(section) };
    const text = controls.querySelector(".filter-text");
    const agrees =
      ["text", "noLabel", "sortKey", "sortDir"].every((field) => state[field] === wanted[field]) &&
      sameLabels(state.labels, wanted.labels) &&
      text.value === wanted.text;
    if (agrees) continue;
    Object.assign(state, wanted);
    text.value = state.text;
    applyControls(section);
  }
}
