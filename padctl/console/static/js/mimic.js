// The pad mimic's drawing: equipment shapes and one status block per subsystem, as SVG.
// overview.js moves and marks them from the live tags; nothing here knows the state.

import { h } from "./dom.js";

export const PIVOT = [614, 470]; // erector pivot; the vehicle rotates about it while aboard
export const BLOCK_HEIGHT = 62;
const BLOCK_PAD = 7;
const FONT = '"DejaVu Sans", "Liberation Sans", Arial, sans-serif';
// The block lines' fonts (user units: the drawing is never shown smaller than 1:1).
export const BLOCK_FONTS = { title: `bold 15px ${FONT}`, state: `15px ${FONT}`, mode: `14px ${FONT}` };

// Where each subsystem's status block stands, near its equipment: [x, y, width]. None of them
// overlaps another or a label (a browser test checks it at the control room's screen sizes).
export const BLOCKS = {
  ground_power: [20, 68, 210],
  gas_supply: [20, 240, 210],
  thermal_conditioning: [250, 215, 200],
  vehicle_interface: [630, 60, 215],
  cable_mast: [250, 300, 195],
  fire_suppression: [852, 70, 243],
  erector: [660, 200, 200],
  lox_loading: [20, 545, 215],
  kerosene_loading: [250, 545, 215],
  hold_downs: [620, 575, 200],
  water_deluge: [910, 505, 185],
};

let measure = null;

/** Put `text` in an SVG text element at most `widthPx` wide (user units): squeezed a little,
 *  cut with an ellipsis beyond that (a block's tooltip names its subsystem in full). */
export function fitText(el, text, font, widthPx) {
  measure = measure || document.createElement("canvas").getContext("2d");
  measure.font = font;
  let shown = text;
  while (shown.length > 1 && measure.measureText(shown).width > widthPx / 0.8) {
    shown = shown.slice(0, -2) + "…";
  }
  if (el.textContent !== shown) el.textContent = shown;
  const squeeze = measure.measureText(shown).width > widthPx;
  if (squeeze) {
    el.setAttribute("textLength", widthPx);
    el.setAttribute("lengthAdjust", "spacingAndGlyphs");
  } else {
    el.removeAttribute("textLength");
  }
}

const s = (tag, attrs, ...children) => h(`svg:${tag}`, attrs, ...children);

function pipe(id, d) {
  return s("path", { id, class: "pipe", d });
}

// The valves drawn on the lines, by the pad definition's actuator names: [x, y] on their pipe.
export const VALVES = {
  "GN2-FV-201": [200, 205],
  "LOX-FV-101": [300, 500],
  "RG1-FV-101": [400, 516],
  "DLG-FV-801": [750, 520],
};

/** A valve as a bow tie on its pipe; overview.js marks it with the state its signals say. */
function valve(name) {
  const [x, y] = VALVES[name];
  return s("g", { class: "valve", "data-device": name, transform: `translate(${x},${y})` },
    s("title", {}, name),
    s("path", { class: "valve-body", d: "M-10 -7 L10 7 V-7 L-10 7 Z" }));
}

function tank(id, x, y, w, ht, label) {
  return s("g", { class: "tank" },
    s("rect", { x, y, width: w, height: ht, rx: 8, class: "tank-shell" }),
    s("rect", { id, x: x + 2, y: y + ht - 2, width: w - 4, height: 0, class: "tank-fill",
      "data-top": y + 2, "data-height": ht - 4 }),
    s("text", { x: x + w / 2, y: y - 6, class: "mimic-label", "text-anchor": "middle" }, label));
}

function block(name, title) {
  const [x, y, width] = BLOCKS[name];
  const heading = s("text", { class: "block-title", x: BLOCK_PAD, y: 18 });
  fitText(heading, title, BLOCK_FONTS.title, width - 2 * BLOCK_PAD - 18);
  return s("g", { class: "sub-block", "data-block": name, "data-width": width,
    transform: `translate(${x},${y})`, tabindex: 0, role: "link", "aria-label": title },
  s("title", {}, title),
  s("rect", { class: "block-box", width, height: BLOCK_HEIGHT, rx: 3 }),
  heading,
  s("text", { class: "block-state", x: BLOCK_PAD, y: 37 }, ""),
  s("text", { class: "block-mode", x: BLOCK_PAD, y: 55 }, ""),
  s("g", { class: "block-alarm", transform: `translate(${width - 14},16)` }));
}

/** The widest a block's state or mode line may be drawn. */
export function blockTextWidth(name) {
  return BLOCKS[name][2] - 2 * BLOCK_PAD;
}

/** The whole drawing; `titles` maps subsystem names to their titles. */
export function drawMimic(titles) {
  const [px, py] = PIVOT;
  const clamps = [538, 548, 566, 576].map((x, i) =>
    s("rect", { id: `clamp-${i + 1}`, class: "clamp", x, y: 458, width: 7, height: 12 }));
  const blocks = Object.keys(BLOCKS).filter((name) => titles[name]).map((name) =>
    block(name, titles[name]));
  return s("svg", { class: "mimic", viewBox: "0 0 1100 640", role: "img",
    "aria-label": "pad overview" },
  s("defs", {},
    s("pattern", { id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse",
      patternTransform: "rotate(45)" }, s("rect", { width: 3, height: 6, class: "hatch" }))),
  s("line", { class: "ground", x1: 0, y1: 470, x2: 1100, y2: 470 }),
  // power: substation -> mast -> vehicle
  s("rect", { class: "equipment", x: 20, y: 14, width: 180, height: 40 }),
  s("text", { class: "mimic-label", x: 28, y: 39 }, "Substation, pad bus"),
  pipe("line-power", "M200 34 H462 V180"),
  pipe("line-vehicle-power", "M470 200 L545 215"),
  // gases and conditioning air
  ...[0, 1, 2, 3, 4, 5].map((i) => s("rect", { class: "equipment", x: 22 + i * 21, y: 162,
    width: 15, height: 70, rx: 6 })),
  s("text", { class: "mimic-label", x: 22, y: 155 }, "GN2 / GHe banks"),
  pipe("line-gas", "M150 205 H455"),
  s("rect", { class: "equipment", x: 250, y: 146, width: 150, height: 40 }),
  s("text", { class: "mimic-label", x: 257, y: 171 }, "Air conditioning"),
  pipe("line-air", "M400 166 H455"),
  // propellant storage and lines
  tank("fill-lox-storage", 40, 370, 90, 100, "LOX storage"),
  tank("fill-rg1-storage", 180, 390, 70, 80, "RG-1 storage"),
  pipe("line-lox", "M85 470 V500 H538 V488"),
  pipe("line-rg1", "M215 470 V516 H582 V488"),
  // launch table, trench, deluge
  s("rect", { class: "equipment", x: 500, y: 470, width: 120, height: 18 }),
  s("path", { class: "trench", d: "M520 488 V600 H600 V488" }),
  s("rect", { id: "trench-water", class: "water", x: 522, y: 598, width: 76, height: 0 }),
  tank("fill-deluge", 800, 500, 100, 70, "Deluge reservoir"),
  pipe("line-deluge", "M800 520 H600"),
  s("circle", { class: "equipment", cx: 700, cy: 520, r: 10 }),
  // cable mast with its umbilical arm
  s("rect", { class: "equipment", x: 455, y: 180, width: 15, height: 290 }),
  s("path", { id: "umbilical", class: "umbilical", d: "M470 210 L545 222" }),
  // erector arm (rotates about the pivot)
  s("g", { id: "erector", transform: "rotate(0 614 470)" },
    s("rect", { class: "erector", x: px - 9, y: 130, width: 18, height: 340 }),
    s("path", { class: "lattice", d: "M605 150 L623 190 M623 230 L605 270 M605 310 L623 350 M623 390 L605 430" })),
  s("circle", { class: "pivot", cx: px, cy: py, r: 5 }),
  // the vehicle: two stages with their tank levels, rotating with the erector while aboard
  s("g", { id: "vehicle", transform: "" },
    s("path", { id: "plume", class: "plume", d: "M550 470 L560 530 L570 470 Z", visibility: "hidden" }),
    s("rect", { class: "vehicle", x: 545, y: 160, width: 30, height: 310 }),
    s("path", { class: "vehicle", d: "M545 160 L560 118 L575 160 Z" }),
    s("rect", { id: "fill-veh-rg1", class: "tank-fill", x: 547, y: 470, width: 26, height: 0,
      "data-top": 380, "data-height": 88 }),
    s("rect", { id: "fill-veh-lox", class: "tank-fill", x: 547, y: 378, width: 26, height: 0,
      "data-top": 305, "data-height": 72 }),
    s("line", { class: "stage-line", x1: 545, y1: 300, x2: 575, y2: 300 })),
  ...clamps,
  ...Object.keys(VALVES).map(valve),
  s("text", { class: "mimic-label", x: 620, y: 500 }, "hold-downs"),
  s("rect", { class: "equipment", x: 880, y: 14, width: 200, height: 40 }),
  s("text", { class: "mimic-label", x: 888, y: 39 }, "Fire detection, agent"),
  ...blocks);
}
