// Chart bars that filter. An issues board's "By label" bars pick that label alone (or "No
// label") in the label picker; its "By age" bars put their `created:` bounds into the filter
// box (`data-query`, written by the server from the same buckets it counts), replacing another
// bar's. Pressing a pressed bar again undoes it. The server marks the bars (`g.chart-filter`);
// the script makes them buttons (focusable, Enter or Space) and shows which is pressed.
import { pickOnly } from "./label_picker.js";
import { stateOf } from "./state.js";

function bars(section) {
  return [...section.querySelectorAll(".board-summary g.chart-filter")];
}

function queryBars(section) {
  return bars(section).filter((bar) => bar.dataset.query);
}

// Filter-box text without any age bar's bounds (tidied of the spaces they leave).
function withoutBarQueries(section, text) {
  let rest = ` ${text} `;
  for (const bar of queryBars(section)) rest = rest.split(` ${bar.dataset.query} `).join(" ");
  return rest.trim().replace(/\s+/g, " ");
}

function hasQuery(text, query) {
  return ` ${text.trim().replace(/\s+/g, " ")} `.includes(` ${query} `);
}

function isPressed(section, bar) {
  const { text, labels, noLabel } = stateOf(section);
  if (bar.dataset.query) return hasQuery(text, bar.dataset.query);
  if ("noLabel" in bar.dataset) return noLabel && labels.size === 0;
  return !noLabel && labels.size === 1 && labels.has(bar.dataset.label);
}

function press(section, bar) {
  const state = stateOf(section);
  if (bar.dataset.query) {
    const pressed = hasQuery(state.text, bar.dataset.query);
    const rest = withoutBarQueries(section, state.text);
    state.text = pressed ? rest : `${rest} ${bar.dataset.query}`.trim();
    section.querySelector(".filter-text").value = state.text;
  } else {
    pickOnly(section, "noLabel" in bar.dataset ? null : bar.dataset.label);
  }
}

/** Wires a board's chart bars (once: they are found on each press, so redrawn charts work too). */
export function setUpChartFilters(section, onChange) {
  const activate = (event) => {
    const bar = event.target.closest?.("g.chart-filter");
    if (!bar || !section.contains(bar)) return;
    event.preventDefault();
    press(section, bar);
    onChange(section);
  };
  section.addEventListener("click", activate);
  section.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") activate(event);
  });
}

/** Makes the current bars buttons and marks the pressed ones; after every filter change. */
export function showChartFilters(section) {
  for (const bar of bars(section)) {
    const svg = bar.ownerSVGElement;
    if (svg.getAttribute("role") === "img") svg.setAttribute("role", "group"); // its bars are buttons now
    bar.setAttribute("role", "button");
    bar.setAttribute("tabindex", "0");
    bar.setAttribute("aria-label", `${bar.dataset.name}: ${bar.dataset.count}`); // the chart's label says of what
    const pressed = isPressed(section, bar);
    bar.setAttribute("aria-pressed", String(pressed));
    bar.classList.toggle("pressed", pressed);
  }
}
