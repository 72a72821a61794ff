// The journal for people: each line reads as when (UTC and the count's T), who, what and why.
// Filters by kind, severity, actor and text; a user's logins and logouts in a row fold into one
// line. The server filters, folds and pages (journal.query); the newest page follows new rows.

import { h } from "./dom.js";

const PAGE_LINES = [50, 10, 20, 100, 200];
const TYPING_WAIT_MS = 250;
const REFRESH_WAIT_MS = 1000;
const SESSION_WORDS = { console_login: "login", console_logout: "logout",
  console_session_expired: "session expired" };
const SEVERITY_CHOICES = [["", "any severity"], ["warning", "warning and critical"],
  ["critical", "critical only"]];
const SEVERITIES = { "": [], warning: ["warning", "critical"], critical: ["critical"] };
const WHY_KEYS = ["reason", "why", "note", "detail"];
const QUIET_KEYS = new Set(["command", "args", "code", "request_id", "alarm", "state",
  "priority", ...WHY_KEYS]);

function argsText(args) {
  const parts = Object.entries(args || {}).filter(([key]) => !WHY_KEYS.includes(key))
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/** What happened, in words: `login ×3 · logout ×1`, `accepted count.hold`, `alarm X: ACKED`. */
export function whatText(row) {
  const p = row.payload || {};
  if (row.folded) {
    return Object.entries(row.folded).map(([kind, n]) => `${SESSION_WORDS[kind] || kind} ×${n}`)
      .join(" · ");
  }
  if (SESSION_WORDS[row.kind]) return SESSION_WORDS[row.kind];
  const kind = row.kind.replace(/^console_/, "").replaceAll("_", " ");
  if (p.command) return `${kind} ${p.command}${argsText(p.args)}${p.code ? ` [${p.code}]` : ""}`;
  if (p.alarm) return `${kind} ${p.alarm} (${p.priority}) → ${p.state}`;
  const rest = Object.entries(p).filter(([key]) => !QUIET_KEYS.has(key))
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  return rest.length ? `${kind}: ${rest.join(", ")}` : kind;
}

/** Why, as the person or the program gave it: a reason, a note, a detail. */
export function whyText(row) {
  const p = row.payload || {};
  const args = p.args || {};
  for (const key of WHY_KEYS) {
    if (p[key]) return String(p[key]);
    if (args[key]) return String(args[key]);
  }
  return "";
}

export class JournalPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.pages = [null]; // before_id of each page shown so far (null: the newest)
    this.rows = [];
    this.more = false;
    this.nextBeforeId = null;
    this.asked = 0; // the number of the latest query: an older answer is dropped
    this.timer = null;
    this.el = h("section", { class: "page journal-page" });
    const field = (id, placeholder, list) => h("input", { class: "input", id, placeholder,
      list, size: 16, oninput: () => this.later(TYPING_WAIT_MS) });
    this.kind = field("journal-kind", "kind (exact)", "journal-kinds");
    this.actor = field("journal-actor", "who (exact)", "journal-actors");
    this.text = field("journal-text", "text contains");
    this.severity = h("select", { class: "input", id: "journal-severity",
      onchange: () => this.first() },
    SEVERITY_CHOICES.map(([value, label]) => h("option", { value }, label)));
    this.lines = h("select", { class: "input", id: "journal-lines", onchange: () => this.first() },
      PAGE_LINES.map((n) => h("option", { value: n }, `${n} lines a page`)));
    this.fold = h("input", { type: "checkbox", id: "journal-fold", checked: true,
      onchange: () => this.first() });
    this.kinds = h("datalist", { id: "journal-kinds" });
    this.actors = h("datalist", { id: "journal-actors" });
    this.status = h("span", { class: "muted", id: "journal-status" });
    this.body = h("tbody");
    this.newer = h("button", { class: "btn", id: "journal-newer", onclick: () => this.back() },
      "Newer");
    this.older = h("button", { class: "btn", id: "journal-older", onclick: () => this.onward() },
      "Older");
    this.el.append(
      h("div", { class: "toolbar" }, h("h2", {}, "Journal"), this.kind, this.severity,
        this.actor, this.text, this.kinds, this.actors,
        h("label", {}, this.fold, " fold logins"), this.lines,
        h("button", { class: "btn", id: "journal-search", onclick: () => this.first() },
          "Search"),
        this.status),
      h("table", { class: "journal" }, h("thead", {}, h("tr", {}, ["#", "Time (UTC)", "T",
        "Who", "What", "Why"].map((x) => h("th", {}, x)))), this.body),
      h("div", { class: "toolbar" }, this.newer, this.older),
    );
    this.first();
  }

  destroy() {
    clearTimeout(this.timer);
  }

  update(changes) {
    // The newest page follows the journal (at most once a second); older pages stand still.
    if (changes.snapshot) this.later(0); // (re)connected: ask again
    else if (this.pages.length === 1 && changes.journal?.length && !this.timer) {
      this.later(REFRESH_WAIT_MS);
    }
  }

  later(waitMs) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = null; this.first(); }, waitMs);
  }

  args(beforeId) {
    const args = { limit: Number(this.lines.value), fold_sessions: this.fold.checked };
    const kind = this.kind.value.trim();
    const actor = this.actor.value.trim();
    const text = this.text.value.trim();
    const severities = SEVERITIES[this.severity.value];
    if (kind) args.kinds = [kind];
    if (actor) args.actor = actor;
    if (text) args.text = text;
    if (severities.length) args.severities = severities;
    if (beforeId !== null) args.before_id = beforeId;
    return args;
  }

  first() {
    clearTimeout(this.timer); // a query typed a moment ago is this one
    this.timer = null;
    this.pages = [null];
    return this.load();
  }

  onward() {
    if (!this.more || this.nextBeforeId === null) return;
    this.pages.push(this.nextBeforeId);
    this.load();
  }

  back() {
    if (this.pages.length > 1) this.pages.pop();
    this.load();
  }

  async load() {
    const asked = ++this.asked;
    this.status.textContent = "searching…"; // until the server answers
    const answer = await this.ctx.link.send("journal.query",
      this.args(this.pages[this.pages.length - 1]), "journal search", { quiet: true });
    if (asked !== this.asked || answer.type !== "accepted") return;
    this.rows = answer.result.rows;
    this.more = answer.result.more;
    this.nextBeforeId = answer.result.next_before_id;
    this.render();
  }

  render() {
    this.body.replaceChildren(...this.rows.map((row) => {
      const what = whatText(row);
      const classes = [`severity-${row.severity}`, row.kind === "console_refused" ? "refused"
        : "", row.folded ? "folded" : ""].filter(Boolean).join(" ");
      return h("tr", { "data-kind": row.kind, "data-severity": row.severity, class: classes },
        h("td", { class: "mono" }, row.id),
        h("td", { class: "mono" }, row.t_wall.slice(11, 19)),
        h("td", { class: "mono" }, row.t_text || "—"),
        h("td", {}, row.actor),
        h("td", { class: "what", title: what }, what),
        h("td", { class: "why" }, whyText(row)));
    }));
    const page = this.pages.length;
    this.newer.hidden = page === 1;
    this.older.hidden = !this.more;
    this.status.textContent = `search: ${this.rows.length} lines, page ${page}` +
      (page === 1 ? " (newest, following)" : "") + (this.more ? ", more older" : "");
    this.fillLists();
  }

  fillLists() {
    const kinds = new Set();
    const actors = new Set();
    for (const row of [...this.ctx.store.journal, ...this.rows]) {
      kinds.add(row.kind);
      actors.add(row.actor);
    }
    if (kinds.size !== this.kinds.children.length) {
      this.kinds.replaceChildren(...[...kinds].sort().map((k) => h("option", { value: k })));
    }
    if (actors.size !== this.actors.children.length) {
      this.actors.replaceChildren(...[...actors].sort().map((a) => h("option", { value: a })));
    }
  }
}
