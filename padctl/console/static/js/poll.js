// The GO/NO-GO poll board, the count's commands, and the countdown's own timeline.

import { h, setClass, setText, words } from "./dom.js";

const TIMELINE_LINES = 40;

export class PollPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = h("section", { class: "page poll-page" });
    this.board = h("div", { class: "panel poll-board", id: "poll-board" });
    this.timeline = h("ol", { class: "timeline mono" });
    this.el.append(this.board, this.countPanel(),
      h("section", { class: "panel" }, h("h3", {}, "Count timeline"), this.timeline));
    this.renderBoard();
    this.renderTimeline();
  }

  destroy() {}

  update(changes) {
    if (changes.snapshot || changes.countdown) this.renderBoard();
    if (changes.snapshot || changes.timeline) this.renderTimeline();
    if (changes.snapshot) this.renderCountButtons();
  }

  renderBoard() {
    const { store, link } = this.ctx;
    const poll = store.countdown && store.countdown.poll;
    const key = JSON.stringify(poll);
    if (key === this.boardKey) return; // the board changes rarely; updates come every period
    this.boardKey = key;
    const user = store.user;
    const conductor = user.role === "test_conductor";
    const title = h("h3", {}, "GO/NO-GO poll");
    if (!poll) {
      this.board.replaceChildren(title, h("p", { class: "muted", id: "poll-status" },
        "No poll is open."));
      return;
    }
    const answers = Object.values(poll.answers);
    const go = answers.filter((a) => a === true).length;
    const noGo = answers.filter((a) => a === false).length;
    const summary = poll.all_go ? "ALL GO" : `${go} of ${answers.length} GO` +
      (noGo ? `, ${noGo} NO-GO` : "");
    const rows = poll.positions
      .filter((p) => conductor || user.positions.includes(p))
      .map((position) => {
        const answer = poll.answers[position];
        const mine = user.positions.includes(position);
        const text = answer === true ? "GO" : answer === false ? "NO-GO" : "awaiting";
        return h("tr", { "data-position": position, class: answer === false ? "no-go" : "" },
          h("td", {}, words(position), mine ? h("span", { class: "muted" }, " (you)") : null),
          h("td", { class: "poll-answer" }, text),
          h("td", {}, mine ? [
            h("button", { class: "btn", "data-answer": "go", onclick: () => link.send(
              "count.poll", { position, go: true }, `poll ${position}: GO`) }, "GO"),
            h("button", { class: "btn", "data-answer": "no-go", onclick: () => link.send(
              "count.poll", { position, go: false }, `poll ${position}: NO-GO`) }, "NO-GO"),
          ] : null));
      });
    this.board.replaceChildren(
      title,
      h("p", { id: "poll-status", class: poll.all_go ? "" : "strong" }, summary,
        conductor ? "" : " (the test conductor sees every position)"),
      h("table", { class: "poll" }, h("thead", {}, h("tr", {}, h("th", {}, "Position"),
        h("th", {}, "Answer"), h("th", {}, ""))), h("tbody", {}, rows)),
    );
  }

  countPanel() {
    const reason = h("input", { class: "input", id: "count-reason", size: 24,
      placeholder: "reason (hold, scrub, abort)" });
    const point = h("select", { class: "input", id: "recycle-point" });
    this.countInputs = { reason, point };
    this.countButtons = h("div", { class: "toolbar" });
    const panel = h("section", { class: "panel" }, h("h3", {}, "Count"),
      h("div", { class: "toolbar" }, reason, point), this.countButtons);
    this.renderCountButtons();
    return panel;
  }

  renderCountButtons() {
    const { store } = this.ctx;
    const { reason, point } = this.countInputs;
    const points = store.countdown ? store.countdown.recycle_points : [];
    point.replaceChildren(...points.map((p) => h("option", { value: p.id },
      `${p.id} (${p.t_text})`)));
    const needReason = (command, label) => () => {
      const text = reason.value.trim();
      if (!text) {
        this.ctx.messages.note(`${label}: a reason is required (not sent)`);
        reason.focus();
        return;
      }
      this.send(command, { reason: text }, label);
    };
    const specs = [
      ["Start", "count.start", () => this.send("count.start", {}, "count start")],
      ["Hold", "count.hold", needReason("count.hold", "count hold")],
      ["Resume", "count.resume", () => this.send("count.resume", {}, "count resume")],
      ["Recycle", "count.recycle", () => this.send("count.recycle", { point: point.value },
        `count recycle to ${point.value}`)],
      ["Scrub (2-person)", "count.scrub", needReason("count.scrub", "count scrub")],
      ["Abort (2-step)", "count.abort", needReason("count.abort", "count abort")],
    ];
    this.countButtons.replaceChildren(...specs.map(([label, command, action]) => {
      const button = h("button", { class: "btn", "data-count": command.split(".")[1],
        onclick: action }, label);
      setClass(button, "unlikely", !store.permitted(command));
      return button;
    }));
  }

  send(command, args, label) {
    return this.ctx.link.send(command, args, label);
  }

  renderTimeline() {
    const lines = this.ctx.store.timeline.slice(-TIMELINE_LINES);
    this.timeline.replaceChildren(...lines.map((event) => {
      const item = h("li", { class: `tl-${event.kind.toLowerCase()}` });
      setText(item, `${event.t_text}  ${event.l_text}  ${event.kind.padEnd(9)} ${event.text}`);
      return item;
    }));
    this.timeline.scrollTop = this.timeline.scrollHeight;
  }
}
