// Filter and sort in the URL. The fragment holds each board's filter text, labels and sort,
// keyed by the board's id, and the board last worked on:
// `#filter.issues:octo/app=crash&label.issues:octo/app=bug&label.issues:octo/app=docs&sort.issues:octo/app=-number&board=issues:octo/app`
// (`label` once per label picked, `nolabel.<id>=1` for "No label", `-` for descending). A fragment never reaches the server (nor its logs), and replaceState
// adds no history entry per keystroke. It is the source of truth when the page is shown
// again (reload, Back, a bfcache restore), so the rows always agree with the filter box.
// Anyone can write a link: values are only ever used as text, a value is cut to
// MAX_URL_VALUE characters, a longer fragment than MAX_URL_FRAGMENT is ignored whole, and
// at most MAX_URL_LABELS labels per board are read, and unknown boards, columns and directions
// are ignored.
import { entrySections, partOf } from "./dom.js";
import { defaultState, knownState } from "./state.js";

const MAX_URL_FRAGMENT = 8192;
const MAX_URL_VALUE = 500; // as the filter box's maxlength, so the URL holds all it can hold
const MAX_URL_LABELS = 100;
const URL_FIELDS = ["filter", "label", "nolabel", "sort"];

function fragmentParams() {
  const hash = location.hash.slice(1);
  return !hash || hash.length > MAX_URL_FRAGMENT ? new URLSearchParams() : new URLSearchParams(hash);
}

export function readUrlState() {
  const boards = new Map(); // board id -> {filter, label: [names], nolabel, sort}, as written
  for (const [name, value] of fragmentParams()) {
    const dot = name.indexOf(".");
    const field = name.slice(0, dot);
    if (dot < 0 || !URL_FIELDS.includes(field)) continue;
    const id = name.slice(dot + 1);
    if (!boards.has(id)) boards.set(id, { label: [] });
    const entry = boards.get(id);
    const text = value.slice(0, MAX_URL_VALUE);
    if (field !== "label") entry[field] = text;
    else if (text && entry.label.length < MAX_URL_LABELS) entry.label.push(text);
  }
  return boards;
}

/** The id of the board the URL points at (`board=<id>`), or "". */
export function urlBoard() {
  return (fragmentParams().get("board") || "").slice(0, MAX_URL_VALUE);
}

let focusedBoard = null; // null until a board is worked on: the URL's stays

export function focusedBoardId() {
  return focusedBoard;
}

/** Remembers the board being worked on, for the URL's `board=`. */
export function setFocusedBoard(id) {
  focusedBoard = id;
  writeUrlState();
}

// ':' and '/' are allowed in a fragment; leaving them readable keeps shared links legible.
function encodeFragmentPart(text) {
  return encodeURIComponent(text).replace(/%3A/g, ":").replace(/%2F/g, "/");
}

export function writeUrlState() {
  const parts = [];
  for (const section of entrySections()) {
    const defaults = defaultState(section);
    const id = section.dataset.id;
    const state = knownState(id);
    if (!state || !partOf(section, "board-controls")) continue;
    const put = (field, value) => parts.push(`${field}.${encodeFragmentPart(id)}=${encodeFragmentPart(value)}`);
    if (state.text) put("filter", state.text.slice(0, MAX_URL_VALUE));
    for (const name of [...state.labels].slice(0, MAX_URL_LABELS)) put("label", name.slice(0, MAX_URL_VALUE));
    if (state.noLabel) put("nolabel", "1");
    if (state.sortKey !== defaults.sortKey || state.sortDir !== defaults.sortDir) {
      put("sort", `${state.sortDir === "descending" ? "-" : ""}${state.sortKey}`);
    }
  }
  const board = focusedBoard ?? urlBoard();
  if (board) parts.push(`board=${encodeFragmentPart(board)}`);
  const hash = parts.length ? `#${parts.join("&")}` : "";
  if (hash === location.hash) return;
  history.replaceState(history.state, "", `${location.pathname}${location.search}${hash}`);
}
