// The countdown clock: T and L drawn from the last countdown block, never beyond one period.

import { lText, setClass, setText, tText } from "./dom.js";

/**
 * What the state band shows: the state, except that a count held after a cutoff (not
 * resumable) stays CUTOFF, and a secured count shows how it ended (LIFTOFF or SCRUBBED).
 */
export function bandState(count) {
  if (count.state === "SECURED" && count.result === "LIFTOFF") return "LIFTOFF";
  if (count.state === "SECURED" && count.result.startsWith("SCRUBBED")) return "SCRUBBED";
  if (count.state === "HOLDING" && !count.resumable) return "CUTOFF";
  return count.state;
}

/**
 * The clock readings now, as the protocol allows: from the block's `t_s`/`l_s`, advanced by at
 * most one update period of local time, and stale once `clock_stale_after_wall_s` has passed.
 */
export function clockNow(store, nowMs = performance.now()) {
  const count = store.countdown;
  if (!count || !store.config) return null;
  const sinceS = Math.max(0, (nowMs - store.countdownReceived) / 1000);
  const elapsedS = Math.min(sinceS, store.config.update_period_wall_s);
  return {
    t: count.t_s + (count.t_running ? elapsedS * count.rate : 0),
    l: count.l_s + (count.l_running ? elapsedS * count.rate : 0),
    stale: sinceS > store.config.clock_stale_after_wall_s,
  };
}

export class CountdownClock {
  constructor(store, root) {
    this.store = store;
    this.el = {};
    for (const id of [
      "t-clock", "l-clock", "clock-stale", "count-state", "hold-reason", "hold-line",
      "next-event", "window-text", "window-now", "window-t0", "window-fill", "data-stale",
      "count-result", "window-holds",
    ]) {
      this.el[id] = root.querySelector(`#${id}`);
    }
    this.root = root;
    store.subscribe((changes) => this.blockChanged(changes));
    const frame = () => {
      this.draw();
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    // rAF stops in a hidden page; the stale mark must still come when updates stop.
    setInterval(() => this.draw(), 250);
  }

  /** The parts that change only with a new countdown block. */
  blockChanged(changes) {
    const count = this.store.countdown;
    if (!count || (!changes.countdown && !changes.snapshot)) return;
    const el = this.el;
    setText(el["count-state"], count.state_text.toUpperCase());
    const band = bandState(count);
    if (this.root.dataset.band !== band) this.root.dataset.band = band;
    el["hold-line"].hidden = !count.hold_reason;
    setText(el["hold-reason"], count.hold_reason + (count.resumable ? "" : " (not resumable)"));
    const next = count.next_event;
    setText(el["next-event"], next ? `${next.t_text} ${next.name}` : "—");
    setText(el["count-result"], count.result || "");
    const stale = !count.data_fresh;
    el["data-stale"].hidden = !stale;
    if (stale) setText(el["data-stale"], `DATA STALE: ${count.stale_plcs.join(", ")}`);
    const window = count.window;
    setText(el["window-text"], `${window.open_text} – ${window.close_text}`);
    const holdsS = window.holds_ahead_s || 0;
    setText(el["window-holds"], holdsS > 0 ? `T-0 with ${Math.round(holdsS)} s of holds ahead` : "");
  }

  draw() {
    const now = clockNow(this.store);
    if (!now) return;
    const el = this.el;
    setText(el["t-clock"], tText(now.t));
    setText(el["l-clock"], lText(now.l));
    el["clock-stale"].hidden = !now.stale;
    setClass(this.root, "stale", now.stale);
    const window = this.store.countdown.window;
    const span = Math.max(1, window.close_l_s * 1.1);
    const pct = (value) => `${Math.max(0, Math.min(100, (value / span) * 100)).toFixed(2)}%`;
    el["window-fill"].style.left = pct(window.open_l_s);
    el["window-fill"].style.width = pct(window.close_l_s - window.open_l_s);
    el["window-now"].style.left = pct(now.l);
    // Where T-0 falls on the L clock if the count runs on from here, with the built-in holds
    // still to come (the rule by which the server scrubs for the window).
    const count = this.store.countdown;
    const counting = count.state !== "IDLE" && now.t < 0;
    el["window-t0"].hidden = !counting;
    if (counting) el["window-t0"].style.left = pct(now.l - now.t + (window.holds_ahead_s || 0));
  }
}
