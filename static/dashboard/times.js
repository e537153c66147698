// Relative times ("3 hours ago"), from each <time datetime>, kept current where they can be
// seen: outside the rows, and in the chunks of rows on or near the screen.
//
// A board's rows are in <tbody class="rows"> chunks that the browser draws only near the
// screen (`content-visibility: auto`, rows_index.js). An IntersectionObserver follows which
// chunks are within a screen's height of the viewport: the 30-second tick updates only their
// times (a hundred or two rather than 5,000), and a chunk coming near has its times brought up
// to date before it is on screen. Nothing here reads the layout. Interface:
//   relativeTime(iso) -> "3 hours ago" as of now.
//   tickTimes(): every time that can be seen (the page's timer).
//   refreshTimes(section): the times that can be seen on one board (after its rows moved).
//   watchChunk(chunk): follows a chunk (rows_index.js calls it for every chunk of a board).
//   isOnScreen(chunk): whether it is in the viewport (rows_index.js places those rows first).

const UNITS = [
  ["year", 31536000],
  ["month", 2592000],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
];
const OUTSIDE_ROWS = "time[datetime]:not(tbody.rows time)";
const IN_SHOWN_ROWS = ":scope > tr:not([hidden]) time[datetime]";

const near = new Set(); // the chunks within a screen's height of the viewport
const onScreen = new Set(); // the chunks in the viewport
let observer = null;
let screenObserver = null;

export function relativeTime(iso) {
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  for (const [unit, size] of UNITS) {
    if (seconds >= size) {
      const n = Math.round(seconds / size);
      return `${n} ${unit}${n === 1 ? "" : "s"} ago`;
    }
  }
  return "just now";
}

function update(times) {
  for (const time of times) {
    const iso = time.getAttribute("datetime");
    if (!iso) continue;
    const text = relativeTime(iso);
    if (time.textContent !== text) time.textContent = text;
    if (!time.title) time.title = new Date(iso).toLocaleString();
  }
}

function updateChunk(chunk) {
  update(chunk.querySelectorAll(IN_SHOWN_ROWS));
}

export function tickTimes() {
  update(document.querySelectorAll(OUTSIDE_ROWS));
  for (const chunk of near) {
    if (chunk.isConnected) updateChunk(chunk);
    else near.delete(chunk);
  }
}

export function refreshTimes(section) {
  for (const chunk of near) if (section.contains(chunk)) updateChunk(chunk);
}

/** Whether `chunk` is on the screen, as last observed. */
export function isOnScreen(chunk) {
  return onScreen.has(chunk);
}

export function watchChunk(chunk) {
  observer ??= new IntersectionObserver(
    (entries) => {
      for (const { target, isIntersecting } of entries) {
        if (!isIntersecting) {
          near.delete(target);
        } else if (!near.has(target)) {
          near.add(target);
          updateChunk(target);
        }
      }
    },
    { rootMargin: "100% 0px" },
  );
  observer.observe(chunk);
  screenObserver ??= new IntersectionObserver((entries) => {
    for (const { target, isIntersecting } of entries) {
      if (isIntersecting) onScreen.add(target);
      else onScreen.delete(target);
    }
  });
  screenObserver.observe(chunk);
}
