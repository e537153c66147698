// Each board's filter and sort, by entry id: client-side, kept across every update.
import { readUrlState } from "./url_state.js";

const boardState = new Map(); // entry id -> {text, label, attention, sortKey, sortDir}

export function defaultState() {
  return { text: "", label: "", attention: "", sortKey: "updated", sortDir: "descending" };
}

/** The state of a board already seen, or `undefined`. */
export function knownState(id) {
  return boardState.get(id);
}

export function stateOf(section) {
  const key = section.dataset.id;
  if (!boardState.has(key)) {
    boardState.set(key, { ...defaultState(), ...stateFromUrl(section) });
  }
  return boardState.get(key);
}

// The part of a board's state its URL entry sets; only columns the board can sort by count.
export function stateFromUrl(section) {
  const entry = readUrlState().get(section.dataset.id);
  if (!entry) return {};
  const state = {};
  if (entry.filter) state.text = entry.filter;
  if (entry.label) state.label = entry.label;
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
