// Every command's answer, shown: a toast for the moment and a line in the command log.

import { h } from "./dom.js";

const LOG_LINES = 200;
const TOAST_MS = { accepted: 3000, armed: 6000, refused: 12000 };

export class Messages {
  constructor(toastArea, logList) {
    this.toastArea = toastArea;
    this.logList = logList;
  }

  /** Show the server's answer to a command (`label` says what was asked). */
  answer(answer, label) {
    const kind = answer.type;
    let text;
    if (kind === "accepted") {
      text = `${label}: accepted${answer.result && answer.result.running ? " (running)" : ""}`;
    } else if (kind === "armed") {
      const who = answer.second_person ? "a second person must confirm" : "confirm it";
      text = `${label}: ARMED - ${who} within ${Math.round(answer.timeout_wall_s)} s`;
    } else {
      text = `${label}: REFUSED (${answer.code}) ${answer.reason}`;
    }
    this.show(kind, text);
  }

  /** A line of our own (not a server answer), e.g. a form that cannot be sent. */
  note(text, kind = "refused") {
    this.show(kind, text);
  }

  show(kind, text) {
    const stamp = new Date().toISOString().slice(11, 19);
    const toast = h(
      "div",
      { class: `toast toast-${kind}`, role: kind === "refused" ? "alert" : "status" },
      h("span", { class: "toast-text" }, text),
      h("button", { class: "toast-close", title: "dismiss", onclick: () => toast.remove() }, "×"),
    );
    this.toastArea.prepend(toast);
    setTimeout(() => toast.remove(), TOAST_MS[kind] || 5000);
    while (this.toastArea.children.length > 5) this.toastArea.lastElementChild.remove();
    const line = h("li", { class: `log-${kind}` }, h("time", {}, stamp), " ", text);
    this.logList.prepend(line);
    while (this.logList.children.length > LOG_LINES) this.logList.lastElementChild.remove();
  }
}
