// Rates and histories computed in the browser from counters the API returns (end offsets, lag).

// Observations closer together than this are one observation: a page that refreshes early (a filter typed
// into) would otherwise compute rates over a few milliseconds and chart noise.
export const MIN_GAP_MS = 1000;

// Per-second rate of a growing counter between two observations at least MIN_GAP_MS apart.
export class RateMeter {
  constructor() {
    this.last = new Map();
  }

  observe(key, value, atMs = Date.now()) {
    const before = this.last.get(key);
    if (before && atMs - before.atMs < MIN_GAP_MS) return before.rate;
    // A counter that went down (a stream deleted and created again) starts over.
    const rate = before ? Math.max(0, value - before.value) / ((atMs - before.atMs) / 1000) : null;
    this.last.set(key, { value, atMs, rate });
    return rate;
  }
}

// The last `capacity` (time, value) points of one measure.
export class Series {
  constructor(capacity = 90) {
    this.capacity = capacity;
    this.points = [];
  }

  push(value, atMs = Date.now()) {
    if (value === null || value === undefined || Number.isNaN(value)) return;
    const last = this.points[this.points.length - 1];
    if (last && atMs - last[0] < MIN_GAP_MS) return;
    this.points.push([atMs, value]);
    if (this.points.length > this.capacity) this.points.shift();
  }
}

// Series by key, kept for the life of the tab so a chart goes on where it was when its page comes back.
export class SeriesBook {
  constructor(capacity = 90) {
    this.capacity = capacity;
    this.byKey = new Map();
  }

  get(key) {
    let series = this.byKey.get(key);
    if (!series) {
      series = new Series(this.capacity);
      this.byKey.set(key, series);
    }
    return series;
  }
}
