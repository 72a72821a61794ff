// Short tag histories for the sparklines: the last minutes of pad time, per tag.

const KEEP_PAD_S = 300; // five minutes of pad time
const MAX_POINTS = 600;

export class Trends {
  constructor() {
    this.series = new Map(); // tag -> [{t, v, q}]
  }

  clear() {
    this.series.clear();
  }

  /** Add one sample (pad-clock epoch `t`, value, quality); numbers only. */
  record(name, sample) {
    if (typeof sample.value !== "number" && sample.value !== null) return;
    if (sample.t === null || sample.t === undefined) return;
    let points = this.series.get(name);
    if (!points) {
      points = [];
      this.series.set(name, points);
    }
    const last = points[points.length - 1];
    if (last && sample.t < last.t) return; // never draw time backwards
    points.push({ t: sample.t, v: sample.value, q: sample.quality });
    const oldest = sample.t - KEEP_PAD_S;
    let drop = 0;
    while (drop < points.length - 1 && points[drop + 1].t < oldest) drop += 1;
    if (points.length - drop > MAX_POINTS) drop = points.length - MAX_POINTS;
    if (drop > 0) points.splice(0, drop);
  }

  /** The points of `name` from `fromT` on (the one just before it included, for the step). */
  since(name, fromT) {
    const points = this.series.get(name) || [];
    let first = 0;
    while (first < points.length - 1 && points[first + 1].t <= fromT) first += 1;
    return points.slice(first);
  }

  get keepSeconds() {
    return KEEP_PAD_S;
  }
}
