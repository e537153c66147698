// Finding and placing the page's parts. Fragments come from the server, rendered and escaped
// by its templates: this script only places them, and never builds markup from data.

export const main = document.getElementById("boards");
export const groupsEl = document.getElementById("groups");
export const pendingEl = document.getElementById("pending");
export const emptyState = document.getElementById("empty");

const FLASH_MS = 2500;

export function fragment(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim(); // server-rendered and escaped by the server's templates
  return template.content.firstElementChild;
}

export function entrySections() {
  return [...groupsEl.querySelectorAll("section.entry")];
}

export function findEntry(id) {
  return entrySections().find((section) => section.dataset.id === id);
}

/** The row numbered `number` under `root` (a board, in whichever of its chunks), or null. */
export function rowByNumber(root, number) {
  return root.querySelector(`tr[data-number="${Number(number)}"]`);
}

export function flash(element) {
  element.classList.add("flash");
  setTimeout(() => element.classList.remove("flash"), FLASH_MS);
}

export function updateEmptyState() {
  emptyState.hidden = entrySections().length > 0 || pendingEl.children.length > 0;
}
