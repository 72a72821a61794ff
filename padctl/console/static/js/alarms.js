// The alarm list (ISA-18.2): priority, when it occurred and was acknowledged (UTC wall time and
// the count's T then, as the server read them), state; acknowledge, shelve with a note (an
// active alarm of a subsystem this user holds, or any for a safety officer, up to the pad's
// limit), unshelve; out of service and back (admin, with a note).

import { duration, h, setClass, setText, timeOfDay } from "./dom.js";

const UNACKED = new Set(["UNACK", "RTN_UNACK"]);
const QUIET = new Set(["NORMAL"]);
const SHAPES = { URGENT: "◆", HIGH: "▲", MEDIUM: "■", LOW: "●" };
const SHELVE_CHOICES_S = [
  ["5 min", 300], ["15 min", 900], ["1 h", 3600], ["2 h", 7200], ["4 h", 14400], ["8 h", 28800],
];
const ACTIVE = new Set(["UNACK", "ACKED", "RTN_UNACK"]);

/** A moment of an alarm: `17:03:12 UTC` (real wall time) and `T-00:04:10` (the count's T). */
export function momentCell(wallS, tText, who, cls) {
  if (wallS === null || wallS === undefined) return h("td", { class: `mono ${cls}` }, "—");
  return h("td", { class: `mono ${cls}` },
    h("span", { class: "utc" }, `${timeOfDay(wallS)} UTC`),
    tText ? h("div", { class: "t-time" }, tText) : null,
    who ? h("div", { class: "desc by" }, `by ${who}`) : null);
}

/** The subsystem whose event alarm this is (`HOLD_DOWNS-FAULT`: hold_downs), or null. */
export function subsystemOfAlarm(store, alarmId) {
  for (const name of store.subsystems.keys()) {
    if (alarmId.startsWith(name.toUpperCase() + "-")) return name;
  }
  return null;
}

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

/** The service command an alarm's row offers: back in service, or out of it. */
function serviceCommand(alarm) {
  return alarm.state === "OUT_OF_SERVICE" ? "alarm.in_service" : "alarm.out_of_service";
}

export class AlarmPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.showAll = false;
    this.forms = new Map(); // alarm id + form kind -> its form (a note being typed survives)
    this.el = h("section", { class: "page alarms-page" });
    this.body = h("tbody");
    const toggle = h("input", { type: "checkbox", id: "alarms-all",
      onchange: () => { this.showAll = toggle.checked; this.render(); } });
    this.el.append(
      h("div", { class: "toolbar" }, h("h2", {}, "Alarms"),
        h("label", {}, toggle, " show alarms in NORMAL too")),
      h("table", { class: "alarms" },
        h("thead", {}, h("tr", {}, ["Priority", "Occurred", "Acknowledged", "Alarm", "State",
          "Actions"].map((x) => h("th", {}, x)))),
        this.body),
    );
    this.render();
    this.timer = setInterval(() => this.tickShelves(), 1000);
  }

  destroy() {
    clearInterval(this.timer);
  }

  update(changes) {
    if (changes.snapshot || changes.alarms || changes.subsystems) this.render();
  }

  render() {
    const alarms = sortedAlarms(this.ctx.store).filter((a) => this.showAll || !QUIET.has(a.state));
    const kept = new Set(alarms.flatMap((a) => [`shelve:${a.id}`, `${serviceCommand(a)}:${a.id}`]));
    for (const key of this.forms.keys()) if (!kept.has(key)) this.forms.delete(key);
    this.body.replaceChildren();
    if (alarms.length === 0) {
      this.body.append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No alarms.")));
    }
    for (const alarm of alarms) {
      const outOfService = alarm.state === "OUT_OF_SERVICE";
      const row = h("tr", { "data-alarm": alarm.id, "data-state": alarm.state,
        class: `alarm-row alarm-${alarm.priority.toLowerCase()}` + (UNACKED.has(alarm.state)
          ? " unack" : "") },
      h("td", {}, priorityMark(alarm)),
      momentCell(alarm.occurred_wall, alarm.occurred_t_text, "", "alarm-occurred"),
      momentCell(alarm.acknowledged_wall, alarm.acknowledged_t_text, alarm.acknowledged_by,
        "alarm-acked"),
      h("td", {}, h("div", { class: "alarm-message" }, alarm.message),
        alarm.detail ? h("div", { class: "desc" }, alarm.detail) : null),
      h("td", { class: "alarm-state" }, alarm.state.replaceAll("_", " "),
        alarm.state === "SHELVED" ? h("div", { class: "desc shelf-left",
          "data-until": alarm.shelved_until }) : null,
        outOfService ? h("div", { class: "desc service-note" },
          `by ${alarm.out_of_service_by}: ${alarm.out_of_service_note}`) : null),
      h("td", { class: "actions" }, this.actions(alarm)));
      this.body.append(row);
    }
    this.tickShelves();
  }

  /** What this user may do here: the server decides, the page offers only what it would take. */
  mayShelve(alarm) {
    const { store } = this.ctx;
    if (!ACTIVE.has(alarm.state) || !store.permitted("alarm.shelve")) return false;
    if (store.user.role === "safety_officer") return true;
    const subsystem = subsystemOfAlarm(store, alarm.id);
    return subsystem !== null && store.subsystems.get(subsystem)?.authority === store.user.name;
  }

  actions(alarm) {
    const { link, store } = this.ctx;
    const parts = [];
    if (UNACKED.has(alarm.state) && store.permitted("alarm.acknowledge")) {
      parts.push(h("button", { class: "btn", "data-action": "ack", onclick: () =>
        link.send("alarm.acknowledge", { alarm_id: alarm.id, note: "" },
          `acknowledge ${alarm.id}`) }, "Acknowledge"));
    }
    if (alarm.state === "SHELVED" && store.permitted("alarm.unshelve")) {
      parts.push(h("button", { class: "btn", "data-action": "unshelve", onclick: () =>
        link.send("alarm.unshelve", { alarm_id: alarm.id, note: "" }, `unshelve ${alarm.id}`) },
      "Unshelve"));
    } else if (this.mayShelve(alarm)) {
      parts.push(this.form(`shelve:${alarm.id}`, () => this.shelveForm(alarm)));
    }
    const service = serviceCommand(alarm);
    if (store.permitted(service)) {
      parts.push(this.form(`${service}:${alarm.id}`, () => this.serviceForm(alarm, service)));
    }
    return parts;
  }

  form(key, make) {
    if (!this.forms.has(key)) this.forms.set(key, make());
    return this.forms.get(key);
  }

  noteField(placeholder) {
    return h("input", { class: "input", "data-field": "note", placeholder, size: 22 });
  }

  /** Send `command` with the note typed in `note`; nothing is sent without one. */
  sendWithNote(note, command, args, label) {
    const text = note.value.trim();
    if (!text) {
      this.ctx.messages.note(`${label}: a note is required (not sent)`);
      note.focus();
      return;
    }
    this.ctx.link.send(command, { ...args, note: text }, label).then((answer) => {
      if (answer.type === "accepted") note.value = "";
    });
  }

  shelveForm(alarm) {
    const longest = this.ctx.store.config?.max_shelve_s ?? 7200;
    const select = h("select", { class: "input", "data-field": "duration" },
      SHELVE_CHOICES_S.filter(([, seconds]) => seconds <= longest).map(([label, seconds]) =>
        h("option", { value: seconds }, label)));
    const note = this.noteField("note (required)");
    const shelve = () => this.sendWithNote(note, "alarm.shelve",
      { alarm_id: alarm.id, duration_s: Number(select.value) }, `shelve ${alarm.id}`);
    return h("span", { class: "shelve-form" }, select, note,
      h("button", { class: "btn", "data-action": "shelve", onclick: shelve }, "Shelve"));
  }

  serviceForm(alarm, command) {
    const out = command === "alarm.out_of_service";
    const note = this.noteField(out ? "why out of service (required)" : "note (required)");
    const label = `${out ? "out of service" : "back in service"} ${alarm.id}`;
    return h("span", { class: "service-form" }, note,
      h("button", { class: "btn", "data-action": out ? "out-of-service" : "in-service",
        onclick: () => this.sendWithNote(note, command, { alarm_id: alarm.id }, label) },
      out ? "Out of service" : "Return to service"));
  }

  tickShelves() {
    const now = this.ctx.store.padNow();
    for (const el of this.el.querySelectorAll(".shelf-left")) {
      setText(el, `for ${duration(Number(el.dataset.until) - now)} more`);
    }
  }
}
