// Devices (valves, pumps, locks, breakers) from their command and feedback signals: the state
// each one is in, derived here from the pad definition's actuators the snapshot carries.

import { h, setAttr, setText } from "./dom.js";

/**
 * A device's state from its signals: "on" / "off" (at the commanded end), "travelling" (on
 * its way, within its stroke time), "disagree" (command and position differ past the stroke
 * time), "fault" (both limit switches made, or between them past the stroke time) or
 * "unknown" (a signal missing or not GOOD).
 * `signals` {command, on, off}: tags {value, quality} (`off` null when the device has no
 * off-position switch); `sinceCommandS`: pad seconds since the command last changed (Infinity
 * when not seen changing); `timeoutS`: the longest stroke.
 */
export function deviceState(signals, sinceCommandS, timeoutS) {
  const { command, on, off } = signals;
  const parts = off === null ? [command, on] : [command, on, off];
  if (parts.some((tag) => !tag || tag.quality !== "GOOD" || typeof tag.value !== "boolean")) {
    return "unknown";
  }
  const atOn = on.value && (off === null || !off.value);
  const atOff = off === null ? !on.value : off.value && !on.value;
  if (off !== null && on.value && off.value) return "fault";
  const stroking = sinceCommandS <= timeoutS;
  if ((command.value && atOn) || (!command.value && atOff)) return command.value ? "on" : "off";
  if (!atOn && !atOff) return stroking ? "travelling" : "fault"; // between the limit switches
  return stroking ? "travelling" : "disagree"; // at the other end from the command
}

/**
 * A mechanism's state from its position switches and commands ({position: tag} each):
 * {state, position}. "on" at an end no command drives it away from, "travelling" toward a
 * commanded end (within `timeoutS`), "disagree" still away from it past that time, "fault"
 * with two ends made or between them uncommanded, "unknown" when a signal is not GOOD.
 */
export function mechanismState(positions, commands, sinceCommandS, timeoutS) {
  const tags = [...Object.values(positions), ...Object.values(commands)];
  if (tags.some((tag) => !tag || tag.quality !== "GOOD" || typeof tag.value !== "boolean")) {
    return { state: "unknown", position: null };
  }
  const made = Object.keys(positions).filter((p) => positions[p].value);
  const driven = Object.keys(commands).filter((p) => commands[p].value);
  if (made.length > 1) return { state: "fault", position: null };
  const position = made[0] || null;
  if (driven.length === 0 || driven.includes(position)) {
    return { state: position ? "on" : "fault", position };
  }
  return { state: sinceCommandS <= timeoutS ? "travelling" : "disagree", position };
}

/** The words a device's state is shown with. */
export function stateWords(device, state, position = null) {
  if (device.kind === "mechanism") {
    return {
      on: position, travelling: `moving${position ? ` from ${position}` : ""}`,
      disagree: "command/position disagree",
      fault: position === null ? "fault: no single end made" : "fault", unknown: "no good data",
    }[state];
  }
  return {
    on: device.on_word,
    off: device.off_word,
    travelling: device.kind === "motor" ? "changing" : "travelling",
    disagree: "command/position disagree",
    fault: device.off_feedback ? "fault: position switches" : "fault",
    unknown: "no good data",
  }[state];
}

/** The states of some devices, tracking when each one's command last changed. */
export class DeviceWatch {
  constructor(store, devices) {
    this.store = store;
    this.devices = devices;
    this.changed = new Map(); // device name -> {value, t}: when its command was seen changing
  }

  /** Whether a change of these tags concerns the devices. */
  concerns(tags) {
    return this.devices.some((d) => signalNames(d).some((name) => tags.has(name)));
  }

  /** Pad seconds since `value` (what commands the device) was seen changing. */
  since(device, value) {
    const now = this.store.padNow();
    const seen = this.changed.get(device.name);
    if (!seen || value !== seen.value) {
      this.changed.set(device.name, { value, t: seen ? now : -Infinity });
    }
    return now - this.changed.get(device.name).t;
  }

  /** The device's signals now, and its state (and a mechanism's position) derived from them. */
  read(device) {
    const { tags } = this.store;
    if (device.kind === "mechanism") {
      const pick = (map) => Object.fromEntries(Object.entries(map).map(([p, n]) => [p, tags.get(n)]));
      const commands = pick(device.commands);
      const driven = Object.keys(commands).filter((p) => commands[p]?.value === true).join(",");
      return mechanismState(pick(device.positions), commands, this.since(device, driven),
        device.timeout_s);
    }
    const command = tags.get(device.command);
    const signals = {
      command, on: tags.get(device.on_feedback),
      off: device.off_feedback ? tags.get(device.off_feedback) : null,
    };
    const since = this.since(device, command?.value);
    return { signals, state: deviceState(signals, since, device.timeout_s) };
  }
}

/** The tags a device is drawn from. */
function signalNames(device) {
  if (device.kind === "mechanism") {
    return [...Object.values(device.positions), ...Object.values(device.commands)];
  }
  return [device.command, device.on_feedback, device.off_feedback].filter(Boolean);
}

/** The devices of the pad's subsystems, by name. */
export function padDevices(store) {
  return new Map([...store.subsystems.values()].flatMap((sub) =>
    (sub.devices || []).map((device) => [device.name, device])));
}

/** A table of devices: one row per device, its state, command and feedback. */
export class DeviceTable {
  constructor(store, devices) {
    this.store = store;
    this.devices = devices;
    this.watch = new DeviceWatch(store, devices);
    this.rows = new Map(); // device name -> {state, command, feedback}
    const body = h("tbody");
    for (const device of devices) {
      const row = {
        state: h("span", { class: "device-state" }),
        command: h("td", { class: "muted" }),
        feedback: h("td", { class: "muted mono small" }),
      };
      row.tr = h("tr", { "data-device": device.name },
        h("td", { class: "tag-name" }, h("div", {}, device.name),
          h("div", { class: "desc" }, device.title)),
        h("td", {}, row.state), row.command, row.feedback);
      this.rows.set(device.name, row);
      body.append(row.tr);
    }
    this.el = h("table", { class: "tags devices" },
      h("thead", {}, h("tr", {}, ["Device", "State", "Command", "Feedback"].map((x) =>
        h("th", {}, x)))), body);
    this.render();
  }

  /** Whether a change of these tags concerns the table. */
  concerns(tags) {
    return this.watch.concerns(tags);
  }

  render() {
    const { tags } = this.store;
    for (const device of this.devices) {
      const { state, position } = this.watch.read(device);
      const row = this.rows.get(device.name);
      setText(row.state, stateWords(device, state, position));
      setAttr(row.tr, "data-state", state);
      setText(row.command, this.commandWords(device));
      const switches = device.kind === "mechanism" ? Object.values(device.positions)
        : [device.on_feedback, device.off_feedback].filter(Boolean);
      setText(row.feedback, switches.map((name) =>
        `${name.replace(`${device.name}-`, "")} ${String(tags.get(name)?.value ?? "—")}`)
        .join(" · "));
    }
  }

  /** What the device is commanded to: its `true` or `false` word, a mechanism's ends. */
  commandWords(device) {
    const { tags } = this.store;
    if (device.kind === "mechanism") {
      const driven = Object.keys(device.commands).filter((p) =>
        tags.get(device.commands[p])?.value === true);
      return driven.length ? `to ${driven.join(", ")}` : "none";
    }
    const command = tags.get(device.command);
    if (typeof command?.value !== "boolean") return "—";
    return command.value ? device.on_word : device.off_word;
  }
}
