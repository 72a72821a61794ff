// A subsystem page: state, mode and authority; its commands; its tags with bars and trends.

import { armFor, armRemaining, armRole, cancelArm, confirmArm } from "./arms.js";
import { h, setClass, setText, valueText, words } from "./dom.js";
import { DeviceTable } from "./devices.js";
import { bandAt } from "./limits.js";
import { LongTrends, SPANS } from "./longtrends.js";
import { AnalogBar, Sparkline, ValueCell } from "./widgets.js";

const MODES = ["AUTO", "MANUAL", "OUT_OF_SERVICE"];

export class SubsystemPage {
  constructor(ctx, name) {
    this.ctx = ctx;
    this.name = name;
    this.el = h("section", { class: "page subsystem-page", "data-subsystem": name });
    this.rows = new Map();
    this.build();
    this.timer = setInterval(() => this.tick(), 250);
  }

  destroy() {
    clearInterval(this.timer);
  }

  get sub() {
    return this.ctx.store.subsystems.get(this.name);
  }

  build() {
    const { store } = this.ctx;
    this.el.replaceChildren();
    this.rows.clear();
    const sub = this.sub;
    if (!sub) {
      this.el.append(h("p", { class: "muted" }, `No subsystem ${this.name}.`));
      return;
    }
    this.head = {
      state: h("span", { class: "sub-state", id: "sub-state" }),
      mode: h("span", { class: "sub-mode" }),
      busy: h("span", { class: "sub-busy" }),
      unsafe: h("span", { class: "sub-unsafe" }),
      fault: h("div", { class: "sub-fault" }),
      holder: h("span", { class: "sub-holder", id: "sub-holder" }),
      stale: h("div", { class: "sub-stale" }),
    };
    const reason = h("input", { class: "input", placeholder: "reason to safe", size: 18 });
    this.el.append(
      h("header", { class: "sub-head" },
        h("h2", {}, sub.title),
        h("div", { class: "sub-status" }, h("span", { class: "label" }, "State"), this.head.state,
          h("span", { class: "label" }, "Mode"), this.head.mode, this.head.busy, this.head.unsafe)),
      this.head.fault,
      this.head.stale,
      h("div", { class: "toolbar" },
        h("span", { class: "label" }, "Authority"), this.head.holder,
        this.button("Take authority", "authority.take", { subsystem: this.name }, "take-authority"),
        this.button("Release", "authority.release", { subsystem: this.name }, "release-authority"),
        h("span", { class: "sep" }),
        h("span", { class: "label" }, "Mode"),
        ...MODES.map((mode) =>
          this.button(words(mode), "subsystem.mode", { subsystem: this.name, mode })),
        h("span", { class: "sep" }),
        this.button("Reset", "subsystem.reset", { subsystem: this.name }),
        reason,
        h("button", { class: "btn", onclick: () => this.safe(reason) }, "Safe")),
      (this.commandsEl = h("div", { class: "commands" })),
    );
    const numbers = sub.tags.filter((n) => typeof store.tags.get(n)?.value !== "boolean"
      && store.tags.get(n)?.range);
    const switches = sub.tags.filter((n) => !numbers.includes(n));
    this.long = new LongTrends(store, numbers, () => this.drawSpans());
    const devices = sub.devices || [];
    this.devices = devices.length ? new DeviceTable(store, devices) : null;
    if (this.devices) {
      this.el.append(h("section", { class: "panel devices-panel" }, h("h3", {}, "Devices"),
        this.devices.el));
    }
    // The raw signals (every switch, command and feedback) on demand when devices show them.
    const signals = this.table("Switches and outputs", switches, false);
    this.el.append(this.table("Measurements", numbers, true),
      h("details", { class: "raw-signals", open: !this.devices },
        h("summary", {}, `All signals (${switches.length} switches, commands and outputs)`),
        signals));
    this.renderHead();
    this.renderCommands();
    for (const name of sub.tags) this.renderRow(name);
    this.tick();
  }

  button(label, command, args, id) {
    return h("button", { class: "btn", id, "data-command": command,
      onclick: () => this.ctx.link.send(command, args, `${this.name}: ${label}`) }, label);
  }

  safe(input) {
    const reason = input.value.trim();
    if (!reason) {
      this.ctx.messages.note(`${this.name}: safe needs a reason (not sent)`);
      input.focus();
      return;
    }
    this.ctx.link.send("subsystem.safe", { subsystem: this.name, reason }, `${this.name}: safe`);
  }

  table(title, names, analog) {
    const body = h("tbody");
    for (const name of names) {
      const tag = this.ctx.store.tags.get(name);
      const cell = new ValueCell(name);
      const row = { cell, tr: null, band: h("td", { class: "band-text" }) };
      const cells = [
        h("td", { class: "tag-name" }, h("div", {}, name), h("div", { class: "desc" },
          tag.description || "")),
        h("td", {}, cell.el),
      ];
      if (analog) {
        row.bar = new AnalogBar();
        row.spark = new Sparkline();
        cells.push(h("td", {}, row.bar.el), h("td", {}, row.spark.el));
      }
      cells.push(row.band, h("td", { class: "muted" }, tag.writable ? "output" : ""));
      row.tr = h("tr", { "data-row": name }, cells);
      this.rows.set(name, row);
      body.append(row.tr);
    }
    const heads = analog ? ["Tag", "Value", "Range and normal band", "Trend", "LCC", ""]
      : ["Tag", "State", "Expected", ""];
    return h("section", { class: "panel" }, h("h3", {}, title), analog ? this.spanPicker() : null,
      h("table", { class: "tags" }, h("thead", {}, h("tr", {}, heads.map((x) => h("th", {}, x)))),
        body));
  }

  /** The trend span buttons; hidden when the server keeps no tag history. */
  spanPicker() {
    this.spanButtons = SPANS.map((span) => h("button", {
      class: "btn" + (span === this.long.span ? " on" : ""), "data-span": span.label,
      onclick: () => {
        this.long.select(span);
        this.drawSpans();
      },
    }, span.label));
    this.spanNote = h("span", { class: "muted span-note" });
    return h("div", { class: "toolbar trend-spans", hidden: !this.ctx.store.config?.history },
      h("span", { class: "label" }, "Trend span"), ...this.spanButtons, this.spanNote);
  }

  drawSpans() {
    for (const button of this.spanButtons || []) {
      setClass(button, "on", button.dataset.span === this.long.span.label);
    }
    setText(this.spanNote, this.long.error || (this.long.loading ? "loading history..." : ""));
    for (const [name, row] of this.rows) if (row.spark) this.drawSpark(name, row);
  }

  renderHead() {
    const sub = this.sub;
    const me = this.ctx.store.user.name;
    setText(this.head.state, sub.state);
    setClass(this.head.state, "fault", sub.state === "FAULT");
    setText(this.head.mode, words(sub.mode));
    setText(this.head.busy, sub.busy ? `running ${words(sub.busy)}` : "");
    setText(this.head.unsafe, sub.safed ? "" : "safing not proven");
    this.head.unsafe.hidden = sub.safed;
    setText(this.head.fault, sub.last_fault ? `Last fault: ${sub.last_fault}` : "");
    this.head.fault.hidden = !sub.last_fault;
    setText(this.head.holder, sub.authority ? sub.authority + (sub.authority === me ? " (you)" : "")
      : "nobody");
    setClass(this.head.holder, "mine", sub.authority === me);
    this.head.stale.hidden = sub.stale_tags.length === 0;
    const named = sub.stale_tags.slice(0, 6).join(", ");
    const more = sub.stale_tags.length > 6 ? ` and ${sub.stale_tags.length - 6} more` : "";
    setText(this.head.stale, `STALE data, commands refused: ${named}${more}`);
    const user = this.ctx.store.user;
    const mayTake = user.role === "subsystem_operator" && user.subsystems.includes(this.name);
    for (const button of this.el.querySelectorAll("button[data-command]")) {
      const command = button.dataset.command;
      let likely = this.ctx.store.permitted(command);
      if (command === "authority.take") likely = mayTake && !sub.authority;
      if (command === "authority.release") likely = sub.authority === me || user.role === "admin";
      if (command === "subsystem.mode" || command === "subsystem.reset") {
        likely = sub.authority === me;
      }
      setClass(button, "unlikely", !likely);
    }
  }

  renderCommands() {
    const { store, link } = this.ctx;
    const sub = this.sub;
    this.commandsEl.replaceChildren();
    this.armButtons = [];
    const mine = sub.authority === store.user.name && store.permitted("subsystem.command");
    for (const command of sub.commands) {
      const args = { subsystem: this.name, name: command.name };
      const arm = armFor(store, "subsystem.command", args);
      const fromHere = command.sources.includes(sub.state);
      const badges = [];
      if (command.hazardous) badges.push(h("span", { class: "badge" }, "2-step"));
      if (command.second_person) badges.push(h("span", { class: "badge" }, "2-person"));
      const main = h("button", {
        class: "btn cmd" + (mine && fromHere ? "" : " unlikely") + (arm ? " armed" : ""),
        "data-cmd": command.name,
        title: `${command.description} (from ${command.sources.join(", ")})`,
        onclick: () => link.send("subsystem.command", args, `${this.name}.${command.name}`),
      }, words(command.name), ...badges);
      const box = h("div", { class: "cmd-box" }, main);
      if (arm) {
        const role = armRole(store, arm);
        const left = h("span", { class: "arm-left" });
        this.armButtons.push({ arm, left });
        box.append(h("span", { class: "arm-mark" }, "ARMED"), left);
        if (role.canConfirm) {
          box.append(h("button", { class: "btn btn-confirm", "data-confirm": command.name,
            onclick: () => confirmArm(link, arm) }, "Confirm"));
        } else {
          box.append(h("span", { class: "muted" }, arm.second_person
            ? "awaiting a second person" : `armed by ${arm.armed_by}`));
        }
        if (role.canCancel) {
          box.append(h("button", { class: "btn", onclick: () => cancelArm(link, arm) }, "Cancel"));
        }
      }
      this.commandsEl.append(box);
    }
  }

  renderRow(name) {
    const row = this.rows.get(name);
    const tag = this.ctx.store.tags.get(name);
    if (!row || !tag) return;
    row.cell.update(tag);
    const count = this.ctx.store.countdown;
    const band = count ? bandAt(name, count.t_s) : null;
    if (row.bar) {
      row.bar.update(tag.value, tag.range, band);
      const limits = band ? [band.low, band.high].map((x) => (x === null ? "" : valueText(x, tag.range)))
        : null;
      setText(row.band, band ? `${limits[0]} – ${limits[1]}` : "");
    } else {
      const expected = band && band.equals !== null ? (band.equals ? "TRUE" : "FALSE") : "";
      setText(row.band, expected);
      setClass(row.tr, "deviates", Boolean(expected) && tag.quality === "GOOD"
        && tag.value !== band.equals);
    }
    if (band) row.band.title = band.ids.join(", ");
    if (row.spark && performance.now() - (row.drawn || 0) > 250) this.drawSpark(name, row);
  }

  drawSpark(name, row) {
    const { store } = this.ctx;
    const t = store.countdown ? store.countdown.t_s : 0;
    const long = this.long?.view(name);
    if (long) {
      row.spark.update(long.points, long.from, long.to, store.tags.get(name).range,
        bandAt(name, t));
      row.drawn = performance.now();
      return;
    }
    const to = store.padNow();
    const from = to - store.trends.keepSeconds;
    row.spark.update(store.trends.since(name, from), from, to, store.tags.get(name).range,
      bandAt(name, t));
    row.drawn = performance.now();
  }

  update(changes) {
    if (changes.snapshot) {
      this.build();
      return;
    }
    if (changes.subsystems && changes.subsystems.has(this.name)) {
      this.renderHead();
      this.renderCommands();
    } else if (changes.arms) {
      this.renderCommands();
    }
    if (changes.tags) {
      for (const name of changes.tags) if (this.rows.has(name)) this.renderRow(name);
      if (this.devices?.concerns(changes.tags)) this.devices.render();
    }
  }

  tick() {
    const { store } = this.ctx;
    for (const { arm, left } of this.armButtons || []) {
      setText(left, `${armRemaining(store, arm).toFixed(1)} s`);
    }
    this.devices?.render(); // a stroke outlasting its time turns into a disagreement
    this.sparkTick = ((this.sparkTick || 0) + 1) % 4; // trends slide once a second
    if (this.sparkTick !== 0) return;
    this.long?.refreshIfOld();
    for (const [name, row] of this.rows) if (row.spark) this.drawSpark(name, row);
  }
}
