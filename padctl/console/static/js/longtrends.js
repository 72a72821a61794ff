// Trends beyond five minutes: the tag history the server keeps, read from /api/history, with
// the live samples appended at the right edge. Times here are server wall seconds (the live
// samples' pad-clock times are converted: at rate 1 they are the same).

export const SPANS = [
  { label: "5 min", seconds: 300 }, // live only, as the sparklines always were
  { label: "1 h", seconds: 3600 },
  { label: "6 h", seconds: 6 * 3600 },
  { label: "whole count", seconds: null }, // since the history's first row
];
const WHOLE_S = 399 * 86400; // the server starts the span at the first kept row
const REFRESH_MS = 60_000; // live samples cover a minute; the browser keeps five
const POINTS = 280; // two a pixel of a sparkline

export class LongTrends {
  constructor(store, names, onLoaded) {
    this.store = store;
    this.names = names;
    this.onLoaded = onLoaded;
    this.span = SPANS[0];
    this.answer = null;
    this.error = "";
    this.fetchedAt = 0;
  }

  get live() {
    return this.span.seconds === 300;
  }

  select(span) {
    this.span = span;
    this.answer = null;
    this.error = "";
    if (!this.live) this.load();
  }

  /** Fetch again when the answer grew old (the live tail only reaches five minutes back). */
  refreshIfOld() {
    if (!this.live && !this.loading && performance.now() - this.fetchedAt > REFRESH_MS) {
      this.load();
    }
  }

  async load() {
    const span = this.span;
    const to = this.store.serverNow();
    const from = to - (span.seconds === null ? WHOLE_S : span.seconds);
    const query = new URLSearchParams({ tags: this.names.join(","), from: from.toFixed(3),
      to: to.toFixed(3), points: String(POINTS) });
    this.loading = true;
    this.fetchedAt = performance.now();
    try {
      const response = await fetch(`/api/history?${query}`, { cache: "no-store" });
      const body = await response.json();
      if (span !== this.span) return; // another span was chosen meanwhile
      if (!response.ok) {
        this.error = body.error || `history: HTTP ${response.status}`;
      } else {
        this.answer = body;
        this.error = "";
      }
    } catch (error) {
      this.error = `history: ${error}`;
    } finally {
      this.loading = false;
    }
    this.onLoaded();
  }

  /** {points: [{t, v, q}], from, to} of `name` in server wall seconds, or null (live view). */
  view(name) {
    if (this.live || !this.answer) return null;
    const store = this.store;
    const to = store.serverNow();
    const kept = (this.answer.tags[name]?.points || []).map(([t, v, q]) => ({ t, v, q }));
    const lastKept = kept.length ? kept[kept.length - 1].t : -Infinity;
    const rate = store.config ? store.config.rate : 1;
    const padNow = store.padNow();
    const live = store.trends.since(name, -Infinity)
      .map((p) => ({ t: to - (padNow - p.t) / rate, v: p.v, q: p.q }))
      .filter((p) => p.t > lastKept);
    return { points: kept.concat(live), from: this.answer.from, to };
  }
}
