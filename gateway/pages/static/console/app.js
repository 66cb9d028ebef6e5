// The console's shell: sign-in state, the hash router and the refresh loop of the page on show.
import { session, signOut } from "./api.js";
import { replace } from "./dom.js";
import * as groups from "./groups.js";
import * as login from "./login.js";
import * as processors from "./processors.js";
import * as streams from "./streams.js";
import * as tail from "./tail.js";

const REFRESH_MS = 2000;

const ROUTES = [
  [/^\/streams$/, streams.list, "streams"],
  [/^\/streams\/([^/]+)$/, streams.detail, "streams"],
  [/^\/groups$/, groups.list, "groups"],
  [/^\/groups\/([^/]+)$/, groups.detail, "groups"],
  [/^\/processors$/, processors.list, "processors"],
  [/^\/tail\/([^/]+)$/, tail.page, "streams"],
];

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const signOutButton = document.getElementById("sign-out");
const status = document.getElementById("status");

let current = null;

function setStatus(text, isError = false) {
  status.textContent = text;
  status.classList.toggle("error", isError);
}

function stop() {
  if (!current) return;
  clearTimeout(current.timer);
  current.stopped = true;
  if (current.view.unmount) current.view.unmount();
  current = null;
}

async function tick(state) {
  if (state.stopped) return;
  try {
    await state.view.refresh();
    if (!state.stopped) setStatus(`Updated ${new Date().toLocaleTimeString("en-GB")}`);
  } catch (error) {
    if (!state.stopped) setStatus(error.message, true);
  }
  if (!state.stopped && state.view.refresh) state.timer = setTimeout(() => tick(state), state.view.refreshMs || REFRESH_MS);
}

function show() {
  stop();
  const credentials = session();
  const route = location.hash.replace(/^#/, "") || "/streams";
  nav.hidden = credentials === null;
  signOutButton.hidden = credentials === null;
  who.textContent = credentials === null ? "" : credentials.tenant ? `tenant ${credentials.tenant}` : "signed in";
  replace(main);
  setStatus("");
  if (credentials === null) {
    document.title = "Sign in · kafkagate console";
    login.mount(main, [], app);
    return;
  }
  for (const [pattern, make, section] of ROUTES) {
    const match = route.match(pattern);
    if (!match) continue;
    for (const link of nav.querySelectorAll("a[data-section]")) link.classList.toggle("active", link.dataset.section === section);
    const view = make(main, match.slice(1).map(decodeURIComponent), { setStatus });
    document.title = `${view.title} · kafkagate console`;
    current = { view, timer: null, stopped: false };
    if (view.refresh) tick(current);
    return;
  }
  location.hash = "#/streams";
}

const app = {
  signedIn() {
    if (!location.hash || location.hash === "#/") location.hash = "#/streams";
    show();
  },
};

window.addEventListener("hashchange", show);
window.addEventListener("kafkagate:unauthorized", () => {
  signOut();
  show();
});
signOutButton.addEventListener("click", () => {
  signOut();
  show();
});
show();
