// A board's filter box, label picker, chart bars and sortable column headers.
import { setUpAttention, attentionNumbers } from "./attention.js";
import { setUpChartFilters, showChartFilters } from "./chart_filter.js";
import { entrySections } from "./dom.js";
import { parseFilter, readRow } from "./filter_query.js";
import { setUpLabelPicker, showLabelChoices } from "./label_picker.js";
import { defaultState, sameLabels, stateFromUrl, stateOf } from "./state.js";
import { tickTimes } from "./times.js";
import { writeUrlState } from "./url_state.js";

const DESCENDING_FIRST = new Set(["number", "comments", "updated"]);

export function setUpBoard(section) {
  const controls = section.querySelector(".board-controls");
  if (!controls) return; // panels and commit timelines have no filters
  const state = stateOf(section);
  controls.hidden = false;
  const text = controls.querySelector(".filter-text");
  text.value = state.text;
  text.addEventListener("input", () => {
    state.text = text.value;
    applyFilter(section);
    writeUrlState();
  });
  const filterChanged = () => {
    applyFilter(section);
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
      applySort(section);
      writeUrlState();
    });
  }
  setUpAttention(section, applyFilter);
  applyControls(section);
}

export function applyControls(section) {
  showLabelChoices(section);
  applySort(section);
  applyFilter(section);
  tickTimes(section);
}

// Each row's data, read once: a row replaced by an update is a new element, read when first met.
const rowData = new WeakMap();

function dataOf(row) {
  let data = rowData.get(row);
  if (!data) rowData.set(row, (data = readRow(row)));
  return data;
}

function rowsOf(section) {
  return [...section.querySelectorAll("tbody tr[data-number]")];
}

function sortValue(row, key) {
  switch (key) {
    case "number":
    case "comments":
      return Number(row.dataset[key]);
    case "title":
      return row.querySelector(".title").firstElementChild.textContent.toLowerCase();
    default:
      return (row.dataset[key] || "").toLowerCase();
  }
}

function applySort(section) {
  const { sortKey, sortDir } = stateOf(section);
  const sign = sortDir === "ascending" ? 1 : -1;
  const body = section.querySelector("tbody");
  const rows = rowsOf(section).map((row) => [sortValue(row, sortKey), Number(row.dataset.number), row]);
  rows.sort(([a, an], [b, bn]) => {
    const order = typeof a === "number" ? a - b : a.localeCompare(b);
    return order !== 0 ? sign * order : bn - an;
  });
  body.append(...rows.map(([, , row]) => row));
  for (const header of section.querySelectorAll("th[data-sort]")) {
    header.setAttribute("aria-sort", header.dataset.sort === sortKey ? sortDir : "none");
  }
}

function applyFilter(section) {
  const { text, labels, noLabel } = stateOf(section);
  const query = parseFilter(text, { labels, noLabel });
  const rows = rowsOf(section);
  const counted = attentionNumbers(section);
  let shown = 0;
  for (const row of rows) {
    const visible = query.matches(dataOf(row)) && (!counted || counted.has(Number(row.dataset.number)));
    row.hidden = !visible;
    if (visible) shown += 1;
  }
  showChartFilters(section);
  const filtering = Boolean(query.active || counted);
  section.querySelector(".shown").textContent = filtering ? `${shown} of ${rows.length} shown` : "";
  section.querySelector(".no-matches").hidden = !(filtering && shown === 0 && rows.length > 0);
  section.querySelector(".no-issues").hidden = rows.length > 0;
}

// Shows every board as the URL says, whatever the browser put back into the form controls;
// a board that already agrees is left alone (sorting a large board twice on load is not free).
export function applyUrlState() {
  for (const section of entrySections()) {
    const controls = section.querySelector(".board-controls");
    if (!controls) continue;
    const state = stateOf(section);
    const wanted = { ...defaultState(), attention: state.attention, ...stateFromUrl(section) };
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
