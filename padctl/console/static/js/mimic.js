// The pad mimic's drawing: equipment shapes and one status block per subsystem, as SVG.
// overview.js moves and marks them from the live tags; nothing here knows the state.

import { h } from "./dom.js";

export const PIVOT = [614, 470]; // erector pivot; the vehicle rotates about it while aboard
const BLOCK_WIDTH = 186;

// Where each subsystem's status block stands, near its equipment.
export const BLOCKS = {
  ground_power: [20, 70],
  gas_supply: [20, 240],
  thermal_conditioning: [180, 215],
  vehicle_interface: [370, 60],
  cable_mast: [262, 300],
  fire_suppression: [905, 80],
  erector: [780, 200],
  lox_loading: [20, 540],
  kerosene_loading: [180, 540],
  hold_downs: [640, 580],
  water_deluge: [905, 500],
};

const s = (tag, attrs, ...children) => h(`svg:${tag}`, attrs, ...children);

function pipe(id, d) {
  return s("path", { id, class: "pipe", d });
}

function tank(id, x, y, w, ht, label) {
  return s("g", { class: "tank" },
    s("rect", { x, y, width: w, height: ht, rx: 8, class: "tank-shell" }),
    s("rect", { id, x: x + 2, y: y + ht - 2, width: w - 4, height: 0, class: "tank-fill",
      "data-top": y + 2, "data-height": ht - 4 }),
    s("text", { x: x + w / 2, y: y - 6, class: "mimic-label", "text-anchor": "middle" }, label));
}

function block(name, title) {
  const [x, y] = BLOCKS[name];
  return s("g", { class: "sub-block", "data-block": name, transform: `translate(${x},${y})`,
    tabindex: 0, role: "link" },
  s("rect", { class: "block-box", width: BLOCK_WIDTH, height: 50, rx: 3 }),
  s("text", { class: "block-title", x: 6, y: 14, ...(title.length > 26
    ? { textLength: BLOCK_WIDTH - 26, lengthAdjust: "spacingAndGlyphs" } : {}) }, title),
  s("text", { class: "block-state", x: 6, y: 29 }, ""),
  s("text", { class: "block-mode", x: 6, y: 43 }, ""),
  s("g", { class: "block-alarm", transform: `translate(${BLOCK_WIDTH - 12},14)` }));
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
  s("rect", { class: "equipment", x: 20, y: 20, width: 140, height: 40 }),
  s("text", { class: "mimic-label", x: 28, y: 44 }, "Substation, pad bus"),
  pipe("line-power", "M160 40 H462 V180"),
  pipe("line-vehicle-power", "M470 200 L545 215"),
  // gases and conditioning air
  ...[0, 1, 2, 3, 4, 5].map((i) => s("rect", { class: "equipment", x: 22 + i * 21, y: 150,
    width: 15, height: 70, rx: 6 })),
  s("text", { class: "mimic-label", x: 22, y: 144 }, "GN2 / GHe banks"),
  pipe("line-gas", "M150 195 H455"),
  s("rect", { class: "equipment", x: 200, y: 150, width: 112, height: 40 }),
  s("text", { class: "mimic-label", x: 206, y: 174 }, "Air conditioning"),
  pipe("line-air", "M312 170 H455"),
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
  s("text", { class: "mimic-label", x: 620, y: 500 }, "hold-downs"),
  s("rect", { class: "equipment", x: 905, y: 20, width: 150, height: 40 }),
  s("text", { class: "mimic-label", x: 912, y: 44 }, "Fire detection, agent"),
  ...blocks);
}
