// What changed, visibly: rows marked new or updated until seen, closed rows kept struck through
// until dismissed, a strip per board ("3 new · 2 updated · 1 closed") whose parts filter the
// table, the count of unseen changes in the tab's title, and a polite live region saying what
// changed.
//
// One rule covers what changes while the page is open and what changed while it was closed
// ("since you last looked"): each board keeps, in this browser, the rows it was last seen with
// (its baseline, a fingerprint per row number, in localStorage). A row not in the baseline is
// new, a row whose fingerprint differs is updated, a number in the baseline the board no longer
// has is closed (an open-issues board drops an issue once it is closed; or it was removed).
// Seeing a row (in view for SEEN_AFTER_MS while the page is visible, or "Mark all seen") writes
// its fingerprint into the baseline; dismissing a closed row drops its number. So a reload shows
// exactly what was not seen yet, whether the change came live or while the page was away.
//
// Rows are the server's fragments: the script only sets data-change on them, and builds nothing
// from data but the placeholder of a closed row it never saw (number and a link, as text).
// Closed rows sit in the table's <tfoot>, outside every `tbody tr[data-number]` that sorting,
// filtering and the server's counts work on, and lose their data-number: they are not the
// board's rows any more.
import { entrySections, main } from "./dom.js";
import { keepingScroll } from "./scroll_anchor.js";

const SEEN_AFTER_MS = 2000; // in view this long (page visible) and a row counts as seen
const SAVE_AFTER_MS = 1000; // baselines are written at most this often (and on pagehide)
const ANNOUNCE_ON_LOAD_MS = 500; // a live region's first words are lost if said as the page loads
// Closed rows a board keeps, the oldest dismissed first: a board switched from open to closed
// issues would otherwise keep thousands.
const MAX_CLOSED_ROWS = 100;
// localStorage: one key per board, and an index that bounds them (least recently saved go first).
const INDEX_KEY = "issuebridge.rows-seen";
const BOARD_KEY_PREFIX = "issuebridge.rows-seen:";
// Before the server hashed rows, the page did, differently: those baselines would mark every
// row updated once. They are dropped, with their index, the first time storage is used.
const OLD_INDEX_KEY = "issuebridge.seen";
const OLD_BOARD_KEY_PREFIX = "issuebridge.seen:";
const MAX_STORED_BOARDS = 50;
const MAX_STORED_ROWS = 10000; // per board: the server's default ISSUEBRIDGE_MAX_ITEMS
const MAX_STORED_CHARS = 1_000_000; // all boards together (about 14 characters a row)
const SEEN_CLOSED = "-"; // the baseline's value for a closed row already seen (not yet dismissed)
const FINGERPRINT = /^[0-9a-z]{1,7}$/;
const KINDS = ["new", "updated", "closed"];
const KIND_HINTS = {
  new: "Show only the new rows",
  updated: "Show only the updated rows",
  closed: "Show only the closed rows",
};

const baseTitle = document.title;
const boards = new Map(); // board id -> its changes (see trackSection)
const inView = new Map(); // marked row in view -> since when (Date.now())
const unsaved = new Set();
let announcer = null;
let observer = null;
let seenTimer = null;
let saveTimer = null;

/** Sets the module up on load: every board against what this browser last saw of it. */
export function setUpChanges() {
  announcer = document.createElement("p");
  announcer.className = "changes-announcer";
  announcer.setAttribute("role", "status"); // polite
  main.append(announcer); // inside a landmark, as all content should be
  observer = new IntersectionObserver(noticeInView, { threshold: 0.5 });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") restartSeenClock();
    else flushSaves(); // a phone may never come back from hidden
  });
  window.addEventListener("pagehide", flushSaves);
  window.addEventListener("storage", adoptOtherTab);
  forgetStrayKeys();
  const found = [];
  for (const section of changeBoards()) {
    const message = foundMessage(section, trackSection(section));
    if (message) found.push(message);
  }
  if (found.length) setTimeout(() => say(`Since you last looked: ${found.join("; ")}.`), ANNOUNCE_ON_LOAD_MS);
}

/** After a snapshot: every board again, against what was on the page before it. */
export function trackBoards() {
  const sections = changeBoards();
  const ids = new Set(sections.map((section) => section.dataset.id));
  for (const id of [...boards.keys()]) if (!ids.has(id)) forgetBoard(id);
  const found = sections.map((section) => foundMessage(section, trackSection(section))).filter(Boolean);
  if (found.length) say(`${found.join("; ")}.`);
}

/** After a `board` event put `section` on the page (whole, new or re-rendered). */
export function trackBoard(section) {
  if (!section.querySelector(".changes-strip")) return; // commit timelines and panels have no rows to mark
  const message = foundMessage(section, trackSection(section));
  if (message) say(`${message}.`);
}

/** After a `board_delta` placed its rows in `section`: only the rows it names are looked at. */
export function trackDelta(section, data) {
  const state = boards.get(section.dataset.id);
  if (!state || state.section !== section) {
    trackBoard(section);
    return;
  }
  const found = { new: 0, updated: 0, closed: 0 };
  for (const number of data.removed) {
    const old = state.rows.get(number);
    if (old) unobserve(old);
    state.rows.delete(number);
    state.marks.delete(number);
    if (state.baseline.has(number) && !state.closed.has(number)) {
      addClosed(state, number, old);
      found.closed += 1;
    }
  }
  for (const { number } of [...data.changed, ...data.added]) {
    const row = section.querySelector(`tbody tr[data-number="${Number(number)}"]`);
    if (!row) continue;
    const old = state.rows.get(number);
    if (old && old !== row) unobserve(old);
    state.rows.set(number, row);
    if (state.closed.has(number)) removeClosed(state, number); // reopened
    const kind = markRow(state, number, row);
    if (kind) found[kind] += 1;
  }
  render(state);
  const message = foundMessage(section, found);
  if (message) say(`${message}.`);
}

/** A board left the page: its changes go with it (its baseline stays stored). */
export function forgetBoard(id) {
  const state = boards.get(id);
  if (!state) return;
  for (const row of [...state.rows.values(), ...state.closed.values()]) unobserve(row);
  boards.delete(id);
  updateTitle();
}

function changeBoards() {
  return entrySections().filter((section) => section.querySelector(".changes-strip"));
}

// ---- a board's changes ---------------------------------------------------------------------

// Every row of `section` against the baseline; rows and closed rows shown before (in the section
// this one replaces) keep their marks, and a row gone since is kept as closed. Returns what is
// marked now that was not before.
function trackSection(section) {
  const id = section.dataset.id;
  let state = boards.get(id);
  if (!state) {
    state = {
      id,
      section,
      baseline: loadBaseline(id), // number -> fingerprint (or SEEN_CLOSED); null: never seen here
      rows: new Map(), // number -> the board's row on the page
      marks: new Map(), // number -> "new" or "updated", until seen
      closed: new Map(), // number -> its closed row, until dismissed
      filter: "", // the strip's chosen part
      picked: new Set(), // the numbers that part shows
    };
    boards.set(id, state);
  }
  const before = { rows: state.rows, marks: state.marks, closed: state.closed };
  state.section = section;
  state.rows = new Map();
  state.marks = new Map();
  state.closed = new Map();
  for (const row of section.querySelectorAll("tbody tr[data-number]")) state.rows.set(Number(row.dataset.number), row);
  const found = { new: 0, updated: 0, closed: 0 };
  if (!state.baseline) {
    // First sight in this browser: everything on it is what the reader has seen.
    state.baseline = new Map([...state.rows].map(([number, row]) => [number, fingerprint(row)]));
    save(state);
  } else {
    for (const [number, row] of state.rows) {
      const kind = markRow(state, number, row);
      const old = before.rows.get(number);
      const again = kind === "updated" && before.marks.get(number) === "updated" && old && fingerprint(old) === fingerprint(row);
      if ((kind === "new" && !old) || (kind === "updated" && !again)) found[kind] += 1;
    }
    for (const number of state.baseline.keys()) {
      if (state.rows.has(number)) continue;
      addClosed(state, number, before.closed.get(number) ?? before.rows.get(number));
      if (!before.closed.has(number)) found.closed += 1;
    }
  }
  for (const [number, row] of before.closed) if (state.closed.get(number) !== row) row.remove(); // reopened
  for (const row of [...before.rows.values(), ...before.closed.values()]) if (!row.isConnected) unobserve(row);
  applyPicks(state);
  render(state);
  return found;
}

// Marks one row of the board as new, updated or nothing, from the baseline; returns the mark.
function markRow(state, number, row) {
  const seen = state.baseline.get(number);
  const kind = seen === undefined ? "new" : seen === fingerprint(row) ? "" : "updated";
  if (kind) {
    state.marks.set(number, kind);
    row.dataset.change = kind;
    if (state.filter === kind) state.picked.add(number);
    if (state.picked.has(number)) row.dataset.changePicked = "";
    observer.observe(row);
  } else if (row.hasAttribute("data-change")) {
    state.marks.delete(number);
    row.removeAttribute("data-change");
    unobserve(row);
  }
  return kind;
}

// A closed row: the row as it was last on the page, or, for one that closed while the page was
// away, a placeholder with its number. Newest first, in the table's <tfoot>.
function addClosed(state, number, row) {
  const closed = row ? asClosed(row, number) : placeholder(state.section, number);
  closed.dataset.change = "closed";
  let foot = state.section.querySelector("tfoot.closed-rows");
  if (!foot) {
    foot = document.createElement("tfoot");
    foot.className = "closed-rows";
    state.section.querySelector("table").append(foot);
  }
  foot.prepend(closed);
  state.closed.set(number, closed);
  if (state.filter === "closed") state.picked.add(number);
  if (state.picked.has(number)) closed.dataset.changePicked = "";
  if (state.baseline.get(number) !== SEEN_CLOSED) observer.observe(closed);
  while (state.closed.size > MAX_CLOSED_ROWS) dismiss(state, state.closed.keys().next().value, { quietly: true });
}

function asClosed(row, number) {
  row.className = "closed-row";
  row.hidden = false;
  row.removeAttribute("data-number");
  row.removeAttribute("data-change-picked");
  row.dataset.closedNumber = String(number);
  if (!row.querySelector(".closed-dismiss")) {
    (row.querySelector(".title") || row.lastElementChild).append(" ", dismissButton(number));
  }
  return row;
}

function placeholder(section, number) {
  const row = document.createElement("tr");
  row.className = "closed-row";
  row.dataset.closedNumber = String(number);
  const cell = row.insertCell();
  cell.className = "number";
  const repository = section.dataset.repository || "";
  const link = document.createElement(/^[\w.-]+\/[\w.-]+$/.test(repository) ? "a" : "span");
  link.textContent = `#${number}`;
  if (link instanceof HTMLAnchorElement) {
    link.href = `https://github.com/${repository}/issues/${number}`; // GitHub redirects a pull request's
    link.target = "_blank";
    link.rel = "noopener noreferrer";
  }
  cell.append(link);
  const title = row.insertCell();
  title.className = "title";
  title.colSpan = Math.max(1, section.querySelectorAll("thead th").length - 1);
  const text = document.createElement("span");
  text.textContent = "No longer on this board (closed or removed)";
  title.append(text, " ", dismissButton(number));
  return row;
}

function dismissButton(number) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "closed-dismiss";
  button.textContent = "Dismiss";
  button.setAttribute("aria-label", `Dismiss closed #${number}`);
  button.addEventListener("click", () => {
    const state = boards.get(button.closest("section.entry")?.dataset.id);
    if (state) dismiss(state, number);
  });
  return button;
}

function removeClosed(state, number) {
  const row = state.closed.get(number);
  if (!row) return;
  unobserve(row);
  row.remove();
  state.closed.delete(number);
  state.picked.delete(number);
  const foot = state.section.querySelector("tfoot.closed-rows");
  if (foot && !foot.rows.length) foot.remove();
}

// A closed row goes for good: out of the table and out of the baseline.
function dismiss(state, number, { quietly = false } = {}) {
  const row = state.closed.get(number);
  const focused = row?.contains(document.activeElement);
  removeClosed(state, number);
  state.baseline.delete(number);
  scheduleSave(state);
  if (quietly) return;
  if (state.filter === "closed" && !state.closed.size) choose(state, "closed"); // nothing left to show
  render(state);
  if (focused) refocus(state);
}

// The control pressed went away with what it acted on: focus the next one left on the board
// rather than drop the focus to the page.
function refocus(state) {
  for (const selector of [".closed-dismiss", ".changes-strip button", ".filter-text"]) {
    const next = [...state.section.querySelectorAll(selector)].find((control) => control.checkVisibility());
    if (next) {
      next.focus();
      return;
    }
  }
}

function seen(row) {
  const state = boards.get(row.closest("section.entry")?.dataset.id);
  unobserve(row);
  if (!state) return;
  if (row.dataset.closedNumber !== undefined) {
    const number = Number(row.dataset.closedNumber);
    if (state.closed.get(number) !== row) return;
    state.baseline.set(number, SEEN_CLOSED); // stays struck through until dismissed
  } else {
    const number = Number(row.dataset.number);
    if (state.rows.get(number) !== row || !state.marks.has(number)) return;
    state.baseline.set(number, fingerprint(row));
    state.marks.delete(number);
    row.removeAttribute("data-change");
  }
  scheduleSave(state);
  render(state);
}

// A row that loses its mark may give back a line (on a phone its word can take one more beside a
// title and labels that fill theirs): marks are dropped through the page's scroll keeper, as
// live updates are, so that rows seen above the reader do not move what they are reading.
function markAllSeen(state) {
  keepingScroll(() => {
    for (const number of state.marks.keys()) {
      const row = state.rows.get(number);
      state.baseline.set(number, fingerprint(row));
      row.removeAttribute("data-change");
      unobserve(row);
    }
  });
  state.marks.clear();
  for (const [number, row] of state.closed) {
    state.baseline.set(number, SEEN_CLOSED);
    unobserve(row);
  }
  scheduleSave(state);
  render(state);
  refocus(state);
}

function dismissAll(state) {
  for (const number of [...state.closed.keys()]) dismiss(state, number, { quietly: true });
  if (state.filter === "closed") choose(state, "closed");
  render(state);
  refocus(state);
}

// What a reader sees of a row, but for relative times (they tick): the server's hash of it
// (`data-fingerprint`, web/templating.py), so that 5,000 rows are compared without reading
// their cells.
function fingerprint(row) {
  return row.dataset.fingerprint ?? "";
}

// ---- the strip: "3 new · 2 updated · 1 closed", each part a filter ---------------------------

function choose(state, kind) {
  state.filter = state.filter === kind ? "" : kind;
  state.picked = new Set();
  if (state.filter === "closed") state.picked = new Set(state.closed.keys());
  else if (state.filter) for (const [number, mark] of state.marks) if (mark === kind) state.picked.add(number);
  applyPicks(state);
  render(state);
}

// The rows the chosen part showed stay shown while it is chosen, even once seen (a row must not
// vanish from under the reader's eyes); CSS hides the others.
function applyPicks(state) {
  const { section } = state;
  if (state.filter) section.dataset.changesFilter = state.filter;
  else delete section.dataset.changesFilter;
  for (const row of section.querySelectorAll("[data-change-picked]")) row.removeAttribute("data-change-picked");
  const rows = state.filter === "closed" ? state.closed : state.rows;
  for (const number of state.picked) rows.get(number)?.setAttribute("data-change-picked", "");
}

// A strip's three part buttons, whether in it or not (a part that counts nothing is left out).
const stripParts = new WeakMap();

function strip(state) {
  const element = state.section.querySelector(".changes-strip");
  if (stripParts.has(element)) return element;
  element.setAttribute("role", "group");
  element.setAttribute("aria-label", "Changes since you last looked");
  const heading = document.createElement("span");
  heading.className = "changes-heading";
  heading.textContent = "Since you last looked:";
  const parts = document.createElement("span");
  parts.className = "changes-parts";
  const buttons = KINDS.map((kind) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "changes-part";
    button.dataset.kind = kind;
    button.title = KIND_HINTS[kind];
    button.addEventListener("click", () => choose(boards.get(state.id), kind));
    return button;
  });
  stripParts.set(element, buttons);
  const allSeen = document.createElement("button");
  allSeen.type = "button";
  allSeen.className = "changes-seen";
  allSeen.textContent = "Mark all seen";
  allSeen.addEventListener("click", () => markAllSeen(boards.get(state.id)));
  const dismissClosed = document.createElement("button");
  dismissClosed.type = "button";
  dismissClosed.className = "changes-dismiss";
  dismissClosed.textContent = "Dismiss closed";
  dismissClosed.addEventListener("click", () => dismissAll(boards.get(state.id)));
  element.append(heading, parts, allSeen, dismissClosed);
  return element;
}

function counts(state) {
  const counted = { new: 0, updated: 0, closed: state.closed.size };
  for (const kind of state.marks.values()) counted[kind] += 1;
  return counted;
}

function render(state) {
  const element = strip(state);
  const counted = counts(state);
  const parts = element.querySelector(".changes-parts");
  const buttons = stripParts.get(element);
  const shown = buttons.filter((button) => counted[button.dataset.kind] > 0 || state.filter === button.dataset.kind);
  for (const button of buttons) {
    const kind = button.dataset.kind;
    button.textContent = `${counted[kind]} ${kind}`;
    button.setAttribute("aria-pressed", String(state.filter === kind));
  }
  // Only the parts that count are in the strip (its text reads "2 new · 1 closed"); a part
  // kept in place keeps its focus.
  const current = [...parts.querySelectorAll(".changes-part")];
  if (current.length !== shown.length || current.some((button, i) => button !== shown[i])) {
    const focused = buttons.find((button) => button === document.activeElement);
    parts.replaceChildren(...shown.flatMap((button, i) => (i ? [" · ", button] : [button])));
    if (focused && shown.includes(focused)) focused.focus();
  }
  const unseenClosed = [...state.closed.keys()].some((number) => state.baseline.get(number) !== SEEN_CLOSED);
  element.querySelector(".changes-seen").hidden = !state.marks.size && !unseenClosed;
  element.querySelector(".changes-dismiss").hidden = !state.closed.size;
  element.hidden = shown.length === 0;
  updateTitle();
}

// ---- the tab's title and the live region ------------------------------------------------------

function unseenCount() {
  let unseen = 0;
  for (const state of boards.values()) {
    if (!state.section.isConnected) continue;
    unseen += state.marks.size;
    for (const number of state.closed.keys()) if (state.baseline.get(number) !== SEEN_CLOSED) unseen += 1;
  }
  return unseen;
}

function updateTitle() {
  const unseen = unseenCount();
  const title = unseen ? `(${unseen}) ${baseTitle}` : baseTitle;
  if (document.title !== title) document.title = title;
}

function foundMessage(section, found) {
  const parts = KINDS.filter((kind) => found[kind]).map((kind) => `${found[kind]} ${kind}`);
  if (!parts.length) return "";
  const name = section.querySelector(".board-header h2")?.textContent.replace(/\s+/g, " ").trim() || section.dataset.id;
  return `${name}: ${parts.join(", ")}`;
}

function say(text) {
  // The same words again would be no change to the region, and not be said.
  announcer.textContent = announcer.textContent === text ? `${text}\u00a0` : text;
}

// ---- seen: in view for SEEN_AFTER_MS while the page is visible -------------------------------

function noticeInView(entries) {
  const now = Date.now();
  for (const entry of entries) {
    if (entry.isIntersecting) inView.set(entry.target, now);
    else inView.delete(entry.target);
  }
  scheduleSeenCheck(SEEN_AFTER_MS);
}

function unobserve(row) {
  observer.unobserve(row);
  inView.delete(row);
}

function scheduleSeenCheck(delay) {
  if (seenTimer !== null || !inView.size || document.visibilityState !== "visible") return;
  seenTimer = setTimeout(checkSeen, delay);
}

function checkSeen() {
  seenTimer = null;
  if (document.visibilityState !== "visible") return;
  const now = Date.now();
  let next = Infinity;
  const due = [];
  for (const [row, since] of inView) {
    if (!row.isConnected) inView.delete(row);
    else if (now - since >= SEEN_AFTER_MS) due.push(row);
    else next = Math.min(next, since + SEEN_AFTER_MS - now);
  }
  if (due.length) keepingScroll(() => due.forEach(seen)); // as markAllSeen: the page is held
  if (next !== Infinity) scheduleSeenCheck(next);
}

// Back to a visible page: what is in view starts its time again (a hidden tab saw nothing).
function restartSeenClock() {
  const now = Date.now();
  for (const row of inView.keys()) inView.set(row, now);
  clearTimeout(seenTimer);
  seenTimer = null;
  scheduleSeenCheck(SEEN_AFTER_MS);
}

// ---- the baselines in localStorage, bounded ---------------------------------------------------

let dropped = false;

function storage() {
  let store;
  try {
    store = window.localStorage; // null, or a throw, where storage is off
  } catch {
    return null;
  }
  if (store && !dropped) {
    dropped = true;
    try {
      const old = JSON.parse(store.getItem(OLD_INDEX_KEY) || "[]");
      if (Array.isArray(old)) for (const entry of old) if (Array.isArray(entry)) store.removeItem(OLD_BOARD_KEY_PREFIX + entry[0]);
      store.removeItem(OLD_INDEX_KEY);
    } catch {
      // what another script left there is not ours to read
    }
  }
  return store;
}

// [[board id, saved at, characters], ...], least recently saved first.
function readIndex(store) {
  try {
    const index = JSON.parse(store.getItem(INDEX_KEY) || "[]");
    if (!Array.isArray(index)) return [];
    return index.filter(
      (entry) => Array.isArray(entry) && typeof entry[0] === "string" && Number.isFinite(entry[1]) && Number.isFinite(entry[2]),
    );
  } catch {
    return [];
  }
}

function loadBaseline(id) {
  const store = storage();
  const raw = store && readIndex(store).some(([known]) => known === id) ? store.getItem(BOARD_KEY_PREFIX + id) : null;
  return raw === null || raw === undefined ? null : parseBaseline(raw);
}

// "number:fingerprint number:fingerprint ...", read as far as it makes sense (another script of
// this origin could have written anything there).
function parseBaseline(raw) {
  const baseline = new Map();
  for (const pair of raw.split(" ")) {
    if (baseline.size >= MAX_STORED_ROWS) break;
    const colon = pair.indexOf(":");
    const number = Number(pair.slice(0, colon));
    const value = pair.slice(colon + 1);
    const valid = value === SEEN_CLOSED || FINGERPRINT.test(value);
    if (colon > 0 && Number.isSafeInteger(number) && number > 0 && valid) baseline.set(number, value);
  }
  return baseline;
}

function save(state) {
  const store = storage();
  if (!store) return;
  const pairs = [];
  for (const [number, value] of state.baseline) {
    if (pairs.length >= MAX_STORED_ROWS) break;
    pairs.push(`${number}:${value}`);
  }
  const value = pairs.join(" ");
  const index = readIndex(store).filter(([id]) => id !== state.id);
  index.push([state.id, Date.now(), value.length]);
  const total = () => index.reduce((sum, entry) => sum + entry[2], 0);
  while (index.length > 1 && (index.length > MAX_STORED_BOARDS || total() > MAX_STORED_CHARS)) {
    store.removeItem(BOARD_KEY_PREFIX + index.shift()[0]);
  }
  for (;;) {
    try {
      store.setItem(BOARD_KEY_PREFIX + state.id, value);
      store.setItem(INDEX_KEY, JSON.stringify(index));
      return;
    } catch {
      // Over the browser's quota (other keys of this origin): drop the oldest board, or give up.
      if (index.length <= 1) return;
      store.removeItem(BOARD_KEY_PREFIX + index.shift()[0]);
    }
  }
}

// Another tab of this browser saved what it saw of a board: what it saw is seen here too (and
// what it dismissed, gone), rather than this tab writing its older baseline over it later.
function adoptOtherTab(event) {
  if (!event.key?.startsWith(BOARD_KEY_PREFIX) || event.newValue === null) return;
  const state = boards.get(event.key.slice(BOARD_KEY_PREFIX.length));
  if (!state || !state.section.isConnected) return;
  state.baseline = parseBaseline(event.newValue);
  unsaved.delete(state);
  trackSection(state.section);
}

function scheduleSave(state) {
  unsaved.add(state);
  if (saveTimer === null) saveTimer = setTimeout(flushSaves, SAVE_AFTER_MS);
}

function flushSaves() {
  clearTimeout(saveTimer);
  saveTimer = null;
  for (const state of unsaved) save(state);
  unsaved.clear();
}

// Board keys the index does not list (an index lost or cut short) would never be bounded: drop them.
function forgetStrayKeys() {
  const store = storage();
  if (!store) return;
  const listed = new Set(readIndex(store).map(([id]) => BOARD_KEY_PREFIX + id));
  const stray = [];
  for (let i = 0; i < store.length; i += 1) {
    const key = store.key(i);
    if (key.startsWith(BOARD_KEY_PREFIX) && !listed.has(key)) stray.push(key);
  }
  for (const key of stray) store.removeItem(key);
}
