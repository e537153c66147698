// The filter box's language, and the row data it is matched against. Pure: no DOM writes, no
// globals; `readRow` only reads a row's attributes, once, so that an index of rows can keep
// the result and match every keystroke against plain data.
//
// A row (what `readRow(tr)` returns from a server-rendered `<tr data-*>`):
//   number     12
//   title      "Crash on start" (as shown)
//   text       every word the row shows, lower-cased (title, number, labels, author, ...)
//   labels     ["bug", "good first issue"]  lower-cased label names
//   author     "octocat"                    lower-cased, "" when unknown
//   assignees  ["ana"]                      lower-cased logins
//   state      "open" | "closed" | "merged" (a draft's state is "open")
//   draft      true for a draft pull request
//   comments   number, NaN where the board has no such column
//   created    ms since the epoch, NaN when unknown
//   updated    ms since the epoch, NaN when unknown
//
// The language (terms combined with AND; case-insensitive; a value in double quotes may hold
// spaces; `-` before a qualifier negates it):
//   label:bug  label:"good first issue"  label:bug,docs (either)  no:label
//   author:octocat  assignee:ana  assignee:none  no:assignee
//   is:open  is:closed  is:merged  is:draft  (state: is the same as is:)
//   updated:<7d  created:>=1y  (age: h, d, w or y)  updated:<2026-01-31  created:>=2026-01-01
//   updated:2026-01-05 (that UTC day)  comments:>5  comments:0
//   anything else is free text: each word (or "quoted phrase") must appear in the row's text.
// A qualifier whose value means nothing (`is:nonsense`, `updated:soon`) is free text too.
//
// `parseFilter(text, {labels, noLabel, now})` also takes the label picker's choice: a row with
// any of `labels` (names), or without labels when `noLabel`, passes it.

export const MAX_QUERY = 500; // as the filter box's maxlength
const MAX_TERMS = 64;
const MAX_PICKED = 100;

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const UNITS = { h: HOUR, d: DAY, w: 7 * DAY, y: 365 * DAY };
const STATES = new Set(["open", "closed", "merged", "draft"]);

function listOf(value) {
  return value ? value.split("\n").filter(Boolean) : [];
}

function time(value) {
  return value ? Date.parse(value) : NaN;
}

// The text a row shows, lower-cased, its pieces (title, each label, state, author, ...) on lines
// of their own: as one `textContent` the cells run together, and "fo" found "golf" + "open".
function wordsOf(tr) {
  const pieces = [];
  const walker = document.createTreeWalker(tr, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) pieces.push(walker.currentNode.data);
  return pieces.join("\n").toLowerCase();
}

/** The plain data of one server-rendered row (`tr[data-number]`), read once. */
export function readRow(tr) {
  const data = tr.dataset;
  const shownState = data.state || "";
  const titleCell = tr.querySelector(".title");
  return {
    number: Number(data.number),
    title: titleCell?.firstElementChild?.textContent ?? "",
    text: wordsOf(tr),
    labels: listOf(data.labels).map((name) => name.toLowerCase()),
    author: (data.author || "").toLowerCase(),
    assignees: listOf(data.assignees).map((login) => login.toLowerCase()),
    state: shownState === "draft" ? "open" : shownState,
    draft: shownState === "draft",
    comments: data.comments === undefined ? NaN : Number(data.comments),
    created: time(data.created),
    updated: time(data.updated),
  };
}

// Splits on white space outside double quotes; a quote left open runs to the end.
function tokenize(text) {
  const tokens = [];
  let current = "";
  let quoted = false;
  let inQuotes = false;
  for (const char of text) {
    if (char === '"') {
      inQuotes = !inQuotes;
      quoted = true;
    } else if (!inQuotes && /\s/.test(char)) {
      if (current || quoted) tokens.push({ raw: current, quoted });
      current = "";
      quoted = false;
    } else {
      current += char;
    }
  }
  if (current || quoted) tokens.push({ raw: current, quoted });
  return tokens;
}

// `raw` has its quotes taken out already; `quoted` says whether the value part had any.
function qualifier(raw, quoted) {
  const negated = raw.startsWith("-");
  const body = negated ? raw.slice(1) : raw;
  const colon = body.indexOf(":");
  if (colon < 1) return null;
  const key = body.slice(0, colon).toLowerCase();
  const value = body.slice(colon + 1);
  if (!value) return null;
  const test = predicate(key, value, quoted);
  if (!test) return null;
  return negated ? (row, now) => !test(row, now) : test;
}

function choices(value, quoted) {
  const lower = value.toLowerCase();
  return quoted ? [lower] : lower.split(",").filter(Boolean);
}

function predicate(key, value, quoted) {
  switch (key) {
    case "label": {
      const names = choices(value, quoted);
      return names.length ? (row) => names.some((name) => row.labels.includes(name)) : null;
    }
    case "author": {
      const logins = choices(value, quoted);
      return logins.length ? (row) => logins.includes(row.author) : null;
    }
    case "assignee": {
      if (!quoted && value.toLowerCase() === "none") return (row) => row.assignees.length === 0;
      const logins = choices(value, quoted);
      return logins.length ? (row) => logins.some((login) => row.assignees.includes(login)) : null;
    }
    case "no":
      if (value.toLowerCase() === "label") return (row) => row.labels.length === 0;
      if (value.toLowerCase() === "assignee") return (row) => row.assignees.length === 0;
      return null;
    case "is":
    case "state":
      return stateTest(value.toLowerCase());
    case "updated":
    case "created":
      return timeTest(key, value);
    case "comments":
      return numberTest(value);
    default:
      return null;
  }
}

function stateTest(value) {
  if (!STATES.has(value)) return null;
  if (value === "draft") return (row) => row.draft;
  if (value === "closed") return (row) => row.state === "closed" || row.state === "merged";
  return (row) => row.state === value;
}

const COMPARE = {
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
};
const OPERATOR = /^(<=|>=|<|>)?(.*)$/;

function timeTest(key, value) {
  const [, operator, operand] = OPERATOR.exec(value);
  const duration = /^(\d{1,5})([hdwy])$/i.exec(operand);
  if (duration) {
    if (!operator) return null; // "updated:7d" says neither newer nor older
    const span = Number(duration[1]) * UNITS[duration[2].toLowerCase()];
    // On ages: `<7d` is younger than a week, so later than a week ago.
    return (row, now) => COMPARE[operator](now - row[key], span);
  }
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(operand);
  if (!date) return null;
  const start = Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]));
  if (new Date(start).toISOString().slice(0, 10) !== operand) return null; // 2026-13-45 is no day
  const end = start + DAY;
  if (!operator) return (row) => row[key] >= start && row[key] < end;
  // On dates: `<2026-01-31` is before that day began, `<=` before it ended.
  const bound = operator === "<=" || operator === ">" ? end : start;
  const inclusive = { "<": "<", "<=": "<", ">": ">=", ">=": ">=" }[operator];
  return (row) => COMPARE[inclusive](row[key], bound);
}

function numberTest(value) {
  const [, operator, operand] = OPERATOR.exec(value);
  if (!/^\d{1,9}$/.test(operand)) return null;
  const number = Number(operand);
  return operator ? (row) => COMPARE[operator](row.comments, number) : (row) => row.comments === number;
}

function labelChoice(labels, noLabel) {
  const names = [...labels].slice(0, MAX_PICKED).map((name) => name.toLowerCase());
  if (!names.length && !noLabel) return null;
  return (row) => (noLabel && row.labels.length === 0) || names.some((name) => row.labels.includes(name));
}

/**
 * The filter `text` says, with the label picker's choice: `{active, terms, matches(row)}`.
 * `active` is false when it lets every row through; `terms` is how many tests it makes.
 */
export function parseFilter(text, { labels = [], noLabel = false, now = Date.now() } = {}) {
  const tests = [];
  for (const { raw, quoted } of tokenize(String(text).slice(0, MAX_QUERY)).slice(0, MAX_TERMS)) {
    const test = qualifier(raw, quoted);
    if (test) {
      tests.push(test);
    } else if (raw) {
      const words = raw.toLowerCase();
      tests.push((row) => row.text.includes(words));
    }
  }
  const picked = labelChoice(labels, noLabel);
  if (picked) tests.push(picked);
  return {
    active: tests.length > 0,
    terms: tests.length,
    matches: (row) => tests.every((test) => test(row, now)),
  };
}
