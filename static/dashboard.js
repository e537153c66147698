// Keeps the server-rendered dashboard live: listens to /api/dashboard/events and fills boards by
// cloning the page's <template> skeletons. Untrusted text only ever goes in through textContent.
(() => {
  "use strict";

  const boardsEl = document.getElementById("boards");
  const emptyEl = document.getElementById("empty");
  const connectionEl = document.getElementById("connection");
  const boardTemplate = document.getElementById("board-template");
  const issueTemplate = document.getElementById("issue-template");
  const labelTemplate = document.getElementById("label-template");

  const STATUS_TEXT = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…" };

  function setConnection(state) {
    connectionEl.dataset.state = state;
    connectionEl.querySelector(".connection-text").textContent = STATUS_TEXT[state];
  }

  function relativeTime(iso) {
    if (!iso) return "";
    const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
    if (seconds < 45) return "just now";
    const units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];
    for (const [unit, size] of units) {
      if (seconds >= size) {
        const n = Math.round(seconds / size);
        return `${n} ${unit}${n === 1 ? "" : "s"} ago`;
      }
    }
    return "just now";
  }

  function tickTimes(root = document) {
    for (const el of root.querySelectorAll("time[datetime]")) {
      const iso = el.getAttribute("datetime");
      if (!iso) continue;
      el.textContent = relativeTime(iso);
      el.title = new Date(iso).toLocaleString();
    }
  }

  function safeUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
  }

  function renderIssue(issue) {
    const row = issueTemplate.content.firstElementChild.cloneNode(true);
    row.dataset.number = String(issue.number);
    row.querySelector(".number").textContent = `#${issue.number}`;
    const link = row.querySelector(".title a");
    const url = safeUrl(issue.html_url);
    if (url) {
      link.href = url;
      link.textContent = issue.title;
    } else {
      link.replaceWith(document.createTextNode(issue.title));
    }
    const labels = row.querySelector(".labels");
    for (const label of issue.labels || []) {
      const chip = labelTemplate.content.firstElementChild.cloneNode(true);
      chip.textContent = label.name;
      if (/^[0-9a-fA-F]{6}$/.test(label.color)) chip.style.setProperty("--label-color", `#${label.color}`);
      labels.append(chip);
    }
    const badge = row.querySelector(".state-badge");
    badge.textContent = issue.state;
    badge.className = `state-badge state-${issue.state === "closed" ? "closed" : "open"}`;
    row.querySelector(".author").textContent = issue.author || "";
    row.querySelector(".assignees").textContent = (issue.assignees || []).join(", ");
    row.querySelector(".comments").textContent = String(issue.comments ?? 0);
    row.querySelector(".updated time").setAttribute("datetime", issue.updated_at || "");
    return row;
  }

  function renderBoard(board) {
    const section = boardTemplate.content.firstElementChild.cloneNode(true);
    section.dataset.repository = board.repository;
    section.dataset.revision = String(board.revision);
    const repoLink = section.querySelector(".repository");
    repoLink.href = `https://github.com/${board.repository}`;
    repoLink.textContent = board.repository;
    section.querySelector(".count").textContent = String(board.issues.length);
    section.querySelector(".filter").textContent = board.state;
    section.querySelector(".last-updated").setAttribute("datetime", board.last_updated);
    section.querySelector(".source").textContent = board.source === "mcp" ? "MCP tool call" : "API push";
    section.querySelector(".truncated").hidden = !board.truncated;
    section.querySelector("tbody").replaceChildren(...board.issues.map(renderIssue));
    const none = section.querySelector(".no-issues");
    none.hidden = board.issues.length > 0;
    none.textContent = `No ${board.state === "all" ? "" : board.state + " "}issues.`;
    tickTimes(section);
    return section;
  }

  function findBoard(repository) {
    const key = repository.toLowerCase();
    return [...boardsEl.querySelectorAll("section.board")].find((el) => el.dataset.repository.toLowerCase() === key);
  }

  function showBoard(board, { flash }) {
    const section = renderBoard(board);
    findBoard(board.repository)?.remove();
    boardsEl.prepend(section); // newest activity first
    if (flash) section.classList.add("flash");
    emptyEl.hidden = true;
  }

  function showAll(boards) {
    for (const el of boardsEl.querySelectorAll("section.board")) el.remove();
    // The server sends boards newest first; prepending in reverse keeps that order.
    for (const board of [...boards].reverse()) showBoard(board, { flash: false });
    emptyEl.hidden = boards.length > 0;
  }

  function connect() {
    setConnection("connecting");
    const source = new EventSource(boardsEl.dataset.eventsUrl);
    source.addEventListener("open", () => setConnection("live"));
    source.addEventListener("initial_data", (event) => {
      setConnection("live");
      showAll(JSON.parse(event.data).data.boards);
    });
    source.addEventListener("issues_update", (event) => {
      showBoard(JSON.parse(event.data).data, { flash: true });
    });
    source.addEventListener("error", () => {
      setConnection("reconnecting");
      // EventSource retries by itself, but gives up for good on some failures (e.g. a 5xx
      // while the server restarts); start a new one then.
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
    });
  }

  tickTimes();
  setInterval(tickTimes, 30000);
  connect();
})();
