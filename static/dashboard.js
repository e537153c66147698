// Keeps the server-rendered dashboard live.
//
// Listens to /api/dashboard/events?format=html, whose events carry HTML fragments rendered by the
// server's own templates (autoescaped there): this script only places them, and never builds
// markup from data. It resumes the stream from the revision the page was rendered at, so after a
// dropped connection or a server restart it receives exactly what it missed, or a snapshot.
// Filters and sort orders are client-side, survive every update, and are kept in the URL's
// fragment so that a link shares them and reload and Back restore them.
(() => {
  "use strict";

  const main = document.getElementById("boards");
  const groupsEl = document.getElementById("groups");
  const pendingEl = document.getElementById("pending");
  const emptyState = document.getElementById("empty");
  const connection = document.getElementById("connection");
  const RECONNECT_MS = 2000;
  const OFFLINE_AFTER_FAILURES = 5;
  const FLASH_MS = 2500;

  let lastEventId = main.dataset.revision || "";
  let source = null;
  let failures = 0;
  const boardState = new Map(); // entry id -> {text, label, sortKey, sortDir}

  // ---- connection -------------------------------------------------------------------------

  const CONNECTION_TEXT = {
    connecting: "connecting…",
    live: "live",
    reconnecting: "reconnecting…",
    offline: "offline, retrying",
  };

  function setConnection(state) {
    if (connection.dataset.state === state) return;
    connection.dataset.state = state;
    connection.querySelector(".connection-text").textContent = CONNECTION_TEXT[state];
  }

  function connect({ resume = true } = {}) {
    if (source) source.close();
    const url = new URL(main.dataset.eventsUrl, window.location.href);
    url.searchParams.set("format", "html");
    if (resume && lastEventId !== "") url.searchParams.set("last_event_id", lastEventId);
    source = new EventSource(url);
    const current = source;
    current.addEventListener("open", () => {
      failures = 0;
      setConnection("live");
    });
    current.addEventListener("error", () => {
      failures += 1;
      setConnection(!navigator.onLine || failures >= OFFLINE_AFTER_FAILURES ? "offline" : "reconnecting");
      // EventSource retries by itself after a dropped connection, but gives up for good when a
      // reconnect is refused with an error status (e.g. while a proxy restarts): start over then.
      if (current.readyState === EventSource.CLOSED && current === source) {
        setTimeout(() => current === source && reconnectUnlessSignedOut(), RECONNECT_MS);
      }
    });
    for (const [name, handle] of Object.entries(HANDLERS)) {
      current.addEventListener(name, (event) => {
        lastEventId = event.lastEventId;
        handle(JSON.parse(event.data).data);
      });
    }
  }

  // A refused reconnect may mean the session ended (it expired, or was signed out elsewhere):
  // EventSource cannot tell, so ask the stream's URL for its headers. On 401, reload, which
  // shows the sign-in form; on anything else, reconnect as before.
  async function reconnectUnlessSignedOut() {
    try {
      const probe = await fetch(main.dataset.eventsUrl, { method: "HEAD", cache: "no-store" });
      if (probe.status === 401) {
        window.location.reload();
        return;
      }
    } catch {
      // offline: reconnect below, and keep retrying as before
    }
    connect();
  }

  window.addEventListener("offline", () => setConnection("offline"));
  window.addEventListener("online", () => {
    if (connection.dataset.state !== "live") connect();
  });

  // ---- events -----------------------------------------------------------------------------

  const HANDLERS = {
    snapshot(data) {
      const template = document.createElement("template");
      template.innerHTML = data.html; // server-rendered and escaped by the server's templates
      groupsEl.replaceChildren(template.content);
      pendingEl.replaceChildren();
      for (const section of entrySections()) setUpBoard(section);
      updateEmptyState();
    },
    board(data) {
      const section = fragment(data.html);
      findEntry(data.id)?.remove();
      clearActivity(data.id);
      placeFirst(section, data.group);
      setUpBoard(section);
      flash(section);
      updateEmptyState();
    },
    board_delta(data) {
      const section = findEntry(data.id);
      if (!section) {
        connect({ resume: false }); // out of step: start again from a snapshot
        return;
      }
      clearActivity(data.id);
      section.querySelector(".board-header").replaceWith(fragment(data.header_html));
      section.querySelector(".board-summary").replaceWith(fragment(data.summary_html));
      const body = section.querySelector("tbody");
      for (const number of data.removed) rowByNumber(body, number)?.remove();
      for (const { number, html } of [...data.changed, ...data.added]) {
        const row = fragment(html);
        const existing = rowByNumber(body, number);
        if (existing) existing.replaceWith(row);
        else body.append(row);
        flash(row);
      }
      placeFirst(section, data.group);
      applyControls(section);
    },
    removed(data) {
      findEntry(data.id)?.remove();
      clearActivity(data.id);
      for (const group of groupsEl.querySelectorAll(".group:empty")) group.remove();
      updateEmptyState();
    },
    sync_progress(data) {
      const status = activityFor(data);
      status.classList.remove("error");
      const bar = status.querySelector("progress");
      bar.hidden = false;
      if (data.total) {
        bar.max = data.total;
        bar.value = data.done;
      } else {
        bar.removeAttribute("value"); // indeterminate until the page count is known
      }
      const pages = data.total ? `${data.done} of ${data.total} pages` : `${data.done} pages`;
      status.querySelector(".sync-text").textContent = `Syncing ${data.label}… ${pages}`;
    },
    sync_unchanged(data) {
      // GitHub had nothing new: the board stays as it is; say when it was checked.
      if (!findEntry(data.id)) {
        clearActivity(data.id);
        return;
      }
      const status = activityFor(data);
      status.classList.remove("error");
      status.querySelector("progress").hidden = true;
      const checked = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      status.querySelector(".sync-text").textContent = `No change on GitHub (checked ${checked})`;
    },
    sync_failed(data) {
      const status = activityFor(data);
      status.classList.add("error");
      status.querySelector("progress").hidden = true;
      const text = status.querySelector(".sync-text");
      text.setAttribute("role", "alert");
      text.textContent = `Sync of ${data.label} failed: ${data.message}`;
    },
  };

  function fragment(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim(); // server-rendered and escaped by the server's templates
    return template.content.firstElementChild;
  }

  function entrySections() {
    return [...groupsEl.querySelectorAll("section.entry")];
  }

  function findEntry(id) {
    return entrySections().find((section) => section.dataset.id === id);
  }

  function rowByNumber(body, number) {
    return body.querySelector(`tr[data-number="${Number(number)}"]`);
  }

  function flash(element) {
    element.classList.add("flash");
    setTimeout(() => element.classList.remove("flash"), FLASH_MS);
  }

  function groupElement(key) {
    let group = [...groupsEl.children].find((el) => el.dataset.group === key);
    if (!group) {
      group = document.createElement("div");
      group.className = "group";
      group.dataset.group = key;
    }
    return group;
  }

  function placeFirst(section, groupKey) {
    // Newest activity first, within its group and for the group. Moving a node blurs whatever
    // was focused inside it: put it back.
    const focused = section.contains(document.activeElement) ? document.activeElement : null;
    const selection = focused && "selectionStart" in focused ? [focused.selectionStart, focused.selectionEnd] : null;
    const group = groupElement(groupKey);
    if (group.firstElementChild !== section) group.prepend(section);
    if (groupsEl.firstElementChild !== group) groupsEl.prepend(group);
    for (const empty of groupsEl.querySelectorAll(".group:empty")) empty.remove();
    if (focused && document.activeElement !== focused) {
      focused.focus();
      if (selection) focused.setSelectionRange(...selection);
    }
  }

  // A sync's progress or failure shows on its entry, or on a placeholder until the entry exists.
  function activityFor(data) {
    const section = findEntry(data.id);
    if (section) {
      const status = section.querySelector(".sync-status");
      status.hidden = false;
      return status;
    }
    let placeholder = [...pendingEl.children].find((el) => el.dataset.id === data.id);
    if (!placeholder) {
      placeholder = document.createElement("section");
      placeholder.className = "entry pending";
      placeholder.dataset.id = data.id;
      const status = document.createElement("div");
      status.className = "sync-status";
      const bar = document.createElement("progress");
      const text = document.createElement("span");
      text.className = "sync-text";
      text.setAttribute("role", "status");
      const dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.className = "dismiss";
      dismiss.textContent = "Dismiss";
      dismiss.addEventListener("click", () => {
        placeholder.remove();
        updateEmptyState();
      });
      status.append(bar, text, dismiss);
      placeholder.append(status);
      pendingEl.prepend(placeholder);
      updateEmptyState();
    }
    return placeholder.querySelector(".sync-status");
  }

  function clearActivity(id) {
    [...pendingEl.children].find((el) => el.dataset.id === id)?.remove();
    const status = findEntry(id)?.querySelector(".sync-status");
    if (status) {
      status.hidden = true;
      status.classList.remove("error");
    }
  }

  function updateEmptyState() {
    emptyState.hidden = entrySections().length > 0 || pendingEl.children.length > 0;
  }

  // ---- filter and sort --------------------------------------------------------------------

  const DESCENDING_FIRST = new Set(["number", "comments", "updated"]);

  function stateOf(section) {
    const key = section.dataset.id;
    if (!boardState.has(key)) {
      boardState.set(key, { ...defaultState(), ...stateFromUrl(section) });
    }
    return boardState.get(key);
  }

  function setUpBoard(section) {
    const controls = section.querySelector(".board-controls");
    if (!controls) return; // panels and commit timelines have no filters
    const state = stateOf(section);
    controls.hidden = false;
    const text = controls.querySelector(".filter-text");
    const label = controls.querySelector(".filter-label");
    text.value = state.text;
    text.addEventListener("input", () => {
      state.text = text.value;
      applyFilter(section);
      writeUrlState();
    });
    label.addEventListener("change", () => {
      state.label = label.value;
      applyFilter(section);
      writeUrlState();
    });
    for (const header of section.querySelectorAll("th[data-sort]")) {
      header.querySelector("button").addEventListener("click", () => {
        const key = header.dataset.sort;
        if (state.sortKey === key) {
          state.sortDir = state.sortDir === "ascending" ? "descending" : "ascending";
        } else {
          state.sortKey = key;
          state.sortDir = DESCENDING_FIRST.has(key) ? "descending" : "ascending";
        }
        applySort(section);
        writeUrlState();
      });
    }
    setUpAttention(section);
    applyControls(section);
  }

  function defaultState() {
    return { text: "", label: "", attention: "", sortKey: "updated", sortDir: "descending" };
  }

  // ---- filter and sort in the URL ---------------------------------------------------------
  // The fragment holds each board's filter text, label and sort, keyed by the board's id:
  // `#filter.issues:octo/app=crash&label.issues:octo/app=bug&sort.issues:octo/app=-number`
  // (`-` for descending). A fragment never reaches the server (nor its logs), and replaceState
  // adds no history entry per keystroke. It is the source of truth when the page is shown
  // again (reload, Back, a bfcache restore), so the rows always agree with the filter box.
  // Anyone can write a link: values are only ever used as text, a value is cut to
  // MAX_URL_VALUE characters, a longer fragment than MAX_URL_FRAGMENT is ignored whole, and
  // unknown boards, columns and directions are ignored.

  const MAX_URL_FRAGMENT = 8192;
  const MAX_URL_VALUE = 500; // as the filter box's maxlength, so the URL holds all it can hold
  const URL_FIELDS = ["filter", "label", "sort"];

  function readUrlState() {
    const hash = location.hash.slice(1);
    const boards = new Map(); // board id -> {filter, label, sort}, as written
    if (!hash || hash.length > MAX_URL_FRAGMENT) return boards;
    for (const [name, value] of new URLSearchParams(hash)) {
      const dot = name.indexOf(".");
      const field = name.slice(0, dot);
      if (dot < 0 || !URL_FIELDS.includes(field)) continue;
      const id = name.slice(dot + 1);
      if (!boards.has(id)) boards.set(id, {});
      boards.get(id)[field] = value.slice(0, MAX_URL_VALUE);
    }
    return boards;
  }

  // The part of a board's state its URL entry sets; only columns the board can sort by count.
  function stateFromUrl(section) {
    const entry = readUrlState().get(section.dataset.id);
    if (!entry) return {};
    const state = {};
    if (entry.filter) state.text = entry.filter;
    if (entry.label) state.label = entry.label;
    if (entry.sort) {
      const descending = entry.sort.startsWith("-");
      const key = descending ? entry.sort.slice(1) : entry.sort;
      const columns = [...section.querySelectorAll("th[data-sort]")].map((th) => th.dataset.sort);
      if (columns.includes(key)) {
        state.sortKey = key;
        state.sortDir = descending ? "descending" : "ascending";
      }
    }
    return state;
  }

  // ':' and '/' are allowed in a fragment; leaving them readable keeps shared links legible.
  function encodeFragmentPart(text) {
    return encodeURIComponent(text).replace(/%3A/g, ":").replace(/%2F/g, "/");
  }

  function writeUrlState() {
    const defaults = defaultState();
    const parts = [];
    for (const section of entrySections()) {
      const id = section.dataset.id;
      const state = boardState.get(id);
      if (!state || !section.querySelector(".board-controls")) continue;
      const put = (field, value) => parts.push(`${field}.${encodeFragmentPart(id)}=${encodeFragmentPart(value)}`);
      if (state.text) put("filter", state.text.slice(0, MAX_URL_VALUE));
      if (state.label) put("label", state.label.slice(0, MAX_URL_VALUE));
      if (state.sortKey !== defaults.sortKey || state.sortDir !== defaults.sortDir) {
        put("sort", `${state.sortDir === "descending" ? "-" : ""}${state.sortKey}`);
      }
    }
    const hash = parts.length ? `#${parts.join("&")}` : "";
    if (hash === location.hash) return;
    history.replaceState(history.state, "", `${location.pathname}${location.search}${hash}`);
  }

  // Shows every board as the URL says, whatever the browser put back into the form controls;
  // a board that already agrees is left alone (sorting a large board twice on load is not free).
  function applyUrlState() {
    for (const section of entrySections()) {
      const controls = section.querySelector(".board-controls");
      if (!controls) continue;
      const state = stateOf(section);
      const wanted = { ...defaultState(), attention: state.attention, ...stateFromUrl(section) };
      const text = controls.querySelector(".filter-text");
      const label = controls.querySelector(".filter-label");
      const agrees =
        ["text", "label", "sortKey", "sortDir"].every((field) => state[field] === wanted[field]) &&
        text.value === wanted.text &&
        label.value === wanted.label;
      if (agrees) continue;
      Object.assign(state, wanted);
      text.value = state.text;
      applyControls(section);
    }
  }

  // `pageshow` comes on every showing of the page, a bfcache restore included, after the
  // browser has restored what it restores of the form; `hashchange` when someone edits the URL.
  window.addEventListener("pageshow", applyUrlState);
  window.addEventListener("hashchange", applyUrlState);

  // ---- attention cards --------------------------------------------------------------------
  // A pull-request board's cards (drafts, waiting for review, oldest open) each filter the table
  // to the pull requests they count (`data-numbers`, rendered by the server); pressing the same
  // card again, or another, changes the filter. The choice survives re-renders of the board.

  function attentionCards(section) {
    return [...section.querySelectorAll(".attention-card[data-attention]")];
  }

  function setUpAttention(section) {
    const state = stateOf(section);
    for (const card of attentionCards(section)) {
      const button = card.querySelector(".attention-filter");
      if (!button) continue; // an empty card filters nothing
      button.hidden = false;
      button.addEventListener("click", () => {
        state.attention = state.attention === card.dataset.attention ? "" : card.dataset.attention;
        showAttention(section);
        applyFilter(section);
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

  // The numbers the chosen card counts, or null when no card filters the table.
  function attentionNumbers(section) {
    const { attention } = stateOf(section);
    if (!attention) return null;
    const card = attentionCards(section).find((el) => el.dataset.attention === attention);
    if (!card || !card.querySelector(".attention-filter")) return null;
    return new Set(card.dataset.numbers.split(" ").filter(Boolean).map(Number));
  }

  function applyControls(section) {
    const state = stateOf(section);
    const select = section.querySelector(".filter-label");
    const names = new Set();
    for (const row of rowsOf(section)) {
      for (const name of row.dataset.labels.split("\n")) if (name) names.add(name);
    }
    const options = [...names].sort((a, b) => a.localeCompare(b));
    if (state.label && !names.has(state.label)) options.unshift(state.label); // keep the user's choice
    select.replaceChildren(new Option("All labels", ""), ...options.map((name) => new Option(name, name)));
    select.value = state.label;
    applySort(section);
    applyFilter(section);
    tickTimes(section);
  }

  function rowsOf(section) {
    return [...section.querySelectorAll("tbody tr[data-number]")];
  }

  function sortValue(row, key) {
    switch (key) {
      case "number":
      case "comments":
        return Number(row.dataset[key]);
      case "title":
        return row.querySelector(".title").firstElementChild.textContent.toLowerCase();
      default:
        return (row.dataset[key] || "").toLowerCase();
    }
  }

  function applySort(section) {
    const { sortKey, sortDir } = stateOf(section);
    const sign = sortDir === "ascending" ? 1 : -1;
    const body = section.querySelector("tbody");
    const rows = rowsOf(section).map((row) => [sortValue(row, sortKey), Number(row.dataset.number), row]);
    rows.sort(([a, an], [b, bn]) => {
      const order = typeof a === "number" ? a - b : a.localeCompare(b);
      return order !== 0 ? sign * order : bn - an;
    });
    body.append(...rows.map(([, , row]) => row));
    for (const header of section.querySelectorAll("th[data-sort]")) {
      header.setAttribute("aria-sort", header.dataset.sort === sortKey ? sortDir : "none");
    }
  }

  function applyFilter(section) {
    const { text, label } = stateOf(section);
    const query = text.trim().toLowerCase();
    const rows = rowsOf(section);
    const counted = attentionNumbers(section);
    let shown = 0;
    for (const row of rows) {
      const visible =
        (!query || row.textContent.toLowerCase().includes(query)) &&
        (!label || row.dataset.labels.split("\n").includes(label)) &&
        (!counted || counted.has(Number(row.dataset.number)));
      row.hidden = !visible;
      if (visible) shown += 1;
    }
    const filtering = Boolean(query || label || counted);
    section.querySelector(".shown").textContent = filtering ? `${shown} of ${rows.length} shown` : "";
    section.querySelector(".no-matches").hidden = !(filtering && shown === 0 && rows.length > 0);
    section.querySelector(".no-issues").hidden = rows.length > 0;
  }

  // ---- time -------------------------------------------------------------------------------

  const UNITS = [
    ["year", 31536000],
    ["month", 2592000],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];

  function relativeTime(iso) {
    const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
    for (const [unit, size] of UNITS) {
      if (seconds >= size) {
        const n = Math.round(seconds / size);
        return `${n} ${unit}${n === 1 ? "" : "s"} ago`;
      }
    }
    return "just now";
  }

  function tickTimes(root = document) {
    for (const time of root.querySelectorAll("time[datetime]")) {
      const iso = time.getAttribute("datetime");
      if (!iso) continue;
      time.textContent = relativeTime(iso);
      time.title = new Date(iso).toLocaleString();
    }
  }

  // ---- empty state ------------------------------------------------------------------------

  for (const button of document.querySelectorAll("button.copy")) {
    if (!navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(document.getElementById(button.dataset.copy).textContent);
      button.textContent = "Copied";
      setTimeout(() => (button.textContent = "Copy"), 2000);
    });
  }

  for (const section of entrySections()) setUpBoard(section);
  setInterval(() => tickTimes(), 30000);
  setConnection("connecting");
  connect();
})();
