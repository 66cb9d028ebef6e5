// Processors: status, throughput, lag and open windows of each, with charts that follow them live.
import { api, path } from "./api.js";
import { lineChart } from "./charts.js";
import { h, replace, table } from "./dom.js";
import { count, rate, time } from "./format.js";
import { SeriesBook } from "./rates.js";
import { stat } from "./streams.js";

const SHOWN = 20;
const throughput = new SeriesBook();
const lag = new SeriesBook();

function card(summary, doc) {
  const m = doc.metrics;
  throughput.get(summary.processorId).push(m.throughput);
  lag.get(summary.processorId).push(m.lag);
  const windows = doc.windows.map((w) =>
    h("tr", {}, h("td", {}, time(w.windowStart)), h("td", {}, time(w.windowEnd)), h("td", { class: "num" }, count(w.eventsCount))),
  );
  return h(
    "section",
    { class: "card processor", "data-processor": summary.processorId, "data-name": summary.name },
    h(
      "h2",
      {},
      summary.name,
      " ",
      h("span", { class: `badge ${doc.status}`, "data-field": "status" }, doc.status),
      h("span", { class: "muted small" }, ` ${summary.processorId} · v${doc.version} · desired ${summary.desired}`),
    ),
    doc.reason ? h("p", { class: "error" }, doc.reason) : null,
    h(
      "div",
      { class: "stats" },
      stat("Processed", count(m.eventsProcessed)),
      stat("Throughput", rate(m.throughput)),
      stat("Lag", count(m.lag)),
      stat("Avg latency", `${m.avgLatency.toFixed(1)} ms`),
      stat("Error rate", `${(m.errorRate * 100).toFixed(2)} %`),
      stat("Emitted", count(m.eventsEmitted)),
      stat("Filtered", count(m.eventsFiltered)),
      stat("Late", count(m.lateEvents)),
      stat("Dead-lettered", count(m.dlqEvents)),
      stat("Last event", time(m.lastEventAt)),
    ),
    h(
      "div",
      { class: "charts" },
      lineChart(throughput.get(summary.processorId), { name: "throughput", label: "throughput (events/s)", format: (v) => rate(v) }),
      lineChart(lag.get(summary.processorId), { name: "lag", label: "lag (events)" }),
    ),
    h("h3", {}, `Open windows (${windows.length})`),
    windows.length ? table(["Start", "End", "Events"], windows, { class: "windows" }) : h("p", { class: "muted" }, "No open windows."),
  );
}

export function list(main) {
  const body = h("div", { id: "processors" }, h("p", { class: "muted" }, "Loading processors…"));
  main.append(h("h1", {}, "Processors"), body);
  return {
    title: "Processors",
    async refresh() {
      const summaries = (await api("GET", "/api/v1/processors")).processors.slice(0, SHOWN);
      const docs = await Promise.all(
        summaries.map((p) => api("GET", path("/api/v1/processors/{}/metrics", p.processorId)).catch(() => null)),
      );
      const cards = summaries.map((p, i) => (docs[i] ? card(p, docs[i]) : null));
      replace(body, cards.length ? cards : h("p", { class: "card muted" }, "No processors. Submit a spec with POST /api/v1/processors."));
    },
  };
}
