// Each entry's "Move up", "Move down" and "Pin to top" buttons and its drag handle: our own
// chrome, built here (the entry's name only ever as text). They sit before the entry's header, so
// a re-sync that replaces the header keeps them, and the focus on them.
import { arrange, dropOn, move, pinToTop } from "./order.js";

const DRAGGED = "application/x-issuebridge-entry";

function entryName(section) {
  return section.querySelector("h2")?.textContent.trim() || section.dataset.id;
}

// Each button's name starts with what it shows, then says which entry (WCAG's "label in name").
function button(text, label, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  element.setAttribute("aria-label", label);
  element.title = label;
  element.addEventListener("click", onClick);
  return element;
}

// After a move, the entry stays where the reader's eyes (and focus) are: the page scrolls with it.
function moving(section, change) {
  const before = section.getBoundingClientRect().top;
  change();
  arrange();
  document.dispatchEvent(new CustomEvent("issuebridge:arranged")); // the board index, in the new order
  window.scrollBy(0, section.getBoundingClientRect().top - before);
}

/** Adds the controls to `section` (once). */
export function setUpOrderControls(section) {
  if (section.querySelector(":scope > .entry-order")) return;
  const id = section.dataset.id;
  const name = entryName(section);
  const bar = document.createElement("div");
  bar.className = "entry-order";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", `Place of ${name}`);
  const handle = document.createElement("span");
  handle.className = "drag-handle";
  handle.textContent = "⠿";
  handle.title = "Drag to move";
  handle.draggable = true;
  handle.setAttribute("aria-hidden", "true"); // the buttons do the same from the keyboard
  handle.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData(DRAGGED, id);
    event.dataTransfer.effectAllowed = "move";
    section.classList.add("dragging");
  });
  handle.addEventListener("dragend", () => section.classList.remove("dragging"));
  bar.append(
    handle,
    button("↑", `Move up: ${name}`, () => moving(section, () => move(id, -1))),
    button("↓", `Move down: ${name}`, () => moving(section, () => move(id, +1))),
    button("Pin to top", `Pin to top: ${name}`, () => moving(section, () => pinToTop(id))),
  );
  section.prepend(bar);
  section.addEventListener("dragover", (event) => {
    if (event.dataTransfer.types.includes(DRAGGED)) event.preventDefault();
  });
  section.addEventListener("drop", (event) => {
    const dragged = event.dataTransfer.getData(DRAGGED);
    if (!dragged) return;
    event.preventDefault();
    const box = section.getBoundingClientRect();
    dropOn(dragged, id, event.clientY > box.top + box.height / 2);
    arrange();
    document.dispatchEvent(new CustomEvent("issuebridge:arranged"));
  });
}
