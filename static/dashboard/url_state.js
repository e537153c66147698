// Filter and sort in the URL. The fragment holds each board's filter text, label and sort,
// keyed by the board's id:
// `#filter.issues:octo/app=crash&label.issues:octo/app=bug&sort.issues:octo/app=-number`
// (`-` for descending). A fragment never reaches the server (nor its logs), and replaceState
// adds no history entry per keystroke. It is the source of truth when the page is shown
// again (reload, Back, a bfcache restore), so the rows always agree with the filter box.
// Anyone can write a link: values are only ever used as text, a value is cut to
// MAX_URL_VALUE characters, a longer fragment than MAX_URL_FRAGMENT is ignored whole, and
// unknown boards, columns and directions are ignored.
import { entrySections } from "./dom.js";
import { defaultState, knownState } from "./state.js";

const MAX_URL_FRAGMENT = 8192;
const MAX_URL_VALUE = 500; // as the filter box's maxlength, so the URL holds all it can hold
const URL_FIELDS = ["filter", "label", "sort"];

export function readUrlState() {
  const hash = location.hash.slice(1);
  const boards = new Map(); // board id -> {filter, label, sort}, as written
  if (!hash || hash.length > MAX_URL_FRAGMENT) return boards;
  for (const [name, value] of new URLSearchParams(hash)) {
    const dot = name.indexOf(".");
    const field = name.slice(0, dot);
    if (dot < 0 || !URL_FIELDS.includes(field)) continue;
    const id = name.slice(dot + 1);
    if (!boards.has(id)) boards.set(id, {});
    boards.get(id)[field] = value.slice(0, MAX_URL_VALUE);
  }
  return boards;
}

// ':' and '/' are allowed in a fragment; leaving them readable keeps shared links legible.
function encodeFragmentPart(text) {
  return encodeURIComponent(text).replace(/%3A/g, ":").replace(/%2F/g, "/");
}

export function writeUrlState() {
  const defaults = defaultState();
  const parts = [];
  for (const section of entrySections()) {
    const id = section.dataset.id;
    const state = knownState(id);
    if (!state || !section.querySelector(".board-controls")) continue;
    const put = (field, value) => parts.push(`${field}.${encodeFragmentPart(id)}=${encodeFragmentPart(value)}`);
    if (state.text) put("filter", state.text.slice(0, MAX_URL_VALUE));
    if (state.label) put("label", state.label.slice(0, MAX_URL_VALUE));
    if (state.sortKey !== defaults.sortKey || state.sortDir !== defaults.sortDir) {
      put("sort", `${state.sortDir === "descending" ? "-" : ""}${state.sortKey}`);
    }
  }
  const hash = parts.length ? `#${parts.join("&")}` : "";
  if (hash === location.hash) return;
  history.replaceState(history.state, "", `${location.pathname}${location.search}${hash}`);
}
