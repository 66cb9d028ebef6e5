// A live tail: long polls of the consume API as the only member of a consumer group of this tab's own.
// The group commits nothing. Leaving the page closes its member and deletes the group; when the tab is closed
// instead, the member goes at the gateway's idle timeout and Kafka drops the empty group on its own later.
import { api, headers, path } from "./api.js";
import { h, replace, table } from "./dom.js";
import { clock, count, json, rate } from "./format.js";
import { RateMeter } from "./rates.js";

const KEPT = 200; // rows on screen
const POLL_TIMEOUT_MS = 1000;
const TAB = "kafkagate.tab";

function tabId() {
  let id = sessionStorage.getItem(TAB);
  if (!id) {
    id = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("");
    sessionStorage.setItem(TAB, id);
  }
  return id;
}

function closeMember(group) {
  // keepalive: the first request still goes out when the tab is closing; the second only if the page lives on.
  const sent = { headers: headers(), keepalive: true };
  fetch(path("/api/v1/consumers/{}/sessions", group), { method: "DELETE", ...sent })
    .then((closed) => closed.ok && fetch(path("/api/v1/consumers/{}", group), { method: "DELETE", ...sent }))
    .catch(() => {});
}

export function page(main, [stream], ctx) {
  const from = h("select", { id: "tail-from" }, h("option", { value: "latest" }, "new events"), h("option", { value: "earliest" }, "the beginning"));
  const pause = h("button", { type: "button", id: "tail-pause" }, "Pause");
  const state = h("span", { class: "muted", id: "tail-state" }, "connecting…");
  const received = h("span", { id: "tail-count" }, "0");
  const speed = h("span", { id: "tail-rate" }, "–");
  const rows = h("tbody", { id: "tail-rows" });
  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/streams" }, "Streams"), " / ", h("a", { href: `#/streams/${encodeURIComponent(stream)}` }, stream), " / tail"),
    h("h1", {}, `Live tail: ${stream}`),
    h(
      "section",
      { class: "card" },
      h("div", { class: "inline" }, h("label", {}, "Show ", from), pause, state),
      h("p", {}, "Received ", received, " events · ", speed),
      h(
        "table",
        { id: "tail-table", class: "tail" },
        h("thead", {}, h("tr", {}, ["Time", "Partition", "Offset", "Key", "Value", "Headers"].map((t) => h("th", {}, t)))),
        rows,
      ),
    ),
  );

  let group = null;
  let generation = 0;
  let total = 0;
  let paused = false;
  let stopped = false;
  const meter = new RateMeter();

  function addRows(events) {
    for (const event of events) {
      rows.prepend(
        h(
          "tr",
          { "data-offset": event.offset, "data-partition": event.partition },
          h("td", {}, clock(Date.parse(event.timestamp) || Date.now())),
          h("td", { class: "num" }, event.partition),
          h("td", { class: "num" }, event.offset),
          h("td", { class: "key" }, event.key === null || event.key === undefined ? "–" : json(event.key, 80)),
          h("td", { class: "value" }, json(event.value)),
          h("td", { class: "headers" }, event.headers && Object.keys(event.headers).length ? json(event.headers, 120) : ""),
        ),
      );
    }
    while (rows.children.length > KEPT) rows.lastElementChild.remove();
  }

  async function run(mine) {
    let first = true;
    while (!stopped && mine === generation) {
      if (paused) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        continue;
      }
      try {
        const body = await api("GET", path("/api/v1/streams/{}/events", stream), {
          // Only the first poll says where to start: on later ones an offset would be a seek.
          query: { consumerGroup: group, offset: first ? from.value : undefined, limit: 200, timeout: POLL_TIMEOUT_MS, autoCommit: false },
        });
        if (stopped || mine !== generation) return;
        first = false;
        total += body.events.length;
        addRows(body.events);
        received.textContent = count(total);
        speed.textContent = rate(meter.observe("events", total));
        const assigned = body.metadata.assignedPartitions || [];
        state.textContent = assigned.length ? `listening on partitions ${assigned.join(", ")} as ${group}` : `joining as ${group}…`;
        state.dataset.listening = assigned.length ? "true" : "false";
      } catch (error) {
        state.textContent = error.message;
        state.dataset.listening = "false";
        ctx.setStatus(error.message, true);
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  }

  function start() {
    if (group) closeMember(group);
    generation += 1;
    group = `console-tail-${tabId()}-${Date.now().toString(36)}`;
    total = 0;
    received.textContent = "0";
    rows.replaceChildren();
    state.textContent = `joining as ${group}…`;
    state.dataset.listening = "false";
    state.dataset.group = group;
    run(generation);
  }

  const onLeave = () => group && closeMember(group);
  window.addEventListener("pagehide", onLeave);
  from.addEventListener("change", start);
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
  });
  start();
  return {
    title: `Tail ${stream}`,
    unmount() {
      stopped = true;
      window.removeEventListener("pagehide", onLeave);
      onLeave();
    },
  };
}
