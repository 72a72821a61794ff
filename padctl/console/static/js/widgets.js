// Analog indicators, sparklines and quality marks: the pieces every display draws tags with.

import { h, setAttr, setClass, setText, valueText } from "./dom.js";

const QUALITIES = ["GOOD", "UNCERTAIN", "BAD", "STALE"];

/** Mark `el` with the quality of its tag: STALE and BAD hatched and labelled, distinctly. */
export function markQuality(el, quality, reason = "") {
  for (const q of QUALITIES) setClass(el, `q-${q.toLowerCase()}`, q === quality);
  setAttr(el, "data-quality", quality);
  if (quality !== "GOOD" && reason) setAttr(el, "title", `${quality}: ${reason}`);
  else if (el.hasAttribute("title")) el.removeAttribute("title");
}

/** The label shown beside a value whose quality is not GOOD. */
export function qualityLabel(quality) {
  return quality === "GOOD" ? "" : quality === "UNCERTAIN" ? "UNCERT" : quality;
}

/**
 * A horizontal analog bar: the engineering range, the normal band (LCC limits active now)
 * shaded, limit ticks, and a pointer at the value. Pointer outside the band: drawn heavy.
 */
export class AnalogBar {
  constructor() {
    this.band = h("div", { class: "bar-band" });
    this.low = h("div", { class: "bar-limit" });
    this.high = h("div", { class: "bar-limit" });
    this.pointer = h("div", { class: "bar-pointer" });
    this.el = h("div", { class: "bar", "aria-hidden": "true" }, this.band, this.low, this.high,
      this.pointer);
  }

  update(value, range, band) {
    if (!range || typeof value === "boolean") {
      this.el.hidden = true;
      return;
    }
    this.el.hidden = false;
    const [lo, hi] = range;
    const pct = (x) => `${(Math.max(0, Math.min(1, (x - lo) / (hi - lo))) * 100).toFixed(2)}%`;
    const hasLow = band && band.low !== null && band.low !== undefined;
    const hasHigh = band && band.high !== null && band.high !== undefined;
    this.band.hidden = !(hasLow || hasHigh);
    if (hasLow || hasHigh) {
      const from = hasLow ? band.low : lo;
      const to = hasHigh ? band.high : hi;
      this.band.style.left = pct(from);
      this.band.style.width = `calc(${pct(to)} - ${pct(from)})`;
    }
    this.low.hidden = !hasLow;
    this.high.hidden = !hasHigh;
    if (hasLow) this.low.style.left = pct(band.low);
    if (hasHigh) this.high.style.left = pct(band.high);
    const known = typeof value === "number";
    this.pointer.hidden = !known;
    if (known) this.pointer.style.left = pct(value);
    const outside = known && ((hasLow && value < band.low) || (hasHigh && value > band.high));
    setClass(this.el, "outside", outside);
    setClass(this.el, "off-scale", known && (value < lo || value > hi));
  }
}

/** A small trend: the last minutes of one tag as a step line, the normal band shaded. */
export class Sparkline {
  constructor(width = 140, height = 26) {
    this.width = width;
    this.height = height;
    this.band = h("svg:rect", { class: "spark-band", x: 0, width, height: 0 });
    this.line = h("svg:polyline", { class: "spark-line", points: "" });
    this.el = h("svg:svg", { class: "spark", width, height, viewBox: `0 0 ${width} ${height}`,
      "aria-hidden": "true" }, this.band, this.line);
  }

  /** points [{t, v, q}], shown from `fromT` to `toT` (pad-clock epoch). */
  update(points, fromT, toT, range, band) {
    const numbers = points.filter((p) => typeof p.v === "number");
    setAttr(this.el, "data-from", fromT.toFixed(1)); // the drawn span and points, for tests
    setAttr(this.el, "data-to", toT.toFixed(1));
    setAttr(this.el, "data-points", numbers.length);
    if (numbers.length === 0) {
      setAttr(this.line, "points", "");
      return;
    }
    let [lo, hi] = range || [Infinity, -Infinity];
    if (!range) {
      for (const p of numbers) {
        lo = Math.min(lo, p.v);
        hi = Math.max(hi, p.v);
      }
      if (hi - lo < 1e-9) [lo, hi] = [lo - 1, hi + 1];
    }
    const w = this.width;
    const ht = this.height - 2;
    const x = (t) => (((t - fromT) / (toT - fromT)) * w).toFixed(1);
    const y = (v) => (1 + ht - Math.max(0, Math.min(1, (v - lo) / (hi - lo))) * ht).toFixed(1);
    const coords = [];
    let previous = null;
    for (const p of numbers) {
      const t = Math.max(p.t, fromT);
      if (previous !== null) coords.push(`${x(t)},${y(previous)}`);
      coords.push(`${x(t)},${y(p.v)}`);
      previous = p.v;
    }
    coords.push(`${x(toT)},${y(previous)}`);
    setAttr(this.line, "points", coords.join(" "));
    const lowSet = band && band.low !== null && band.low !== undefined;
    const highSet = band && band.high !== null && band.high !== undefined;
    if (lowSet || highSet) {
      const top = y(highSet ? band.high : hi);
      const bottom = y(lowSet ? band.low : lo);
      setAttr(this.band, "y", top);
      setAttr(this.band, "height", Math.max(0, bottom - top).toFixed(1));
    } else {
      setAttr(this.band, "height", 0);
    }
  }
}

/** One tag's value cell: value, unit, quality label; `data-tag` names it for tests and tools. */
export class ValueCell {
  constructor(name) {
    this.value = h("span", { class: "value", "data-tag": name });
    this.unit = h("span", { class: "unit" });
    this.quality = h("span", { class: "quality-label" });
    this.el = h("span", { class: "value-cell" }, this.value, this.unit, this.quality);
  }

  update(tag) {
    setText(this.value, valueText(tag.value, tag.range)); // null (nothing usable): a dash
    setClass(this.value, "bool-true", tag.value === true);
    setText(this.unit, tag.unit && tag.unit !== "-" ? tag.unit : "");
    setText(this.quality, qualityLabel(tag.quality));
    markQuality(this.el, tag.quality, tag.reason);
  }
}
