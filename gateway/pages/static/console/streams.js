// Streams: the list (with a create form), and one stream's partitions, sizes and message rates.
import { api, listAll, path } from "./api.js";
import { lineChart } from "./charts.js";
import { h, replace, table } from "./dom.js";
import { bytes, count, rate } from "./format.js";
import { RateMeter, SeriesBook } from "./rates.js";

const SHOWN = 25; // streams described per refresh: each costs the gateway a metadata and log-dir lookup
const meter = new RateMeter();
const history = new SeriesBook();

function messages(doc) {
  return doc.partitionDetails.reduce((sum, p) => sum + p.endOffset, 0);
}

async function describe(names) {
  return Promise.all(
    names.map((name) => api("GET", path("/api/v1/streams/{}", name)).catch((error) => ({ name, error }))),
  );
}

function observe(doc) {
  const perSecond = meter.observe(`stream:${doc.name}`, messages(doc));
  history.get(doc.name).push(perSecond);
  return perSecond;
}

function createForm(ctx) {
  const name = h("input", { id: "new-stream-name", name: "name", required: true, pattern: "[A-Za-z0-9._\\-]+", placeholder: "user-events", size: 24 });
  const partitions = h("input", { id: "new-stream-partitions", name: "partitions", type: "number", min: 1, value: 3, size: 4 });
  const replication = h("input", { id: "new-stream-replication", name: "replicationFactor", type: "number", min: 1, value: 1, size: 4 });
  const retention = h("input", { id: "new-stream-retention", name: "retentionHours", type: "number", min: 1, placeholder: "broker default", size: 10 });
  const message = h("span", { class: "error", id: "new-stream-error", role: "alert" });
  const form = h(
    "form",
    { class: "inline", id: "new-stream" },
    h("label", {}, "Name ", name),
    h("label", {}, "Partitions ", partitions),
    h("label", {}, "Replication ", replication),
    h("label", {}, "Retention (h) ", retention),
    h("button", { type: "submit", id: "new-stream-submit" }, "Create stream"),
    message,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    const body = { name: name.value.trim(), partitions: Number(partitions.value), replicationFactor: Number(replication.value) };
    if (retention.value) body.config = { retentionMs: Number(retention.value) * 3600_000 };
    try {
      await api("POST", "/api/v1/streams", { body });
      ctx.setStatus(`Created stream ${body.name}`);
      location.hash = `#/streams/${encodeURIComponent(body.name)}`;
    } catch (error) {
      message.textContent = error.message;
    }
  });
  return form;
}

export function list(main, _params, ctx) {
  const filter = h("input", { id: "stream-filter", type: "search", placeholder: "filter by name", size: 24 });
  const internal = h("input", { id: "show-internal", type: "checkbox" });
  const body = h("div", { id: "streams" }, h("p", { class: "muted" }, "Loading streams…"));
  main.append(
    h("h1", {}, "Streams"),
    h("section", { class: "card" }, h("h2", {}, "New stream"), createForm(ctx)),
    h("section", { class: "card" }, h("div", { class: "inline" }, filter, h("label", {}, internal, " internal topics")), body),
  );
  const view = {
    title: "Streams",
    async refresh() {
      const needle = filter.value.trim();
      const names = (await listAll("/api/v1/streams", "streams"))
        .map((entry) => entry.name)
        .filter((name) => (internal.checked || !name.startsWith("_")) && name.includes(needle))
        .sort();
      const docs = await describe(names.slice(0, SHOWN));
      const rows = docs.map((doc) => {
        const link = h("a", { href: `#/streams/${encodeURIComponent(doc.name)}` }, doc.name);
        if (doc.error) return h("tr", { "data-stream": doc.name }, h("td", {}, link), h("td", { colspan: 6, class: "error" }, doc.error.message));
        const perSecond = observe(doc);
        return h(
          "tr",
          { "data-stream": doc.name },
          h("td", {}, link),
          h("td", { class: "num" }, doc.partitions),
          h("td", { class: "num" }, doc.replicationFactor),
          h("td", { class: "num", "data-field": "messages" }, count(doc.totalMessages)),
          h("td", { class: "num" }, bytes(doc.totalSize)),
          h("td", { class: "num", "data-field": "rate" }, rate(perSecond)),
          h("td", {}, h("a", { href: `#/tail/${encodeURIComponent(doc.name)}` }, "tail")),
        );
      });
      const more = names.length > SHOWN ? h("p", { class: "muted" }, `Showing ${SHOWN} of ${names.length} streams: filter to narrow.`) : null;
      replace(
        body,
        names.length === 0
          ? h("p", { class: "muted" }, "No streams yet.")
          : table(["Stream", "Partitions", "Replication", "Messages", "Size", "Rate", ""], rows, { id: "stream-table" }),
        more,
      );
    },
  };
  filter.addEventListener("input", () => view.refresh().catch((error) => ctx.setStatus(error.message, true)));
  internal.addEventListener("change", () => view.refresh().catch((error) => ctx.setStatus(error.message, true)));
  return view;
}

export function detail(main, [name]) {
  const summary = h("div", { class: "stats", id: "stream-summary" });
  const chart = h("div", { class: "charts" });
  const partitions = h("div", { id: "partitions" });
  const config = h("div", { id: "stream-config" });
  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/streams" }, "Streams"), " / ", name),
    h("h1", {}, name, " ", h("a", { class: "button", id: "open-tail", href: `#/tail/${encodeURIComponent(name)}` }, "Live tail")),
    h("section", { class: "card" }, summary, chart),
    h("section", { class: "card" }, h("h2", {}, "Partitions"), partitions),
    h("section", { class: "card" }, h("h2", {}, "Config"), config),
  );
  return {
    title: name,
    async refresh() {
      const doc = await api("GET", path("/api/v1/streams/{}", name));
      const perSecond = observe(doc);
      replace(
        summary,
        stat("Partitions", doc.partitions),
        stat("Replication", doc.replicationFactor),
        stat("Messages", count(doc.totalMessages)),
        stat("Size", bytes(doc.totalSize)),
        stat("Rate", rate(perSecond)),
        stat("Stream id", doc.streamId || "–"),
      );
      replace(chart, lineChart(history.get(name), { name: "stream-rate", label: "messages/s", format: (v) => rate(v) }));
      const rows = doc.partitionDetails.map((p) =>
        h(
          "tr",
          { "data-partition": p.partition },
          h("td", { class: "num" }, p.partition),
          h("td", {}, p.leader),
          h("td", {}, p.replicas.join(", ")),
          h("td", {}, p.inSyncReplicas.join(", ")),
          h("td", { class: "num" }, count(p.startOffset)),
          h("td", { class: "num" }, count(p.endOffset)),
          h("td", { class: "num" }, bytes(p.sizeBytes)),
          h("td", { class: "num" }, rate(meter.observe(`partition:${name}:${p.partition}`, p.endOffset))),
        ),
      );
      replace(partitions, table(["#", "Leader", "Replicas", "In sync", "Start", "End", "Size", "Rate"], rows, { id: "partition-table" }));
      const entries = Object.entries(doc.config || {}).sort(([a], [b]) => a.localeCompare(b));
      replace(config, entries.length ? table(["Setting", "Value"], entries.map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, String(v))))) : h("p", { class: "muted" }, "Broker defaults."));
    },
  };
}

export function stat(label, value) {
  return h("div", { class: "stat" }, h("span", { class: "label" }, label), h("span", { class: "value" }, value));
}
