// The instructor's panel (a training run's `train.*` controls) and the admin's fault panel (a
// simulated pad's `sim.inject`): each drawn only where the server says it applies, and only
// for the roles the catalogue allows. The server decides anyway.

import { h, setText } from "./dom.js";

const STATUS_EVERY_MS = 1000;

export class TrainingPanels {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = h("div", { class: "training-panels" });
    const { config } = ctx.store;
    if (config.training && ctx.store.permitted("train.status")) {
      this.el.append(this.instructorPanel());
      this.refresh();
      this.timer = setInterval(() => this.refresh(), STATUS_EVERY_MS);
    }
    if (config.simulated && ctx.store.permitted("sim.inject")) this.el.append(this.faultPanel());
  }

  destroy() {
    clearInterval(this.timer);
  }

  update() {}

  async send(command, args, label) {
    const answer = await this.ctx.link.send(command, args, label);
    if (answer.type === "accepted" && answer.result?.status) this.show(answer.result.status);
    return answer;
  }

  async refresh() {
    if (this.ctx.link.socket?.readyState !== WebSocket.OPEN || this.asking) return; // no toasts
    this.asking = true;
    const answer = await this.ctx.link.send("train.status", {}, "training status", { quiet: true });
    this.asking = false;
    if (answer.type === "accepted") this.show(answer.result.status);
  }

  instructorPanel() {
    const input = (attrs) => h("input", { class: "input", ...attrs });
    const rate = input({ id: "train-rate", type: "number", min: 0, step: "any", size: 6,
      "aria-label": "clock rate" });
    const fault = input({ id: "train-fault", size: 22, placeholder: "fault, e.g. stuck LOX-FV-101",
      "aria-label": "fault to inject" });
    const reason = input({ id: "train-reason", size: 18, placeholder: "reason to end",
      "aria-label": "reason to end" });
    this.rateInput = rate;
    this.checkpoints = h("div", { class: "toolbar train-checkpoints", id: "train-checkpoints" });
    this.status = h("div", { class: "train-status", id: "train-status" }, "…");
    this.faults = h("ul", { class: "train-faults small" });
    this.responses = h("ul", { class: "train-responses small", id: "train-responses" });
    const button = (id, text, onclick) => h("button", { class: "btn", id, onclick }, text);
    return h("section", { class: "panel instructor-panel", id: "instructor-panel" },
      h("h3", {}, "Instructor"), this.status,
      h("div", { class: "label" }, "Faults"), this.faults,
      h("div", { class: "label" }, "Expected responses"), this.responses,
      h("div", { class: "toolbar" },
        button("train-pause", "Pause", () => this.send("train.pause", {}, "pause the run")),
        button("train-resume", "Resume", () => this.send("train.resume", {}, "resume the run")),
        rate, button("train-set-rate", "Set rate", () => {
          const value = Number(rate.value);
          if (rate.value.trim() === "" || !(value >= 0)) {
            this.ctx.messages.note("rate: a number of 0 or more (not sent)");
            return;
          }
          this.send("train.rate", { rate: value }, `rate ${value}`);
        })),
      h("div", { class: "toolbar" }, fault, button("train-inject", "Inject", () => {
        if (!fault.value.trim()) {
          this.ctx.messages.note("inject: name a fault (not sent)");
          return;
        }
        this.send("train.inject", { fault: fault.value.trim() }, `inject ${fault.value.trim()}`);
      })),
      h("div", { class: "label" }, "Jump back to a checkpoint"), this.checkpoints,
      h("div", { class: "toolbar" }, reason, button("train-end", "End run", () => {
        const why = reason.value.trim();
        this.send("train.end", why ? { reason: why } : {}, "end the run");
      })));
  }

  show(status) {
    if (!this.status) return;
    const rate = status.paused ? "PAUSED" : `rate ×${status.rate}`;
    const ended = status.ended ? ` · ended: ${status.end_reason}` : "";
    setText(this.status, `${status.title || status.scenario} · ${status.t_text} ` +
      `${status.count_state} · ${rate}${ended}`);
    this.status.dataset.paused = String(status.paused);
    this.status.dataset.requestedRate = String(status.requested_rate);
    this.rateInput.max = status.max_rate;
    const labels = status.checkpoints.map((c) => c.label).join(",");
    if (this.checkpoints.dataset.labels !== labels) {
      this.checkpoints.dataset.labels = labels;
      this.checkpoints.replaceChildren(...status.checkpoints.map((c) => h("button", {
        class: "btn", "data-checkpoint": c.label,
        onclick: () => this.send("train.jump", { checkpoint: c.label }, `jump to ${c.label}`),
      }, `${c.label} ${c.t_text}`)));
    }
    this.faults.replaceChildren(...status.faults.map((f) => h("li", { "data-fault": f.id },
      `${f.id}: ${f.what} [${f.state}]` +
      (f.onset_run_s === null || f.onset_run_s === undefined ? "" : ` at ${f.onset_run_s} s`))));
    this.responses.replaceChildren(...status.responses.map((r) => h("li", {},
      `${r.response}: ${r.status}` + (r.took_s === null ? "" : ` in ${r.took_s} s`) +
      (r.by ? ` by ${r.by}` : ""))));
    if (!status.responses.length) this.responses.append(h("li", { class: "muted" }, "none"));
  }

  faultPanel() {
    const fault = h("input", { class: "input", id: "sim-fault", size: 26,
      placeholder: "e.g. stall MECH, bias LOX-PT-101 2.5", "aria-label": "simulator fault" });
    const last = h("div", { class: "muted small", id: "sim-last" });
    const inject = async () => {
      const words = fault.value.trim();
      if (!words) {
        this.ctx.messages.note("fault: say what to inject (not sent)");
        return;
      }
      const answer = await this.ctx.link.send("sim.inject", { fault: words }, `inject ${words}`);
      setText(last, answer.type === "accepted" ? `applied: ${answer.result.fault}`
        : `refused: ${answer.reason || answer.code || ""}`);
    };
    return h("section", { class: "panel fault-panel", id: "fault-panel" },
      h("h3", {}, "Simulator faults"),
      h("div", { class: "toolbar" }, fault, h("button", { class: "btn", id: "sim-inject",
        onclick: inject }, "Inject"),
      h("button", { class: "btn", id: "sim-clear", onclick: () => {
        fault.value = "clear";
        inject();
      } }, "Clear all")), last);
  }
}
