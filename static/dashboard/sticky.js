// Sticky board headers: a board's header, filter row and column headers stay stacked at the top
// of the window while the board scrolls past (static/dashboard.css makes them sticky). Their
// heights vary with their text (a header's line wraps on a phone, a filter row on a narrow
// board), so each board's are measured here and the filter row and column headers placed right
// under the parts above them. `top` is set on those two elements only: a custom property on the
// board would be inherited by, and restyle, every one of its rows.
import { groupsEl } from "./dom.js";

const PARTS = ".board-header, .board-controls";

const resized = new ResizeObserver((entries) => {
  const sections = new Set(entries.map((entry) => entry.target.closest("section.entry")));
  for (const section of sections) if (section) place(section);
});

function place(section) {
  const header = section.querySelector(":scope > .board-header");
  const controls = section.querySelector(":scope > .board-controls");
  const head = section.querySelector("table.issues > thead");
  const height = (element) => (element && !element.hidden ? element.getBoundingClientRect().height : 0);
  const under = height(header);
  setTop(controls, under);
  setTop(head, under + height(controls));
}

function setTop(element, px) {
  const top = `${px}px`;
  if (element && element.style.top !== top) element.style.top = top;
}

function watch(root) {
  for (const part of root.querySelectorAll(PARTS)) resized.observe(part);
}

// Boards, headers and filter rows arrive and are replaced with every update: watch the new
// ones (the observer lets go of removed ones as they are collected). Rows moved by a sort are
// added nodes too, thousands at once: only groups, boards and their parts are looked into.
const HOLDERS = ".group, section.entry";

export function setUpSticky() {
  watch(groupsEl);
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      for (const node of mutation.addedNodes) {
        if (!(node instanceof Element)) continue;
        if (node.matches(PARTS)) resized.observe(node);
        else if (node.matches(HOLDERS)) watch(node);
      }
    }
  }).observe(groupsEl, { childList: true, subtree: true });
}
