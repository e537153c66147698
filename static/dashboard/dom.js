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

// The page is #groups > .group > section.entry: walked by children, not searched, since a
// search would go through every row of every board (5,000 rows are 90,000 nodes).
export function entrySections() {
  const sections = [];
  for (const group of groupsEl.children) {
    for (const child of group.children) if (child.matches("section.entry")) sections.push(child);
  }
  return sections;
}

/** The child of `section` with the class `name` (its header, controls, notes), or null: found
 * among its children rather than searched for through its rows. */
export function partOf(section, name) {
  for (const child of section.children) if (child.classList.contains(name)) return child;
  return null;
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
