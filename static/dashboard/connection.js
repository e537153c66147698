// The event stream: /api/dashboard/events?format=html, resumed from the revision the page was
// rendered at, so after a dropped connection or a server restart the page receives exactly
// what it missed, or a snapshot.
import { main } from "./dom.js";

const connection = document.getElementById("connection");
const RECONNECT_MS = 2000;
const OFFLINE_AFTER_FAILURES = 5;

const CONNECTION_TEXT = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  offline: "offline, retrying",
};

let lastEventId = main.dataset.revision || "";
let source = null;
let failures = 0;
let handlers = {};

function setConnection(state) {
  if (connection.dataset.state === state) return;
  connection.dataset.state = state;
  connection.querySelector(".connection-text").textContent = CONNECTION_TEXT[state];
}

/** Opens the stream (again), handing each event's data to `handlers[event name]`. */
export function connect({ resume = true } = {}) {
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
  for (const [name, handle] of Object.entries(handlers)) {
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

/** Starts following the stream with these event handlers. */
export function follow(eventHandlers) {
  handlers = eventHandlers;
  window.addEventListener("offline", () => setConnection("offline"));
  window.addEventListener("online", () => {
    if (connection.dataset.state !== "live") connect();
  });
  setConnection("connecting");
  connect();
}
