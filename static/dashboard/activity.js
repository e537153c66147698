// A sync's progress or failure shows on its entry, or on a placeholder until the entry exists.
import { findEntry, pendingEl, updateEmptyState } from "./dom.js";

export function activityFor(data) {
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

export function clearActivity(id) {
  [...pendingEl.children].find((el) => el.dataset.id === id)?.remove();
  const status = findEntry(id)?.querySelector(".sync-status");
  if (status) {
    status.hidden = true;
    status.classList.remove("error");
  }
}

export function showProgress(data) {
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
}

// GitHub had nothing new: the board stays as it is; say when it was checked.
export function showUnchanged(data) {
  if (!findEntry(data.id)) {
    clearActivity(data.id);
    return;
  }
  const status = activityFor(data);
  status.classList.remove("error");
  status.querySelector("progress").hidden = true;
  const checked = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  status.querySelector(".sync-text").textContent = `No change on GitHub (checked ${checked})`;
}

export function showFailure(data) {
  const status = activityFor(data);
  status.classList.add("error");
  status.querySelector("progress").hidden = true;
  const text = status.querySelector(".sync-text");
  text.setAttribute("role", "alert");
  text.textContent = `Sync of ${data.label} failed: ${data.message}`;
}
