// The journal view: the latest events and commands, filtered here or searched on the server.

import { h } from "./dom.js";

const LIVE_ROWS = 300;
const PAGE_ROWS = 100;

/** One line of payload: what a person reads first (command, reason), then the rest. */
export function payloadText(row) {
  const p = row.payload || {};
  const parts = [];
  if (p.command) parts.push(p.command + (p.args ? " " + JSON.stringify(p.args) : ""));
  if (p.code) parts.push(`[${p.code}]`);
  if (p.reason) parts.push(p.reason);
  const rest = Object.fromEntries(Object.entries(p).filter(([key]) =>
    !["command", "args", "code", "reason", "request_id"].includes(key)));
  if (Object.keys(rest).length) parts.push(JSON.stringify(rest));
  return parts.join(" ");
}

export class JournalPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.mode = "live"; // or "search"
    this.results = [];
    this.more = false;
    this.el = h("section", { class: "page journal-page" });
    const field = (id, placeholder, list) => h("input", { class: "input", id, placeholder,
      list, size: 16, oninput: () => this.mode === "live" && this.render() });
    this.kind = field("journal-kind", "kind (exact)", "journal-kinds");
    this.actor = field("journal-actor", "actor (exact)", "journal-actors");
    this.text = field("journal-text", "text contains");
    this.kinds = h("datalist", { id: "journal-kinds" });
    this.actors = h("datalist", { id: "journal-actors" });
    this.status = h("span", { class: "muted", id: "journal-status" });
    this.body = h("tbody");
    this.older = h("button", { class: "btn", hidden: true, onclick: () => this.search(true) },
      "Older");
    this.el.append(
      h("div", { class: "toolbar" }, h("h2", {}, "Journal"), this.kind, this.actor, this.text,
        this.kinds, this.actors,
        h("button", { class: "btn", id: "journal-search", onclick: () => this.search(false) },
          "Search whole journal"),
        h("button", { class: "btn", onclick: () => { this.mode = "live"; this.render(); } },
          "Live"),
        this.status),
      h("table", { class: "journal mono" }, h("thead", {}, h("tr", {}, ["#", "Time", "Kind",
        "Actor", "What"].map((x) => h("th", {}, x)))), this.body),
      this.older,
    );
    this.render();
  }

  destroy() {}

  update(changes) {
    if (this.mode === "live" && (changes.snapshot || (changes.journal &&
      changes.journal.length))) {
      this.render();
    }
  }

  filters() {
    return { kind: this.kind.value.trim(), actor: this.actor.value.trim(),
      text: this.text.value.trim().toLowerCase() };
  }

  render() {
    const rows = this.mode === "live" ? this.liveRows() : this.results;
    this.body.replaceChildren(...rows.map((row) => {
      const what = payloadText(row);
      return h("tr", { "data-kind": row.kind, class: row.kind === "console_refused" ? "refused"
        : "" },
      h("td", {}, row.id), h("td", {}, row.t_wall.slice(11, 22)), h("td", {}, row.kind),
      h("td", {}, row.actor), h("td", { class: "payload", title: what }, what));
    }));
    this.older.hidden = this.mode !== "search" || !this.more;
    this.status.textContent = this.mode === "live"
      ? `live: ${rows.length} of the newest ${this.ctx.store.journal.length} rows`
      : `search: ${rows.length} rows${this.more ? " (more older)" : ""}`;
    this.fillLists();
  }

  liveRows() {
    const { kind, actor, text } = this.filters();
    const out = [];
    const rows = this.ctx.store.journal;
    for (let i = rows.length - 1; i >= 0 && out.length < LIVE_ROWS; i -= 1) {
      const row = rows[i];
      if (kind && row.kind !== kind) continue;
      if (actor && row.actor !== actor) continue;
      if (text && !(row.kind + " " + JSON.stringify(row.payload)).toLowerCase().includes(text)) {
        continue;
      }
      out.push(row);
    }
    return out;
  }

  async search(older) {
    const { kind, actor, text } = this.filters();
    const args = { limit: PAGE_ROWS };
    if (kind) args.kinds = [kind];
    if (actor) args.actor = actor;
    if (text) args.text = text;
    if (older && this.results.length) args.before_id = this.results[this.results.length - 1].id;
    const answer = await this.ctx.link.send("journal.query", args, "journal search",
      { quiet: true });
    if (answer.type !== "accepted") return;
    this.mode = "search";
    this.results = older ? this.results.concat(answer.result.rows) : answer.result.rows;
    this.more = answer.result.more;
    this.render();
  }

  fillLists() {
    const kinds = new Set();
    const actors = new Set();
    for (const row of this.ctx.store.journal) {
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
