// A board's label picker: a button that opens a list of the board's labels, each in its
// GitHub colour with how many rows carry it, plus "No label"; ticking several shows the rows
// with any of them (the filter box's `label:a label:b` asks for all). The choice is the
// board's `labels` set and `noLabel` (state.js), kept in the URL with the rest.
//
// The markup around the list is the server's (`filter_controls` in _parts.html); the choices
// are our own chrome, built with createElement and textContent. A label's colours are copied
// from one of the server-rendered chips of the board (validated hex, set there), never read
// from a name or the URL. A label chosen that no row carries any more (or one a link asked
// for) stays listed, with 0, so that the choice can be seen and undone.
import { stateOf } from "./state.js";

const open = new Set(); // pickers whose list is open, to close on a click elsewhere

function pickerOf(section) {
  return section.querySelector(".label-picker");
}

/** Wires a board's picker; `onChange(section)` re-filters the board and writes the URL. */
export function setUpLabelPicker(section, onChange) {
  const picker = pickerOf(section);
  const toggle = picker.querySelector(".label-picker-toggle");
  const menu = picker.querySelector(".label-picker-menu");
  const state = stateOf(section);
  toggle.addEventListener("click", () => setOpen(picker, menu.hidden));
  picker.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || menu.hidden) return;
    event.stopPropagation();
    setOpen(picker, false);
    toggle.focus();
  });
  picker.addEventListener("focusout", (event) => {
    if (!menu.hidden && event.relatedTarget && !picker.contains(event.relatedTarget)) setOpen(picker, false);
  });
  menu.addEventListener("change", (event) => {
    const box = event.target;
    if (box.classList.contains("no-label")) state.noLabel = box.checked;
    else if (box.checked) state.labels.add(box.value);
    else state.labels.delete(box.value);
    showChoice(section);
    onChange(section);
  });
  menu.querySelector(".label-picker-clear").addEventListener("click", () => {
    state.labels.clear();
    state.noLabel = false;
    showLabelChoices(section);
    onChange(section);
  });
}

function setOpen(picker, opened) {
  picker.querySelector(".label-picker-menu").hidden = !opened;
  picker.querySelector(".label-picker-toggle").setAttribute("aria-expanded", String(opened));
  if (opened) open.add(picker);
  else open.delete(picker);
}

document.addEventListener("click", (event) => {
  for (const picker of open) if (!picker.isConnected || !picker.contains(event.target)) setOpen(picker, false);
});

/** Shows only rows with this label (`name`), or without any (`null`); the same again shows all. */
export function pickOnly(section, name) {
  const state = stateOf(section);
  const already = name === null ? state.noLabel && !state.labels.size : !state.noLabel && isOnly(state.labels, name);
  state.labels = already || name === null ? new Set() : new Set([name]);
  state.noLabel = !already && name === null;
  showLabelChoices(section);
}

function isOnly(labels, name) {
  return labels.size === 1 && labels.has(name);
}

// name -> {count, chip}: every label of the board's rows, and a chip to take its colours from.
function boardLabels(section) {
  const labels = new Map();
  let unlabelled = 0;
  for (const row of section.querySelectorAll("tbody tr[data-number]")) {
    const names = row.dataset.labels ? row.dataset.labels.split("\n").filter(Boolean) : [];
    if (!names.length) unlabelled += 1;
    for (const name of names) {
      const known = labels.get(name);
      if (known) known.count += 1;
      else labels.set(name, { count: 1, row });
    }
  }
  return { labels, unlabelled };
}

function chipColours(row, name) {
  const chip = [...row.querySelectorAll(".labels .label")].find((el) => el.textContent === name);
  return chip ? [chip.style.backgroundColor, chip.style.color] : null;
}

function choiceElement(name, count, colours, checked) {
  const item = document.createElement("label");
  item.className = "label-choice";
  const box = document.createElement("input");
  box.type = "checkbox";
  box.checked = checked;
  const chip = document.createElement("span");
  chip.className = "choice-chip"; // not `.label`: that is a row's chip, in the server's markup
  if (name === null) {
    box.className = "no-label";
    chip.classList.add("no-label-chip");
    chip.textContent = "No label";
  } else {
    box.value = name;
    chip.textContent = name;
    if (colours) [chip.style.backgroundColor, chip.style.color] = colours;
  }
  const number = document.createElement("span");
  number.className = "label-count";
  number.textContent = String(count);
  item.append(box, chip, number);
  return item;
}

/** (Re)builds the list from the board's rows: names, colours and counts; keeps focus. */
export function showLabelChoices(section) {
  const picker = pickerOf(section);
  const list = picker.querySelector(".label-choices");
  const state = stateOf(section);
  const { labels, unlabelled } = boardLabels(section);
  for (const name of state.labels) if (!labels.has(name)) labels.set(name, { count: 0, row: null });
  const names = [...labels.keys()].sort((a, b) => a.localeCompare(b));
  const focused = list.contains(document.activeElement) ? document.activeElement : null;
  const focusedValue = focused && (focused.classList.contains("no-label") ? null : focused.value);
  const choices = [choiceElement(null, unlabelled, null, state.noLabel)];
  for (const name of names) {
    const { count, row } = labels.get(name);
    choices.push(choiceElement(name, count, row && chipColours(row, name), state.labels.has(name)));
  }
  list.replaceChildren(...choices);
  if (focused) {
    const again = [...list.querySelectorAll("input")].find((box) =>
      focusedValue === null ? box.classList.contains("no-label") : box.value === focusedValue,
    );
    again?.focus();
  }
  showChoice(section);
}

// The button says what is chosen.
function showChoice(section) {
  const { labels, noLabel } = stateOf(section);
  const toggle = pickerOf(section).querySelector(".label-picker-toggle");
  const chosen = labels.size + (noLabel ? 1 : 0);
  if (chosen === 0) toggle.textContent = "All labels";
  else if (chosen === 1) toggle.textContent = `Label: ${noLabel ? "No label" : [...labels][0]}`;
  else toggle.textContent = `${chosen} labels`;
  toggle.classList.toggle("chosen", chosen > 0);
}
