// Attention cards. A pull-request board's cards (drafts, waiting for review, oldest open) each
// filter the table to the pull requests they count (`data-numbers`, rendered by the server), as
// a board's trend does to what its last sync opened or closed (`_parts.html` trend_line);
// pressing the same card again, or another, changes the filter. The choice survives re-renders
// of the board.
import { stateOf } from "./state.js";

function attentionCards(section) {
  return [...section.querySelectorAll("[data-attention]")]; // cards, and the trend's parts
}

/** Wires a board's cards; `onChange` re-filters the board. */
export function setUpAttention(section, onChange) {
  const state = stateOf(section);
  for (const card of attentionCards(section)) {
    const button = card.querySelector(".attention-filter");
    if (!button) continue; // an empty card filters nothing
    button.hidden = false;
    button.addEventListener("click", () => {
      state.attention = state.attention === card.dataset.attention ? "" : card.dataset.attention;
      showAttention(section);
      onChange(section);
    });
  }
  if (state.attention && !attentionNumbers(section)) state.attention = ""; // that card is empty now
  showAttention(section);
}

function showAttention(section) {
  const { attention } = stateOf(section);
  for (const card of attentionCards(section)) {
    const pressed = Boolean(attention) && card.dataset.attention === attention;
    card.classList.toggle("selected", pressed);
    card.querySelector(".attention-filter")?.setAttribute("aria-pressed", String(pressed));
  }
}

/** The items the chosen card counts (numbers, or owner/repo#N on a view), or null when no card filters the table. */
export function attentionNumbers(section) {
  const { attention } = stateOf(section);
  if (!attention) return null;
  const card = attentionCards(section).find((el) => el.dataset.attention === attention);
  if (!card || !card.querySelector(".attention-filter")) return null;
  return new Set(card.dataset.numbers.split(" ").filter(Boolean));
}
