// The GO/NO-GO poll board (the whole board, for every position: who answered, what and
// when), the count's commands, and the countdown's own timeline.

import { CountControls } from "./countcontrols.js";
import { h, setText, words } from "./dom.js";

const TIMELINE_LINES = 40;

export class PollPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = h("section", { class: "page poll-page" });
    this.board = h("div", { class: "panel poll-board", id: "poll-board" });
    this.timeline = h("ol", { class: "timeline mono" });
    this.controls = new CountControls(ctx);
    this.el.append(this.board, this.controls.el,
      h("section", { class: "panel" }, h("h3", {}, "Count timeline"), this.timeline));
    this.renderBoard();
    this.renderTimeline();
  }

  destroy() {}

  update(changes) {
    if (changes.snapshot || changes.countdown) this.renderBoard();
    if (changes.snapshot || changes.timeline) this.renderTimeline();
    if (changes.snapshot || changes.countdown) this.controls.render(changes.snapshot);
  }

  renderBoard() {
    const { store, link } = this.ctx;
    const poll = store.countdown && store.countdown.poll;
    const key = JSON.stringify(poll);
    if (key === this.boardKey) return; // the board changes rarely; updates come every period
    this.boardKey = key;
    const user = store.user;
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
    const answered = poll.answered || {};
    const rows = poll.positions
      .map((position) => {
        const answer = poll.answers[position];
        const who = answered[position];
        const mine = user.positions.includes(position);
        const text = answer === true ? "GO" : answer === false ? "NO-GO" : "awaiting";
        return h("tr", { "data-position": position, class: answer === false ? "no-go" : "" },
          h("td", {}, words(position), mine ? h("span", { class: "muted" }, " (you)") : null),
          h("td", { class: "poll-answer" }, text),
          h("td", { class: "poll-by" }, who ? who.by : ""),
          h("td", { class: "poll-when mono when" }, who ? clockTime(who.at) : ""),
          h("td", {}, mine ? [
            h("button", { class: "btn", "data-answer": "go", onclick: () => link.send(
              "count.poll", { position, go: true }, `poll ${position}: GO`) }, "GO"),
            h("button", { class: "btn", "data-answer": "no-go", onclick: () => link.send(
              "count.poll", { position, go: false }, `poll ${position}: NO-GO`) }, "NO-GO"),
          ] : null));
      });
    this.board.replaceChildren(
      title,
      h("p", { id: "poll-status", class: poll.all_go ? "" : "strong" }, summary),
      h("table", { class: "poll" }, h("thead", {}, h("tr", {}, h("th", {}, "Position"),
        h("th", {}, "Answer"), h("th", {}, "By"), h("th", {}, "When"), h("th", {}, ""))),
      h("tbody", {}, rows)),
    );
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

/** A pad clock epoch time as HH:MM:SS (UTC), for the board. */
function clockTime(epochS) {
  return new Date(epochS * 1000).toISOString().slice(11, 19);
}
