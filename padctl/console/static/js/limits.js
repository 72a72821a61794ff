// Normal bands for the analog indicators: the launch commit criteria active at the T-time now,
// as the server sends them in the snapshot (`config.lcc`).

let criteria = [];
let byTag = new Map();

function index(list) {
  criteria = list;
  byTag = new Map();
  for (const criterion of list) {
    for (const tag of criterion.tags) {
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(criterion);
    }
  }
}

/** Load the criteria from the snapshot's config. Says where they came from ("server", "none"). */
export async function loadLimits(config) {
  index([]);
  if (config && Array.isArray(config.lcc)) {
    index(config.lcc);
    return "server";
  }
  return "none";
}

/**
 * The band for `tag` at T-time `tS`: {low, high, equals, ids} from every criterion active then
 * (the tightest of them), or null when none is.
 */
export function bandAt(tag, tS) {
  const list = byTag.get(tag);
  if (!list) return null;
  let band = null;
  for (const c of list) {
    if (tS < c.from_s || tS > c.to_s) continue;
    band = band || { low: null, high: null, equals: null, ids: [] };
    if (c.low !== null && (band.low === null || c.low > band.low)) band.low = c.low;
    if (c.high !== null && (band.high === null || c.high < band.high)) band.high = c.high;
    if (c.equals !== null) band.equals = c.equals;
    band.ids.push(c.id);
  }
  return band;
}

export function criteriaCount() {
  return criteria.length;
}
