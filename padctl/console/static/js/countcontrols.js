// The count's controls, grouped by consequence: the routine ones (start, hold, resume,
// recycle), the decision on a faulted step (retry or skip), and, apart, the ones that stop
// the count (scrub, abort). Each stopping or holding control has its own reason field. A
// control the engine would refuse now is disabled with the engine's reason as its title; the
// server still decides.

import { h, setAttr, setClass, setText } from "./dom.js";

const LIVE = ["COUNTING", "TERMINAL_COUNT"];

/** Why the engine would refuse `command` now (padctl/countdown/_engine.py), or "". */
export function refusalNow(count, command) {
  if (!count) return "no countdown data yet";
  const state = count.state;
  const is = (...states) => states.includes(state);
  const the = `the count is ${count.state_text}`;
  const poll = count.poll;
  const faulted = count.faulted_steps || [];
  const missing = poll ? poll.positions.filter((p) => poll.answers[p] !== true) : [];
  const pollReason = !poll ? "no GO/NO-GO poll open"
    : missing.length ? `GO/NO-GO poll incomplete: no GO from ${missing.join(", ")}` : "";
  const stale = count.data_fresh ? "" : `data stale: ${count.stale_plcs.join(", ")}`;
  switch (command) {
    case "start":
      if (!is("IDLE")) return the;
      return (count.start_blocked || []).join("; ") || stale;
    case "hold":
      return is(...LIVE) ? "" : the;
    case "resume":
      if (!is("HOLDING")) return the;
      if (!count.resumable) return `${count.hold_reason}: recycle or scrub instead`;
      if (faulted.length) {
        return `step '${faulted[0].event}' stopped the count: retry or skip it below`;
      }
      return pollReason || stale;
    case "retry":
    case "skip":
      if (!is("HOLDING")) return the;
      if (!faulted.length) return "no faulted step";
      if (!count.resumable) return `${count.hold_reason}: recycle or scrub instead`;
      return pollReason || stale;
    case "recycle":
      return is("HOLDING") ? stale : the;
    case "scrub":
      return is("COUNTING", "HOLDING") ? "" : the;
    case "abort":
      return is("COUNTING", "HOLDING", "TERMINAL_COUNT") ? "" : the;
    default:
      return "";
  }
}

export class CountControls {
  constructor(ctx) {
    this.ctx = ctx;
    const input = (id, placeholder) => h("input", { class: "input", id, size: 22, placeholder });
    this.inputs = {
      hold: input("hold-reason-input", "hold reason"),
      step: input("step-reason", "why retry or skip"),
      scrub: input("scrub-reason", "scrub reason"),
      abort: input("abort-reason", "abort reason"),
    };
    this.point = h("select", { class: "input", id: "recycle-point" });
    this.buttons = {};
    const button = (name, label, action) => {
      this.buttons[name] = h("button", { class: "btn", "data-count": name, onclick: action }, label);
      return this.buttons[name];
    };
    const withReason = (name, command, label, extra = {}) => () => {
      const field = this.inputs[name === "retry" || name === "skip" ? "step" : name];
      const text = field.value.trim();
      if (!text) {
        this.ctx.messages.note(`${label}: a reason is required (not sent)`);
        field.focus();
        return;
      }
      this.send(command, { ...extra, reason: text }, label).then((answer) => {
        if (answer.type !== "refused") field.value = "";
      });
    };
    this.stepList = h("ul", { class: "faulted-steps", id: "faulted-steps" });
    this.decision = h("div", { class: "count-group count-decision", id: "count-decision",
      hidden: true },
      h("h4", {}, "Faulted step: retry or skip"), this.stepList,
      h("div", { class: "toolbar" }, this.inputs.step,
        button("retry", "Retry step", withReason("retry", "count.resume", "count resume (retry)",
          { step: "retry" })),
        button("skip", "Skip step", withReason("skip", "count.resume", "count resume (skip)",
          { step: "skip" }))));
    this.el = h("section", { class: "panel" }, h("h3", {}, "Count"),
      h("div", { class: "count-controls" },
        h("div", { class: "count-group count-routine", id: "count-routine" },
          h("h4", {}, "Count"),
          h("div", { class: "toolbar" },
            button("start", "Start", () => this.send("count.start", {}, "count start")),
            button("resume", "Resume", () => this.send("count.resume", {}, "count resume"))),
          h("div", { class: "toolbar" }, this.inputs.hold,
            button("hold", "Hold", withReason("hold", "count.hold", "count hold"))),
          h("div", { class: "toolbar" }, this.point,
            button("recycle", "Recycle", () => this.send("count.recycle",
              { point: this.point.value }, `count recycle to ${this.point.value}`)))),
        this.decision,
        h("div", { class: "count-group count-stop", id: "count-stop" },
          h("h4", {}, "Stop the count"),
          h("div", { class: "toolbar" }, this.inputs.scrub,
            button("scrub", "Scrub (2-person)", withReason("scrub", "count.scrub", "count scrub"))),
          h("div", { class: "toolbar" }, this.inputs.abort,
            button("abort", "Abort (2-step)", withReason("abort", "count.abort", "count abort"))))));
    this.render(true);
  }

  send(command, args, label) {
    return this.ctx.link.send(command, args, label);
  }

  render(snapshot) {
    const { store } = this.ctx;
    const count = store.countdown;
    if (snapshot) {
      const points = count ? count.recycle_points : [];
      this.point.replaceChildren(...points.map((p) => h("option", { value: p.id },
        `${p.id} (${p.t_text})`)));
    }
    for (const [name, button] of Object.entries(this.buttons)) {
      const command = `count.${name === "retry" || name === "skip" ? "resume" : name}`;
      const refusal = refusalNow(count, name);
      button.disabled = Boolean(refusal);
      setAttr(button, "title", refusal || (store.permitted(command) ? ""
        : `your role (${store.user.role}) may not give ${command}`));
      setClass(button, "unlikely", !store.permitted(command));
    }
    const faulted = (count && count.faulted_steps) || [];
    this.decision.hidden = !faulted.length;
    const key = JSON.stringify(faulted);
    if (key !== this.faultedKey) {
      this.faultedKey = key;
      this.stepList.replaceChildren(...faulted.map((step) => h("li", { "data-step": step.event },
        h("strong", {}, step.event), ": ", step.reason,
        step.not_done.length ? ` (not done: ${step.not_done.join(", ")})` : "")));
    }
    setText(this.decision.querySelector("h4"),
      faulted.length > 1 ? "Faulted steps: retry or skip" : "Faulted step: retry or skip");
  }
}
