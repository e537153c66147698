// Relative times ("3 hours ago"), from each <time datetime>.

const UNITS = [
  ["year", 31536000],
  ["month", 2592000],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
];

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

export function tickTimes(root = document) {
  for (const time of root.querySelectorAll("time[datetime]")) {
    const iso = time.getAttribute("datetime");
    if (!iso) continue;
    time.textContent = relativeTime(iso);
    time.title = new Date(iso).toLocaleString();
  }
}
