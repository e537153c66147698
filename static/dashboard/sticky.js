// Sticky board headers: a board's header, filter and column headers stay stacked at the top of
// the window while the board scrolls past (static/dashboard.css). Their heights vary with their
// text (a header's line wraps on a phone, a filter row on a narrow board), so each board's are
// measured here into --sticky-header and --sticky-controls, which place the next one down.
import { groupsEl } from "./dom.js";

const PARTS = ".board-header, .board-controls";

const resized = new ResizeObserver((entries) => {
  const sections = new Set(entries.map((entry) => entry.target.closest("section.entry")));
  for (const section of sections) if (section) measure(section);
});

function measure(section) {
  const header = section.querySelector(":scope > .board-header");
  const controls = section.querySelector(":scope > .board-controls");
  const height = (element) => (element && !element.hidden ? element.getBoundingClientRect().height : 0);
  section.style.setProperty("--sticky-header", `${height(header)}px`);
  section.style.setProperty("--sticky-controls", `${height(controls)}px`);
}

function watch(root) {
  for (const part of root.querySelectorAll(PARTS)) resized.observe(part);
}

// Boards, headers and filter rows arrive and are replaced with every update: watch the new
// ones (the observer lets go of removed ones as they are collected).
export function setUpSticky() {
  watch(groupsEl);
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      for (const node of mutation.addedNodes) {
        if (!(node instanceof Element)) continue;
        if (node.matches(PARTS)) resized.observe(node);
        else watch(node);
      }
    }
  }).observe(groupsEl, { childList: true, subtree: true });
}
