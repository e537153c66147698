// Keeps the keyboard focus where it was when a live update replaces the node that had it: the
// filter box or label menu (with its caret), a column's sort button, an attention card's button,
// a board's heading (after a jump from the board index), an order button. The node is noted by
// what it is within its entry (the entry's id and a selector), so its replacement is found.
import { findEntry } from "./dom.js";

function selectorFor(element) {
  const card = element.closest("[data-attention]");
  if (card && element.matches(".attention-filter")) {
    return `[data-attention="${CSS.escape(card.dataset.attention)}"] .attention-filter`;
  }
  if (element.matches(".filter-text, .filter-label")) return `.${element.classList[0]}`;
  if (element.matches("h2")) return "h2";
  const sort = element.closest("th[data-sort]");
  if (sort) return `th[data-sort="${CSS.escape(sort.dataset.sort)}"] button`;
  const label = element.getAttribute("aria-label");
  return label ? `${element.tagName.toLowerCase()}[aria-label="${CSS.escape(label)}"]` : null;
}

function note() {
  const element = document.activeElement;
  const section = element?.closest?.("section.entry[data-id]");
  const selector = section && selectorFor(element);
  if (!selector) return null;
  const selection = "selectionStart" in element && element.selectionStart !== null ? [element.selectionStart, element.selectionEnd] : null;
  return { element, id: section.dataset.id, selector, selection };
}

/** Runs `change`, then gives the focus back to the noted element's replacement if it was replaced. */
export function keepingFocus(change) {
  const noted = note();
  try {
    change();
  } finally {
    if (noted && !noted.element.isConnected) {
      const replacement = findEntry(noted.id)?.querySelector(noted.selector);
      if (replacement) {
        if (replacement.matches("h2")) replacement.tabIndex = -1;
        replacement.focus({ preventScroll: true }); // the scroll position is scroll_anchor.js's
        if (noted.selection && "setSelectionRange" in replacement) replacement.setSelectionRange(...noted.selection);
      }
    }
  }
}
