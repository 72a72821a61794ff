// Small DOM and formatting helpers shared by every display.

/** Create an element: h("div", {class: "x", onclick: fn}, child, "text", ...). */
export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Set an element's text only when it changed (keeps DOM mutations to real changes). */
export function setText(el, text) {
  const value = String(text);
  if (el.textContent !== value) el.textContent = value;
}

/** Toggle a class only when needed. */
export function setClass(el, name, on) {
  if (el.classList.contains(name) !== Boolean(on)) el.classList.toggle(name, Boolean(on));
}

export function setAttr(el, name, value) {
  const text = String(value);
  if (el.getAttribute(name) !== text) el.setAttribute(name, text);
}

/** `T-01:23:45` for seconds relative to T-0, as the server writes it (rounded toward T-0). */
export function tText(seconds) {
  const sign = seconds < 0 ? "-" : "+";
  return "T" + sign + hms(Math.trunc(Math.abs(seconds)));
}

/** `L+01:23:45` for seconds since the count started. */
export function lText(seconds) {
  return "L+" + hms(Math.trunc(Math.max(0, seconds)));
}

export function hms(whole) {
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = whole % 60;
  return [hours, minutes, secs].map((n) => String(n).padStart(2, "0")).join(":");
}

/** Clock time of day (UTC) of an epoch time in seconds: `17:03:12`. */
export function timeOfDay(epochSeconds) {
  if (epochSeconds === null || epochSeconds === undefined) return "—";
  return new Date(epochSeconds * 1000).toISOString().slice(11, 19);
}

/** A duration in seconds as `45 s`, `12 min`, `2.5 h`. */
export function duration(seconds) {
  if (seconds < 90) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** A tag value as text: booleans as words, numbers with sensible precision. */
export function valueText(value, range) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value !== "number") return String(value);
  const span = range ? Math.abs(range[1] - range[0]) : Math.abs(value);
  const digits = span >= 1000 ? 0 : span >= 100 ? 1 : span >= 10 ? 2 : 3;
  return value.toFixed(digits);
}

/** A subsystem name as words: `lox_loading` -> `lox loading`. */
export function words(name) {
  return String(name).replaceAll("_", " ");
}
