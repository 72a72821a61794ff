// The alarm list (ISA-18.2): priority, time, state; acknowledge, shelve with a note, unshelve.

import { duration, h, setClass, setText, timeOfDay } from "./dom.js";

const UNACKED = new Set(["UNACK", "RTN_UNACK"]);
const QUIET = new Set(["NORMAL"]);
const SHAPES = { URGENT: "◆", HIGH: "▲", MEDIUM: "■", LOW: "●" };
const SHELVE_CHOICES_S = [
  ["5 min", 300], ["15 min", 900], ["1 h", 3600], ["4 h", 14400], ["8 h", 28800],
];

/** Alarms most urgent first, newest first within a priority. */
export function sortedAlarms(store) {
  return [...store.alarms.values()].sort(
    (a, b) => b.priority_level - a.priority_level
      || (b.occurred ?? b.since) - (a.occurred ?? a.since),
  );
}

export function priorityMark(alarm) {
  return h("span", { class: `prio prio-${alarm.priority.toLowerCase()}`,
    title: `priority ${alarm.priority}` }, SHAPES[alarm.priority] || "?", " ", alarm.priority);
}

/** The banner line under the clock: the most urgent alarm waiting for acknowledgement. */
export class AlarmBanner {
  constructor(store, root) {
    this.store = store;
    this.root = root;
    store.subscribe((changes) => {
      if (changes.snapshot || changes.alarms) this.render();
    });
  }

  render() {
    const alarms = sortedAlarms(this.store);
    const unacked = alarms.filter((a) => UNACKED.has(a.state));
    const active = alarms.filter((a) => a.condition_active && !["SHELVED", "SUPPRESSED",
      "OUT_OF_SERVICE"].includes(a.state));
    const top = unacked[0];
    this.root.replaceChildren(
      h("a", { href: "#/alarms", class: "banner-link" },
        top ? [priorityMark(top), " ", h("b", {}, top.message), " ", top.detail ? `— ${top.detail}` : ""]
          : h("span", { class: "muted" }, "No alarm waiting for acknowledgement")),
      h("span", { class: "banner-counts" },
        `${unacked.length} unacknowledged · ${active.length} active`),
    );
    setClass(this.root, "has-unack", Boolean(top));
    if (top) this.root.dataset.priority = top.priority.toLowerCase();
    else delete this.root.dataset.priority;
  }
}

export class AlarmPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.showAll = false;
    this.forms = new Map(); // alarm id -> its shelve form
    this.el = h("section", { class: "page alarms-page" });
    this.body = h("tbody");
    const toggle = h("input", { type: "checkbox", id: "alarms-all",
      onchange: () => { this.showAll = toggle.checked; this.render(); } });
    this.el.append(
      h("div", { class: "toolbar" }, h("h2", {}, "Alarms"),
        h("label", {}, toggle, " show alarms in NORMAL too")),
      h("table", { class: "alarms" },
        h("thead", {}, h("tr", {}, ["Priority", "Time", "Alarm", "State", "Actions"].map(
          (x) => h("th", {}, x)))),
        this.body),
    );
    this.render();
    this.timer = setInterval(() => this.tickShelves(), 1000);
  }

  destroy() {
    clearInterval(this.timer);
  }

  update(changes) {
    if (changes.snapshot || changes.alarms) this.render();
  }

  render() {
    const alarms = sortedAlarms(this.ctx.store).filter((a) => this.showAll || !QUIET.has(a.state));
    const shown = new Set(alarms.map((a) => a.id));
    for (const id of this.forms.keys()) if (!shown.has(id)) this.forms.delete(id);
    this.body.replaceChildren();
    if (alarms.length === 0) {
      this.body.append(h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No alarms.")));
    }
    for (const alarm of alarms) {
      const row = h("tr", { "data-alarm": alarm.id, "data-state": alarm.state,
        class: `alarm-row alarm-${alarm.priority.toLowerCase()}` + (UNACKED.has(alarm.state)
          ? " unack" : "") },
      h("td", {}, priorityMark(alarm)),
      h("td", { class: "mono alarm-time" }, timeOfDay(alarm.occurred ?? alarm.since),
        alarm.acknowledged ? h("div", { class: "desc" },
          `ack ${timeOfDay(alarm.acknowledged)} ${alarm.acknowledged_by}`) : null),
      h("td", {}, h("div", { class: "alarm-message" }, alarm.message),
        alarm.detail ? h("div", { class: "desc" }, alarm.detail) : null),
      h("td", { class: "alarm-state" }, alarm.state.replaceAll("_", " "),
        alarm.state === "SHELVED" ? h("div", { class: "desc shelf-left",
          "data-until": alarm.shelved_until }) : null),
      h("td", { class: "actions" }, this.actions(alarm)));
      this.body.append(row);
    }
    this.tickShelves();
  }

  actions(alarm) {
    const { link } = this.ctx;
    const parts = [];
    if (UNACKED.has(alarm.state)) {
      parts.push(h("button", { class: "btn", "data-action": "ack", onclick: () =>
        link.send("alarm.acknowledge", { alarm_id: alarm.id, note: "" },
          `acknowledge ${alarm.id}`) }, "Acknowledge"));
    }
    if (alarm.state === "SHELVED") {
      parts.push(h("button", { class: "btn", "data-action": "unshelve", onclick: () =>
        link.send("alarm.unshelve", { alarm_id: alarm.id, note: "" }, `unshelve ${alarm.id}`) },
      "Unshelve"));
    } else if (alarm.state !== "NORMAL" || alarm.condition_active) {
      // The same form across redraws: a note being typed survives the updates.
      if (!this.forms.has(alarm.id)) this.forms.set(alarm.id, this.shelveForm(alarm));
      parts.push(this.forms.get(alarm.id));
    }
    return parts;
  }

  shelveForm(alarm) {
    const select = h("select", { class: "input", "data-field": "duration" },
      SHELVE_CHOICES_S.map(([label, seconds]) => h("option", { value: seconds }, label)));
    const note = h("input", { class: "input", "data-field": "note", placeholder: "note (required)",
      size: 22 });
    const shelve = () => {
      const text = note.value.trim();
      if (!text) {
        this.ctx.messages.note(`shelve ${alarm.id}: a note is required (not sent)`);
        note.focus();
        return;
      }
      this.ctx.link.send("alarm.shelve",
        { alarm_id: alarm.id, duration_s: Number(select.value), note: text },
        `shelve ${alarm.id}`).then((answer) => {
        if (answer.type === "accepted") note.value = "";
      });
    };
    return h("span", { class: "shelve-form" }, select, note,
      h("button", { class: "btn", "data-action": "shelve", onclick: shelve }, "Shelve"));
  }

  tickShelves() {
    const now = this.ctx.store.padNow();
    for (const el of this.el.querySelectorAll(".shelf-left")) {
      setText(el, `for ${duration(Number(el.dataset.until) - now)} more`);
    }
  }
}
