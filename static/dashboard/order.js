// Where entries go on the page. By default, in the order they first appeared, as the server
// renders them (each section's `data-appeared`, then its id: `grouped` in web/templating.py), so
// a re-sync never moves a board and a new entry joins the end of its group, a new group the end
// of the page. A reader may set an order of their own ("Move up", "Move down", "Pin to top", or
// dragging a board by its handle), kept in this browser's localStorage: the listed entries in
// that order, any other after them in order of appearance. Entries about one repository stay
// together: moving the first of a group past the group before it moves the whole group.
import { groupsEl } from "./dom.js";

const STORAGE_KEY = "issuebridge.order";
const MAX_REMEMBERED = 500; // ids kept; more than any dashboard shows
const MAX_ID_LENGTH = 300;

/** The reader's order (entry ids), or [] if they never set one or the browser keeps none. */
function userOrder() {
  try {
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) || "[]");
    if (!Array.isArray(stored)) return [];
    return stored.filter((id) => typeof id === "string" && id.length <= MAX_ID_LENGTH).slice(0, MAX_REMEMBERED);
  } catch {
    return []; // storage refused (private mode, a policy) or not ours: the default order
  }
}

function saveUserOrder(ids) {
  try {
    if (ids.length) localStorage.setItem(STORAGE_KEY, JSON.stringify(ids.slice(0, MAX_REMEMBERED)));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // not kept: the order holds for this page only
  }
}

function comparator() {
  const rank = new Map(userOrder().map((id, index) => [id, index]));
  const key = (section) => [rank.has(section.dataset.id) ? rank.get(section.dataset.id) : Infinity, section.dataset.appeared || "", section.dataset.id];
  return (a, b) => {
    const [ra, ta, ia] = key(a);
    const [rb, tb, ib] = key(b);
    if (ra !== rb) return ra < rb ? -1 : 1;
    if (ta !== tb) return ta < tb ? -1 : 1;
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  };
}

function groupOf(key) {
  let group = [...groupsEl.children].find((el) => el.dataset.group === key);
  if (!group) {
    group = document.createElement("div");
    group.className = "group";
    group.dataset.group = key;
    groupsEl.append(group);
  }
  return group;
}

/** Puts `section` (a new entry, not yet on the page) into its group, and both in their places. */
export function placeEntry(section, groupKey) {
  groupOf(groupKey).append(section);
  arrange();
}

// Moves only what is out of place (moving a node costs layout, and blurs what is focused in it).
function reorder(parent, wanted) {
  wanted.forEach((child, index) => {
    if (parent.children[index] !== child) parent.insertBefore(child, parent.children[index] || null);
  });
}

/** Every group and entry in its place: the reader's order, else the order of appearance. */
export function arrange() {
  const focused = document.activeElement;
  const selection = focused && "selectionStart" in focused ? [focused.selectionStart, focused.selectionEnd] : null;
  const compare = comparator();
  const groups = [...groupsEl.querySelectorAll(":scope > .group")].filter((group) => group.firstElementChild);
  for (const group of groups) reorder(group, [...group.children].sort(compare));
  reorder(groupsEl, groups.sort((a, b) => compare(a.firstElementChild, b.firstElementChild)));
  for (const empty of groupsEl.querySelectorAll(":scope > .group:empty")) empty.remove();
  if (focused && focused !== document.activeElement && focused.isConnected) {
    focused.focus({ preventScroll: true });
    if (selection) focused.setSelectionRange(...selection);
  }
}

// The page's order as nested lists: [[id, ...] per group].
function currentOrder() {
  return [...groupsEl.querySelectorAll(":scope > .group")].map((group) =>
    [...group.querySelectorAll(":scope > section.entry")].map((section) => section.dataset.id),
  );
}

function store(groups) {
  saveUserOrder(groups.flat());
}

function where(groups, id) {
  const g = groups.findIndex((ids) => ids.includes(id));
  return [g, g < 0 ? -1 : groups[g].indexOf(id)];
}

/** Moves entry `id` one place up (`step` -1) or down (+1); past its group's edge, the group moves. */
export function move(id, step) {
  const groups = currentOrder();
  const [g, i] = where(groups, id);
  if (g < 0) return;
  const ids = groups[g];
  const j = i + step;
  if (j >= 0 && j < ids.length) [ids[i], ids[j]] = [ids[j], ids[i]];
  else if (g + step >= 0 && g + step < groups.length) [groups[g], groups[g + step]] = [groups[g + step], groups[g]];
  else return;
  store(groups);
}

/** Entry `id` first in its group, and its group first on the page. */
export function pinToTop(id) {
  const groups = currentOrder();
  const [g, i] = where(groups, id);
  if (g < 0) return;
  const [ids] = groups.splice(g, 1);
  ids.unshift(...ids.splice(i, 1));
  store([ids, ...groups]);
}

/** Entry `id` dropped on entry `target`, before it or after it. */
export function dropOn(id, target, after) {
  const groups = currentOrder();
  const [g, i] = where(groups, id);
  const [tg] = where(groups, target);
  if (g < 0 || tg < 0 || id === target) return;
  if (g === tg) {
    const ids = groups[g];
    ids.splice(i, 1);
    ids.splice(ids.indexOf(target) + (after ? 1 : 0), 0, id);
  } else {
    const [moved] = groups.splice(g, 1);
    groups.splice(groups.indexOf(groups.find((ids) => ids.includes(target))) + (after ? 1 : 0), 0, moved);
  }
  store(groups);
}

/** Back to the order of appearance. */
export function resetOrder() {
  saveUserOrder([]);
}

export function hasUserOrder() {
  return userOrder().length > 0;
}
