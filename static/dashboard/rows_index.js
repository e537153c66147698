// A board's rows, indexed in JS: sorting and filtering read the index, never the cells, and
// move only the rows that are not where they should be.
//
// The server renders a board's rows in <tbody class="rows"> chunks of `data-chunk-rows` rows
// (the table's attribute); the CSS gives each chunk `content-visibility: auto`, so the browser
// lays out and paints only the chunks on screen. Rows a filter hides stay where they are, with
// `hidden`; the rows shown are kept packed, that many to a chunk, in the order of the sort, so a
// chunk off screen keeps about the size it had when it was last drawn and the page's height
// stays right. A chunk with no row shown is hidden.
//
// Interface (the sort and filter engine in controls.js is the one caller of the first two):
//   rowIndex(section, sortedBy) -> RowIndex: the board's index, built from its rows on first
//     use (they are in the server's order, which is the comparator `sortedBy`'s).
//   index.records: Map key (the number; owner/repo#N on a view) -> Row; index.order: every Row, in the order shown.
//   index.update(removed, elements): a re-sync's changes: numbers to remove, and fresh <tr>
//     elements from the server (a changed row replaces the one with its number).
//   index.arrange(compare, matches): sorts by `compare(a, b)` (rows), shows the rows for which
//     `matches(row)` is true, hides the others; returns how many are shown. The chunks on the
//     screen have their rows at once, the others after the next frame (the table is
//     aria-busy="true" until then).
//   Row: { element (the <tr>), number, dataset (the element's), title (the title's text),
//     list(name) (a newline-separated data-* attribute as an array),
//     sortValue(key, read) (read(row), kept per key) }.

import { isOnScreen, watchChunk } from "./times.js";

const FAR_CHUNKS_PER_TASK = 25; // about 10 ms of moving rows a task, for chunks off the screen

const boards = new WeakMap(); // section -> RowIndex

export class Row {
  constructor(element) {
    this.element = element;
    this.number = Number(element.dataset.number);
    // What tells rows apart: the number on a repository's board, owner/repo#N on a search view.
    this.key = element.dataset.item ?? this.number;
    this.shown = !element.hidden;
    this._title = null;
    this._lists = null;
    this._sortValues = null;
  }

  /** The value `read(row)` gives for the column `key`, read once. */
  sortValue(key, read) {
    this._sortValues ??= new Map();
    if (!this._sortValues.has(key)) this._sortValues.set(key, read(this));
    return this._sortValues.get(key);
  }

  get dataset() {
    return this.element.dataset;
  }

  get title() {
    return (this._title ??= this.element.querySelector(".title")?.firstElementChild?.textContent ?? "");
  }

  list(name) {
    this._lists ??= new Map();
    let values = this._lists.get(name);
    if (!values) {
      values = (this.dataset[name] || "").split("\n").filter(Boolean);
      this._lists.set(name, values);
    }
    return values;
  }
}

export class RowIndex {
  // `sortedBy`: the comparator the server's order agrees with (the default sort).
  constructor(table, sortedBy) {
    this.table = table;
    this.chunkRows = Number(table.dataset.chunkRows) || 50;
    this.chunks = [...table.querySelectorAll(":scope > tbody.rows")];
    if (this.chunks.length === 0) this.chunks.push(this._newChunk());
    this.records = new Map();
    this.order = [];
    this.rowOf = new WeakMap(); // <tr> -> its Row
    // Read in the page's order: the server's.
    for (const chunk of this.chunks) {
      for (const element of chunk.children) {
        const row = new Row(element);
        this.records.set(row.key, row);
        this.rowOf.set(element, row);
        this.order.push(row);
      }
    }
    this.sortedBy = sortedBy; // the comparator `order` is sorted by
    this._fresh = [];
    this._packing = 0; // which arrangement the chunks are being filled for
  }

  update(removed, elements) {
    const gone = new Set();
    for (const number of removed) {
      const row = this.records.get(Number(number));
      if (!row) continue;
      row.element.remove();
      this.records.delete(row.key);
      gone.add(row);
    }
    const fresh = [];
    for (const element of elements) {
      const row = new Row(element);
      const existing = this.records.get(row.key);
      if (existing) {
        existing.element.replaceWith(element); // in its place: moved only if the sort says so
        gone.add(existing);
      } else {
        this.chunks[0].prepend(element);
      }
      this.records.set(row.key, row);
      this.rowOf.set(element, row);
      fresh.push(row);
    }
    this.order = this.order.filter((row) => !gone.has(row));
    this._fresh.push(...fresh);
  }

  // `row.shown` is what the filter says at once; a row's `hidden` follows when its chunk is
  // filled (_fill): at once on the screen, after the next frame elsewhere.
  arrange(compare, matches) {
    this._sort(compare);
    const shownRows = [];
    for (const row of this.order) {
      row.shown = matches(row);
      if (row.shown) shownRows.push(row);
    }
    this._pack(shownRows);
    return shownRows.length;
  }

  // Sorts `order`: fully for a new comparator, else only the rows `update` brought are put in
  // their places (a re-sync of a few rows of a large board costs a few binary searches).
  _sort(compare) {
    const fresh = this._fresh;
    this._fresh = [];
    if (compare === this.sortedBy) {
      for (const row of fresh) this.order.splice(insertionPoint(this.order, row, compare), 0, row);
      return;
    }
    this.order.push(...fresh);
    this.order.sort(compare);
    this.sortedBy = compare;
  }

  // Puts the rows shown into the chunks, `chunkRows` each, in order. A chunk whose rows shown
  // are already the right ones in the right order is not touched; any other moves as few rows as
  // it can (_order).
  //
  // Moving a row costs the same whether it is drawn or not, and a sort of 5,000 rows spends
  // most of its time there: the chunks on the screen are filled at once, the others in
  // tasks after the next frame, FAR_CHUNKS_PER_TASK at a time. Meanwhile the table is
  // aria-busy, and a new arrangement takes over what is left of the last one.
  _pack(shownRows) {
    const needed = Math.max(1, Math.ceil(shownRows.length / this.chunkRows));
    while (this.chunks.length < needed) {
      const chunk = this._newChunk();
      this.chunks.at(-1).after(chunk);
      this.chunks.push(chunk);
    }
    const all = this.chunks.map((_, i) => i);
    const seen = all.filter((i) => isOnScreen(this.chunks[i]));
    // None on the screen (a board below it, or just placed and not yet observed): all now.
    const now = seen.length ? seen : all;
    const later = seen.length ? all.filter((i) => !isOnScreen(this.chunks[i])) : [];
    const run = ++this._packing;
    this._fill(shownRows, now);
    if (later.length === 0) {
      this.table.removeAttribute("aria-busy");
      return;
    }
    this.table.setAttribute("aria-busy", "true");
    const next = () => {
      if (run !== this._packing) return; // a newer arrangement took over
      this._fill(shownRows, later.splice(0, FAR_CHUNKS_PER_TASK));
      if (later.length) setTimeout(next, 0);
      else this.table.removeAttribute("aria-busy");
    };
    requestAnimationFrame(() => setTimeout(next, 0)); // after the frame that shows the rows on the screen
  }

  // Fills the chunks numbered `which` with their share of `shownRows`, and hides the rows they
  // hold that the filter does not show. A row shown that a chunk gives up goes to the end of the
  // chunk it belongs in (one filled later puts it in its place): no row is ever out of the
  // document.
  _fill(shownRows, which) {
    // Moving a row out of the document and back blurs what it holds: put the focus back.
    const focused = document.activeElement;
    const focusedRow = focused && focused !== document.body ? focused.closest("tbody.rows > tr") : null;
    let places = null; // element -> its position among the rows shown, when first needed
    for (const i of which) {
      const chunk = this.chunks[i];
      const start = i * this.chunkRows;
      const rows = shownRows.slice(start, start + this.chunkRows);
      if (!this._showsInOrder(chunk, rows)) {
        const displaced = this._order(chunk, rows);
        if (displaced.length) {
          places ??= new Map(shownRows.map((row, position) => [row.element, position]));
          for (const element of displaced) {
            const position = places.get(element);
            (position === undefined ? chunk : this.chunks[Math.floor(position / this.chunkRows)]).append(element);
          }
        }
      }
      for (const element of chunk.children) {
        const hide = !this.rowOf.get(element)?.shown;
        if (element.hidden !== hide) element.hidden = hide;
      }
      const empty = rows.length === 0;
      if (chunk.hidden !== empty) chunk.hidden = empty;
    }
    if (focusedRow && document.activeElement !== focused && focused.isConnected) focused.focus({ preventScroll: true });
  }

  // Gives `chunk` the elements of `rows` in that order, its hidden rows kept among them, and
  // returns its rows shown that are not in `rows` (for the caller to put in their chunks). The
  // rows already in the chunk in the right order stay where they are and the others go in one
  // by one. A filter typed or erased mostly shows rows that were already there, hidden: one
  // replaceChildren of all a chunk held, with the hundreds of hidden rows it can gather, made a
  // keystroke 70-80 ms (48 now); a sort, which moves nearly every row, costs the same either way
  // (BENCHMARKS.md).
  _order(chunk, rows) {
    const kept = new Set(rows.map((row) => row.element));
    const places = new Map(); // a child -> its place in the chunk now
    const displaced = [];
    for (const element of chunk.children) {
      places.set(element, places.size);
      if (!kept.has(element) && this.rowOf.get(element)?.shown) displaced.push(element);
    }
    // In order: each after the last one in order before it (greedy, not the fewest possible).
    const inOrder = new Set();
    let last = -1;
    for (const row of rows) {
      const place = places.get(row.element);
      if (place !== undefined && place > last) {
        inOrder.add(row.element);
        last = place;
      }
    }
    let previous = null;
    for (const { element } of rows) {
      if (!inOrder.has(element)) {
        if (previous) previous.after(element);
        else chunk.prepend(element);
      }
      previous = element;
    }
    return displaced;
  }

  // Whether the rows `chunk` holds that the filter shows are `rows`, in that order.
  _showsInOrder(chunk, rows) {
    let next = 0;
    for (const element of chunk.children) {
      if (!this.rowOf.get(element)?.shown) continue;
      if (rows[next] !== this.rowOf.get(element)) return false;
      next += 1;
    }
    return next === rows.length;
  }

  _newChunk() {
    const chunk = document.createElement("tbody");
    chunk.className = "rows";
    watchChunk(chunk);
    return chunk;
  }
}

function insertionPoint(order, row, compare) {
  let low = 0;
  let high = order.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compare(order[middle], row) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The board's index, built on first use with the rows in the server's order, which is
 * `sortedBy`'s; null for a board without a chunked table. */
export function rowIndex(section, sortedBy) {
  let index = boards.get(section);
  if (!index) {
    const table = section.querySelector("table.chunked");
    if (!table) return null;
    index = new RowIndex(table, sortedBy);
    boards.set(section, index);
  }
  return index;
}
