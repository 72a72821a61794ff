// The console's copy of the server state: a snapshot, then updates applied as the protocol says.

import { Trends } from "./trends.js";

const KEEP_JOURNAL_ROWS = 1000;
const KEEP_TIMELINE = 400;

export class Store {
  constructor() {
    this.listeners = new Set();
    this.trends = new Trends();
    this.reset();
  }

  reset() {
    this.ready = false;
    this.user = null;
    this.config = null;
    this.tags = new Map();
    this.subsystems = new Map();
    this.plcs = {};
    this.countdown = null;
    this.countdownReceived = 0; // performance.now() when the countdown block arrived
    this.lastMessage = 0; // performance.now() of the last snapshot or update
    this.timeline = [];
    this.alarms = new Map();
    this.journal = [];
    this.journalIds = new Set();
    this.arms = [];
    this.consoles = [];
    this.seq = null;
    this.serverOffsetS = 0; // server wall time minus local wall time
    this.padRef = null; // {t: pad-clock epoch, local: performance.now()}
    this.trends.clear();
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(changes) {
    for (const listener of this.listeners) {
      try {
        listener(changes, this);
      } catch (error) {
        console.error("display update failed", error);
      }
    }
  }

  /** Server wall time now, epoch seconds (for arm expiry). */
  serverNow() {
    return Date.now() / 1000 + this.serverOffsetS;
  }

  /** Pad-clock epoch now, estimated from the newest tag time and the clock rate. */
  padNow() {
    if (!this.padRef) return this.serverNow();
    const rate = this.config ? this.config.rate : 1;
    return this.padRef.t + ((performance.now() - this.padRef.local) / 1000) * rate;
  }

  /** The user may give `command` (by role); the server checks again anyway. */
  permitted(command) {
    const roles = this.config?.permissions?.[command] || [];
    return Boolean(this.user) && roles.includes(this.user.role);
  }

  applySnapshot(message, now) {
    this.reset();
    this.ready = true;
    this.user = message.user;
    this.config = message.config;
    this.seq = message.seq;
    this.plcs = message.plcs;
    for (const [name, tag] of Object.entries(message.tags)) this.tags.set(name, tag);
    for (const [name, sub] of Object.entries(message.subsystems)) this.subsystems.set(name, sub);
    for (const alarm of message.alarms) this.alarms.set(alarm.id, alarm);
    this.timeline = message.timeline.slice(-KEEP_TIMELINE);
    this.addJournal(message.journal);
    this.arms = message.arms;
    this.consoles = message.consoles;
    this.stamp(message, now);
    this.recordTags(message.tags);
    this.emit({ snapshot: true });
  }

  /** Apply one update; false when it cannot be applied (a gap in `seq`): reconnect. */
  applyUpdate(message, now) {
    if (!this.ready || message.seq <= this.seq) return true; // built before our snapshot
    if (message.seq !== this.seq + 1) return false;
    this.seq = message.seq;
    this.stamp(message, now);
    const changes = { countdown: true };
    if (message.tags) {
      for (const [name, sample] of Object.entries(message.tags)) {
        this.tags.set(name, { ...this.tags.get(name), ...sample });
      }
      this.recordTags(message.tags);
      changes.tags = new Set(Object.keys(message.tags));
    }
    if (message.subsystems) {
      for (const [name, sub] of Object.entries(message.subsystems)) {
        this.subsystems.set(name, { ...this.subsystems.get(name), ...sub });
      }
      changes.subsystems = new Set(Object.keys(message.subsystems));
    }
    if (message.plcs) {
      for (const [id, plc] of Object.entries(message.plcs)) {
        this.plcs[id] = { ...this.plcs[id], ...plc };
      }
      changes.plcs = true;
    }
    if (message.alarms) {
      for (const alarm of message.alarms) this.alarms.set(alarm.id, alarm);
      changes.alarms = true;
    }
    if (message.journal) changes.journal = this.addJournal(message.journal);
    if (message.timeline) {
      this.timeline = this.timeline.concat(message.timeline).slice(-KEEP_TIMELINE);
      changes.timeline = message.timeline;
    }
    if (message.arms) {
      this.arms = message.arms;
      changes.arms = true;
    }
    if (message.consoles) {
      this.consoles = message.consoles;
      changes.consoles = true;
    }
    this.emit(changes);
    return true;
  }

  stamp(message, now) {
    this.countdown = message.countdown;
    this.countdownReceived = now;
    this.lastMessage = now;
    this.serverOffsetS = message.server_time - Date.now() / 1000;
  }

  recordTags(tags) {
    let newest = null;
    for (const [name, sample] of Object.entries(tags)) {
      this.trends.record(name, sample);
      if (sample.t !== null && (newest === null || sample.t > newest)) newest = sample.t;
    }
    if (newest !== null && (!this.padRef || newest > this.padRef.t)) {
      this.padRef = { t: newest, local: performance.now() };
    }
  }

  /** Append journal rows we do not have yet; the new ones. */
  addJournal(rows) {
    const added = rows.filter((row) => !this.journalIds.has(row.id));
    for (const row of added) this.journalIds.add(row.id);
    this.journal = this.journal.concat(added);
    if (this.journal.length > KEEP_JOURNAL_ROWS) {
      const dropped = this.journal.splice(0, this.journal.length - KEEP_JOURNAL_ROWS);
      for (const row of dropped) this.journalIds.delete(row.id);
    }
    return added;
  }
}
