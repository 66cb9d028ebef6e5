// The public API, called with the bearer token entered at sign-in. The token lives in this tab's sessionStorage
// only: it is gone when the tab closes, and other tabs sign in on their own.
const SESSION = "kafkagate.session";

export class ApiError extends Error {
  constructor(status, problem) {
    const detail = problem && (problem.detail || problem.title || problem.message);
    super(detail ? `${status} ${detail}` : `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function session() {
  const raw = sessionStorage.getItem(SESSION);
  if (raw === null) return null;
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}

export function signIn(token, tenant) {
  sessionStorage.setItem(SESSION, JSON.stringify({ token, tenant }));
}

export function signOut() {
  sessionStorage.removeItem(SESSION);
}

export function headers(current = session()) {
  const sent = { accept: "application/json" };
  if (current && current.token) sent.authorization = `Bearer ${current.token}`;
  if (current && current.tenant) sent["x-tenant-id"] = current.tenant;
  return sent;
}

export function path(template, ...parts) {
  let i = 0;
  return template.replace(/\{\}/g, () => encodeURIComponent(parts[i++]));
}

export async function api(method, url, { body, query, keepalive = false, credentials } = {}) {
  const sent = headers(credentials);
  if (body !== undefined) sent["content-type"] = "application/json";
  let target = url;
  if (query) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== null) params.set(name, value);
    target = `${url}?${params}`;
  }
  const response = await fetch(target, {
    method,
    headers: sent,
    body: body === undefined ? undefined : JSON.stringify(body),
    keepalive,
    cache: "no-store",
  });
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { detail: text.slice(0, 200) };
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, parsed);
    if (response.status === 401 && !credentials) window.dispatchEvent(new CustomEvent("kafkagate:unauthorized"));
    throw error;
  }
  return parsed;
}

// Every page of a cursor-paged listing (`nextAfter`), up to `maxPages`.
export async function listAll(url, key, { limit = 500, maxPages = 10 } = {}) {
  const found = [];
  let after;
  for (let page = 0; page < maxPages; page += 1) {
    const body = await api("GET", url, { query: { limit, after } });
    found.push(...body[key]);
    if (!body.nextAfter) break;
    after = body.nextAfter;
  }
  return found;
}
