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

// Boards, headers and filter rows arrive and are replaced with every update: watch the new
// ones (the observer lets go of removed ones as they are collected). Only the page's groups,
// each group and each board are observed, each for its own children: a sort moves thousands of
// rows, and a subtree observer would be handed a record for every one of them.
const HOLDERS = ".group, section.entry";

const added = new MutationObserver((mutations) => {
  for (const mutation of mutations) for (const node of mutation.addedNodes) adopt(node);
});

function adopt(node) {
  if (!(node instanceof Element)) return;
  if (node.matches(PARTS)) {
    resized.observe(node);
  } else if (node.matches(HOLDERS)) {
    added.observe(node, { childList: true });
    for (const child of node.children) adopt(child);
  }
}

export function setUpSticky() {
  added.observe(groupsEl, { childList: true });
  for (const child of groupsEl.children) adopt(child);
}
