const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function bytes(value) {
  let n = Number(value) || 0;
  let unit = 0;
  while (n >= 1024 && unit < UNITS.length - 1) {
    n /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? n : n.toFixed(1)} ${UNITS[unit]}`;
}

export function count(value) {
  return Number(value || 0).toLocaleString("en-US");
}

export function rate(value) {
  if (value === null || value === undefined) return "–";
  return `${value < 10 ? value.toFixed(2) : value.toFixed(0)}/s`;
}

export function time(value) {
  if (!value) return "–";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().replace("T", " ").replace("Z", "");
}

export function clock(ms) {
  return new Date(ms).toISOString().slice(11, 19);
}

export function json(value, limit = 400) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}
