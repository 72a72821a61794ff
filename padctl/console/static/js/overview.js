// The pad overview: the mimic, moved and marked from the live tags, and the key indicators.

import { priorityMark } from "./alarms.js";
import { h, setAttr, setClass, setText, words } from "./dom.js";
import { bandAt } from "./limits.js";
import { DeviceWatch, padDevices, stateWords } from "./devices.js";
import { BLOCKS, BLOCK_FONTS, PIVOT, VALVES, blockTextWidth, drawMimic, fitText } from "./mimic.js";
import { TrainingPanels } from "./panels.js";
import { AnalogBar, Sparkline, ValueCell } from "./widgets.js";

const KEY_TAGS = [
  "PWR-ET-841", "ERC-ZT-501", "LOX-LT-101", "RG1-LT-101", "LOX-PT-101", "GHE-PT-311",
  "GN2-PT-201", "TCA-TT-401", "DLG-LT-801", "DLG-FT-801", "HDC-PT-700", "VEH-PT-901",
];
const QUIET = new Set(["NORMAL", "SHELVED", "SUPPRESSED", "OUT_OF_SERVICE"]);
const SPARK_MIN_SPAN_S = 30; // a new console's sparklines span what it has seen, this at least
const FILLS = {
  "fill-lox-storage": "LOX-LT-001", "fill-rg1-storage": "RG1-LT-001",
  "fill-deluge": "DLG-LT-801", "fill-veh-lox": "LOX-LT-101", "fill-veh-rg1": "RG1-LT-101",
};
const LINES = {
  "line-power": ["PWR-CB-841-CLOSED"], "line-vehicle-power": ["PWR-CB-842-CLOSED"],
  "line-lox": ["LOX-FV-101-ZSO"], "line-rg1": ["RG1-FV-101-ZSO"], "line-gas": ["GN2-FV-201-ZSO"],
  "line-air": ["TCA-FAN-401-RUN"], "line-deluge": ["DLG-FV-801-ZSO"],
};

export class OverviewPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = h("section", { class: "page overview-page" });
    this.build();
    this.timer = setInterval(() => this.slide(), 1000);
  }

  destroy() {
    clearInterval(this.timer);
    this.panels?.destroy();
  }

  build() {
    const { store } = this.ctx;
    const titles = Object.fromEntries([...store.subsystems].map(([n, s]) => [n, s.title]));
    this.svg = drawMimic(titles);
    const devices = padDevices(store);
    this.valves = new DeviceWatch(store, Object.keys(VALVES).filter((name) => devices.has(name))
      .map((name) => devices.get(name)));
    for (const group of this.svg.querySelectorAll("[data-block]")) {
      const open = () => { location.hash = `#/subsystem/${group.dataset.block}`; };
      group.addEventListener("click", open);
      group.addEventListener("keydown", (event) => event.key === "Enter" && open());
    }
    this.indicators = new Map();
    const rows = KEY_TAGS.filter((n) => store.tags.has(n)).map((name) => {
      const item = { cell: new ValueCell(name), bar: new AnalogBar(), spark: new Sparkline(110, 22) };
      this.indicators.set(name, item);
      return h("tr", {}, h("td", { class: "tag-name", title: store.tags.get(name).description },
        name), h("td", {}, item.cell.el), h("td", {}, item.bar.el), h("td", {}, item.spark.el));
    });
    this.plcs = h("div", { class: "plcs" });
    this.authority = h("ul", { class: "authority-list", id: "authority-list" });
    this.panels?.destroy();
    this.panels = new TrainingPanels(this.ctx);
    this.el.replaceChildren(
      h("div", { class: "mimic-wrap panel" }, this.svg),
      h("aside", { class: "side" },
        h("section", { class: "panel key-values" }, h("h3", {}, "Key values"),
          h("table", { class: "tags compact" }, h("tbody", {}, rows)),
          h("h3", {}, "Authority"), this.authority,
          h("h3", {}, "PLC links"), this.plcs),
        this.panels.el),
    );
    this.renderBlocks();
    this.renderPlant();
    for (const name of this.indicators.keys()) this.renderIndicator(name);
    this.renderPlcs();
    this.slide();
  }

  update(changes) {
    if (changes.snapshot) {
      this.build();
      return;
    }
    if (changes.subsystems || changes.alarms) this.renderBlocks();
    if (changes.tags) {
      this.renderPlant();
      if (this.valves.concerns(changes.tags)) this.renderValves();
      for (const name of changes.tags) if (this.indicators.has(name)) this.renderIndicator(name);
    }
    if (changes.plcs) this.renderPlcs();
    this.panels.update(changes);
  }

  tag(name) {
    return this.ctx.store.tags.get(name);
  }

  good(name) {
    const tag = this.tag(name);
    return tag && tag.quality === "GOOD" ? tag.value : null;
  }

  renderBlocks() {
    const { store } = this.ctx;
    const me = store.user.name;
    for (const name of Object.keys(BLOCKS)) {
      const group = this.svg.querySelector(`[data-block="${name}"]`);
      const sub = store.subsystems.get(name);
      if (!group || !sub) continue;
      const width = blockTextWidth(name);
      fitText(group.querySelector(".block-state"), sub.state, BLOCK_FONTS.state, width);
      const mode = sub.busy ? `${words(sub.mode)} · ${words(sub.busy)}` : words(sub.mode);
      fitText(group.querySelector(".block-mode"), mode, BLOCK_FONTS.mode, width);
      setClass(group, "fault", sub.state === "FAULT");
      setClass(group, "stale", sub.stale_tags.length > 0);
      setClass(group, "mine", sub.authority === me);
      setAttr(group, "data-state", sub.state);
      const prefix = `${name.toUpperCase()}-`;
      const alarms = [...store.alarms.values()]
        .filter((a) => a.id.startsWith(prefix) && !QUIET.has(a.state))
        .sort((a, b) => b.priority_level - a.priority_level);
      const mark = group.querySelector(".block-alarm");
      const top = alarms[0];
      const key = top ? `${top.id}:${top.state}` : "";
      if (mark.dataset.key !== key) {
        mark.dataset.key = key;
        mark.replaceChildren();
        if (top) {
          const shape = priorityMark(top).textContent.slice(0, 1);
          mark.append(h("svg:text", { class: `alarm-shape prio-${top.priority.toLowerCase()}` +
            (top.state.endsWith("UNACK") ? " blink" : ""), "text-anchor": "middle", y: 4 }, shape));
        }
      }
      setClass(group, "alarmed", Boolean(top));
    }
    this.renderAuthority();
  }

  /** Who holds authority over what, once for the whole pad (the blocks do not repeat it). */
  renderAuthority() {
    const { store } = this.ctx;
    const me = store.user.name;
    const held = [...store.subsystems.values()].filter((sub) => sub.authority);
    const key = held.map((sub) => `${sub.name}:${sub.authority}`).join(",");
    if (this.authority.dataset.key === key) return;
    this.authority.dataset.key = key;
    this.authority.replaceChildren(...(held.length ? held.map((sub) =>
      h("li", { "data-authority": sub.name }, h("span", { class: "muted" }, `${sub.title}: `),
        sub.authority === me ? `${me} (you)` : sub.authority))
      : [h("li", { class: "muted" }, "No one holds authority over any subsystem.")]));
  }

  /** The valves on the lines, in the states their command and limit switches say. */
  renderValves() {
    for (const device of this.valves.devices) {
      const symbol = this.svg.querySelector(`[data-device="${device.name}"]`);
      const { state } = this.valves.read(device);
      setAttr(symbol, "data-state", state);
      setText(symbol.querySelector("title"), `${device.name} ${device.title}: ` +
        stateWords(device, state));
    }
  }

  renderPlant() {
    for (const [id, tag] of Object.entries(FILLS)) {
      const rect = this.svg.querySelector(`#${id}`);
      const value = this.good(tag);
      const level = typeof value === "number" ? Math.max(0, Math.min(100, value)) / 100 : 0;
      const height = Number(rect.dataset.height) * level;
      setAttr(rect, "height", height.toFixed(1));
      setAttr(rect, "y", (Number(rect.dataset.top) + Number(rect.dataset.height) - height).toFixed(1));
      setClass(rect, "unknown", value === null);
    }
    for (const [id, tags] of Object.entries(LINES)) {
      setClass(this.svg.querySelector(`#${id}`), "active", tags.every((t) => this.good(t) === true));
    }
    const angle = this.good("ERC-ZT-501");
    const [px, py] = PIVOT;
    const erector = this.svg.querySelector("#erector");
    if (typeof angle === "number") setAttr(erector, "transform", `rotate(${90 - angle} ${px} ${py})`);
    setClass(erector, "q-stale", typeof angle !== "number");
    const aboard = this.good("ERC-LK-513-LOCKED") === true || this.good("ERC-LK-514-LOCKED") === true;
    const contacts = [1, 2, 3].filter((n) => this.good(`VEH-LIFTOFF-${n}`) === true).length;
    const vehicle = this.svg.querySelector("#vehicle");
    const lifted = contacts >= 2;
    const transform = lifted ? "translate(0 -90)" : aboard && typeof angle === "number"
      ? `rotate(${90 - angle} ${px} ${py})` : "";
    setAttr(vehicle, "transform", transform);
    setAttr(this.svg.querySelector("#plume"), "visibility",
      lifted || this.good("VEH-THRUST-OK") === true ? "visible" : "hidden");
    setClass(this.svg.querySelector("#umbilical"), "retracted",
      this.good("CBM-M-601-CONNECTED") !== true);
    for (const n of [1, 2, 3, 4]) {
      const clamp = this.svg.querySelector(`#clamp-${n}`);
      const clamped = this.good(`HDC-M-70${n}-CLAMPED`);
      setClass(clamp, "released", clamped === false);
      setClass(clamp, "q-stale", clamped === null);
    }
    const flow = this.good("DLG-FT-801");
    const water = this.svg.querySelector("#trench-water");
    const depth = typeof flow === "number" ? Math.min(1, flow / 3000) * 60 : 0;
    setAttr(water, "height", depth.toFixed(1));
    setAttr(water, "y", (598 - depth).toFixed(1));
  }

  renderIndicator(name) {
    const item = this.indicators.get(name);
    const tag = this.tag(name);
    const count = this.ctx.store.countdown;
    item.cell.update(tag);
    item.bar.update(tag.value, tag.range, count ? bandAt(name, count.t_s) : null);
    if (performance.now() - (item.drawn || 0) > 250) this.drawSpark(name, item);
  }

  drawSpark(name, item) {
    const { store } = this.ctx;
    const to = store.padNow();
    // Span what this console has seen (at least SPARK_MIN_SPAN_S), up to the trends kept.
    const first = store.trends.since(name, -Infinity)[0];
    const seen = first ? to - first.t : 0;
    const from = to - Math.min(store.trends.keepSeconds, Math.max(SPARK_MIN_SPAN_S, seen));
    const t = store.countdown ? store.countdown.t_s : 0;
    item.spark.update(store.trends.since(name, from), from, to, this.tag(name).range,
      bandAt(name, t));
    item.drawn = performance.now();
  }

  slide() {
    this.renderValves(); // a stroke outlasting its time turns into a disagreement
    for (const [name, item] of this.indicators) this.drawSpark(name, item);
  }

  renderPlcs() {
    const plcs = this.ctx.store.plcs;
    this.plcs.replaceChildren(...Object.entries(plcs).map(([id, plc]) =>
      h("span", { class: "plc" + (plc.fresh ? "" : " stale"), "data-plc": id,
        title: `${plc.protocol || ""} age ${plc.age_s} s (stale after ${plc.stale_after_s} s)` },
      id, plc.fresh ? "" : " STALE")));
  }
}
