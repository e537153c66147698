// The preview drawer: an issue's or pull request's description, asked of the server when a row
// is clicked or Enter is pressed on it (`GET /api/dashboard/item`). The page never carries
// bodies; the server renders the one asked for (sanitised) and this only places its fragment.
// The drawer is a <dialog> opened non-modally: focus moves into it, Esc (keyboard.js) or Close
// closes it and focus goes back to the row it was opened from; a click on another row previews
// that one, a click elsewhere closes it. Not modal because a modal dialog makes the rest of the
// page inert, and restyling 5,000 rows for that took Chromium 0.5 s to open and 0.9 s to close.
// While it is open, a live update of the item it shows asks the server again (`previewUpdated`),
// so that the drawer never shows an older description than the row beside it.
import { fragment, groupsEl } from "./dom.js";
import { currentRow, focusRow, rowOf } from "./row_focus.js";

const dialog = document.getElementById("preview");
const content = document.getElementById("preview-content");
// What a click on a row's own controls does is theirs: links, buttons, boxes.
const CONTROLS = "a, button, input, select, textarea, label, summary, [contenteditable]";
const COPIED_MS = 2000;

let asked = 0; // the latest request: an older answer arriving late is dropped
let shown = null; // { repository, number } of the item in the open drawer
let refocus = true; // whether closing gives focus back to the row

export function setUpPreview() {
  groupsEl.dataset.previews = ""; // rows look clickable only once they are (dashboard.css)
  document.addEventListener("click", (event) => {
    const row = rowOf(event.target);
    if (row) {
      if (event.target.closest(CONTROLS)) return;
      if (String(window.getSelection()).length > 0) return; // selecting text is not asking for a preview
      openPreview(row);
    } else if (dialog.open && !dialog.contains(event.target)) {
      closePreview(false); // focus stays where the click put it
    }
  });
  dialog.querySelector(".preview-close").addEventListener("click", () => closePreview());
  dialog.addEventListener("close", () => {
    asked += 1;
    shown = null;
    const row = refocus ? currentRow() : null;
    if (row) focusRow(row);
  });
}

export function closePreview(focusTheRow = true) {
  if (!dialog.open) return;
  refocus = focusTheRow;
  dialog.close();
}

export function previewHas(element) {
  return dialog.contains(element);
}

export function previewOpen() {
  return dialog.open;
}

export async function openPreview(row) {
  const repository = rowRepository(row);
  if (!repository) return;
  focusRow(row); // where focus goes back to
  shown = { repository, number: row.dataset.number };
  showText("Loading…", "");
  if (!dialog.open) dialog.show();
  await load(shown);
  content.querySelector("#preview-title")?.focus();
}

// `rows` of `section` were just replaced by a live update: the open drawer reloads if it shows
// one of them, leaving focus inside it (on its title) if it was there.
export async function previewUpdated(section, rows) {
  if (!dialog.open || !shown) return;
  const item = shown;
  const mine = (row) => row.dataset.number === item.number && rowRepository(row, section) === item.repository;
  if (!rows.some(mine)) return;
  const focused = content.contains(document.activeElement);
  if (!(await load(item))) return;
  if (focused) content.querySelector("#preview-title")?.focus();
}

function rowRepository(row, section = row.closest("section.entry")) {
  return (row.dataset.repository || section?.dataset.repository || "").toLowerCase();
}

// Asks for `item` and places the answer, unless a newer request or closing overtook it; true if placed.
async function load(item) {
  const ticket = ++asked;
  const query = new URLSearchParams({ repository: item.repository, number: item.number });
  let answer;
  try {
    const response = await fetch(`/api/dashboard/item?${query}`, { headers: { Accept: "application/json" } });
    answer = await response.json();
    if (!response.ok) throw new Error(answer.error || `the server answered ${response.status}`);
  } catch (error) {
    if (ticket === asked) showText("No preview", error.message);
    return false;
  }
  if (ticket !== asked) return false;
  content.replaceChildren(fragment(answer.html)); // rendered and sanitised by the server
  setUpCopy();
  return true;
}

// Our own chrome: text only.
function showText(title, message) {
  const heading = document.createElement("h2");
  heading.id = "preview-title";
  heading.tabIndex = -1;
  heading.textContent = title;
  const paragraph = document.createElement("p");
  paragraph.className = "preview-none";
  paragraph.textContent = message;
  content.replaceChildren(heading, paragraph);
}

function setUpCopy() {
  const button = content.querySelector(".preview-copy");
  if (!button || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    await navigator.clipboard.writeText(button.dataset.reference);
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy reference"), COPIED_MS);
  });
}
