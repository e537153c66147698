// Each board's filter and sort, by entry id: client-side, kept across every update.
import { readUrlState } from "./url_state.js";

// entry id -> {text, labels, noLabel, attention, sortKey, sortDir}: `labels` is the label
// picker's set of names, `noLabel` its "No label" choice (rows with any of them are shown).
const boardState = new Map();

// A board's default order is the server's: newest update first, or, for a search view, GitHub's
// order (its table's `data-default-sort="position"`).
export function defaultState(section) {
  // The rows' table comes before its rows: found at once (a search for a table that has the
  // attribute would go through every row of a board without it).
  const sortKey = section?.querySelector("table.chunked")?.dataset.defaultSort ?? "updated";
  const sortDir = sortKey === "position" ? "ascending" : "descending";
  return { text: "", labels: new Set(), noLabel: false, attention: "", sortKey, sortDir };
}

export function sameLabels(a, b) {
  return a.size === b.size && [...a].every((name) => b.has(name));
}

/** The state of a board already seen, or `undefined`. */
export function knownState(id) {
  return boardState.get(id);
}

export function stateOf(section) {
  const key = section.dataset.id;
  if (!boardState.has(key)) {
    boardState.set(key, { ...defaultState(section), ...stateFromUrl(section) });
  }
  return boardState.get(key);
}

// The part of a board's state its URL entry sets; only columns the board can sort by count.
export function stateFromUrl(section) {
  const entry = readUrlState().get(section.dataset.id);
  if (!entry) return {};
  const state = {};
  if (entry.filter) state.text = entry.filter;
  if (entry.label.length) state.labels = new Set(entry.label);
  if (entry.nolabel) state.noLabel = true;
  if (entry.sort) {
    const descending = entry.sort.startsWith("-");
    const key = descending ? entry.sort.slice(1) : entry.sort;
    const columns = [...section.querySelectorAll("th[data-sort]")].map((th) => th.dataset.sort);
    if (columns.includes(key)) {
      state.sortKey = key;
      state.sortDir = descending ? "descending" : "ascending";
    }
  }
  return state;
}
