// SVG charts drawn from scratch on every refresh: a line chart over a Series and a bar chart of labelled values.
// Each chart carries data-* attributes (points, last and max value) so tests and scripts can read what it shows.
import { s } from "./dom.js";
import { clock } from "./format.js";

const PAD = { left: 44, right: 8, top: 22, bottom: 18 };

function niceMax(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * magnitude >= value);
  return step * magnitude;
}

function short(value) {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

export function lineChart(series, { name, label, format = short, width = 380, height = 120 }) {
  const points = series.points;
  const last = points.length ? points[points.length - 1][1] : null;
  const peak = points.reduce((m, [, v]) => Math.max(m, v), 0);
  const top = niceMax(peak);
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const svg = s("svg", {
    class: "chart",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": label,
    "data-chart": name,
    "data-points": points.length,
    "data-last": last ?? "",
    "data-max": peak,
  });
  svg.append(
    s("text", { x: PAD.left, y: 14, class: "chart-title" }, `${label}: ${last === null ? "–" : format(last)}`),
    s("line", { x1: PAD.left, y1: PAD.top, x2: width - PAD.right, y2: PAD.top, class: "grid" }),
    s("line", { x1: PAD.left, y1: PAD.top + plotH, x2: width - PAD.right, y2: PAD.top + plotH, class: "axis" }),
    s("text", { x: PAD.left - 4, y: PAD.top + 4, class: "tick", "text-anchor": "end" }, short(top)),
    s("text", { x: PAD.left - 4, y: PAD.top + plotH, class: "tick", "text-anchor": "end" }, "0"),
  );
  if (points.length === 0) {
    svg.append(s("text", { x: PAD.left + plotW / 2, y: PAD.top + plotH / 2, class: "empty", "text-anchor": "middle" }, "waiting for data"));
    return svg;
  }
  const t0 = points[0][0];
  const span = Math.max(points[points.length - 1][0] - t0, 1);
  const xy = points.map(([t, v]) => [
    PAD.left + (points.length === 1 ? plotW : ((t - t0) / span) * plotW),
    PAD.top + plotH - (v / top) * plotH,
  ]);
  const line = xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
  const baseline = PAD.top + plotH;
  svg.append(
    s("polygon", { class: "area", points: `${xy[0][0].toFixed(1)},${baseline} ${line} ${xy[xy.length - 1][0].toFixed(1)},${baseline}` }),
    s("polyline", { class: "line", points: line }),
    s("circle", { class: "dot", cx: xy[xy.length - 1][0].toFixed(1), cy: xy[xy.length - 1][1].toFixed(1), r: 3 }),
    s("text", { x: PAD.left, y: height - 4, class: "tick" }, clock(t0)),
    s("text", { x: width - PAD.right, y: height - 4, class: "tick", "text-anchor": "end" }, clock(points[points.length - 1][0])),
  );
  return svg;
}

export function barChart(items, { name, label, width = 480 }) {
  const rowH = 18;
  const height = PAD.top + items.length * rowH + 6;
  const peak = items.reduce((m, item) => Math.max(m, item.value), 0);
  const top = niceMax(peak);
  const labelW = Math.min(200, 12 + 6 * items.reduce((m, item) => Math.max(m, item.label.length), 0));
  const plotW = width - labelW - 60;
  const svg = s("svg", {
    class: "chart",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": label,
    "data-chart": name,
    "data-points": items.length,
    "data-max": peak,
  });
  svg.append(s("text", { x: 4, y: 14, class: "chart-title" }, label));
  items.forEach((item, i) => {
    const y = PAD.top + i * rowH;
    const w = top ? (item.value / top) * plotW : 0;
    svg.append(
      s("text", { x: labelW - 6, y: y + 12, class: "tick", "text-anchor": "end" }, item.label),
      s("rect", { x: labelW, y: y + 2, width: Math.max(w, 1).toFixed(1), height: rowH - 6, class: "bar" }),
      s("text", { x: labelW + w + 4, y: y + 12, class: "tick" }, short(item.value)),
    );
  });
  return svg;
}
