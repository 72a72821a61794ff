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

/** The words a device's state is shown with. */
export function stateWords(device, state) {
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
    return this.devices.some((d) => tags.has(d.command) || tags.has(d.on_feedback)
      || (d.off_feedback && tags.has(d.off_feedback)));
  }

  /** The device's signals now, and its state derived from them. */
  read(device) {
    const { tags } = this.store;
    const now = this.store.padNow();
    const command = tags.get(device.command);
    const seen = this.changed.get(device.name);
    if (!seen || (command && command.value !== seen.value)) {
      this.changed.set(device.name, { value: command?.value, t: seen ? now : -Infinity });
    }
    const signals = {
      command, on: tags.get(device.on_feedback),
      off: device.off_feedback ? tags.get(device.off_feedback) : null,
    };
    const since = now - this.changed.get(device.name).t;
    return { signals, state: deviceState(signals, since, device.timeout_s) };
  }
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
      const { signals, state } = this.watch.read(device);
      const command = signals.command;
      const row = this.rows.get(device.name);
      setText(row.state, stateWords(device, state));
      setAttr(row.tr, "data-state", state);
      setText(row.command, command?.value === true ? device.on_word
        : command?.value === false ? device.off_word : "—");
      const switches = [device.on_feedback, device.off_feedback].filter(Boolean).map((name) =>
        `${name.replace(`${device.name}-`, "")} ${String(tags.get(name)?.value ?? "—")}`);
      setText(row.feedback, switches.join(" · "));
    }
  }
}
