// The board index: every entry on the page, in its order, with its count, as links that jump to
// it. Built from the sections themselves (their heading and count, as text) after every change,
// so it always says what the page shows. Jumping does not touch the URL's fragment, which holds
// the boards' filters (url_state.js).
import { entrySections } from "./dom.js";

const index = document.getElementById("board-index");

function jump(section) {
  const heading = section.querySelector("h2");
  section.scrollIntoView({ block: "start" });
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

function item(section) {
  const link = document.createElement("a");
  link.href = `#${section.getAttribute("aria-labelledby") || ""}`;
  link.dataset.id = section.dataset.id;
  link.textContent = section.querySelector("h2")?.textContent.trim() || section.dataset.id;
  const count = section.querySelector(".board-header .count");
  if (count) {
    const badge = document.createElement("span");
    badge.className = "index-count";
    badge.textContent = count.textContent;
    link.append(" ", badge);
  }
  link.addEventListener("click", (event) => {
    event.preventDefault();
    jump(section);
  });
  const entry = document.createElement("li");
  entry.append(link);
  return entry;
}

/** Rebuilds the index from the page's entries. */
export function updateBoardIndex() {
  if (!index) return;
  const sections = entrySections();
  index.querySelector("ol").replaceChildren(...sections.map(item));
  index.hidden = sections.length === 0;
}
