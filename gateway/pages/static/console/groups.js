// Consumer groups: the list with each group's total lag, and one group's members and lag per partition.
import { api, path } from "./api.js";
import { barChart, lineChart } from "./charts.js";
import { h, replace, table } from "./dom.js";
import { count } from "./format.js";
import { SeriesBook } from "./rates.js";
import { stat } from "./streams.js";

const SHOWN = 25; // groups described per refresh
const lagHistory = new SeriesBook();

export function list(main, _params) {
  const filter = h("input", { id: "group-filter", type: "search", placeholder: "filter by group id", size: 24 });
  const body = h("div", { id: "groups" }, h("p", { class: "muted" }, "Loading consumer groups…"));
  main.append(h("h1", {}, "Consumer groups"), h("section", { class: "card" }, h("div", { class: "inline" }, filter), body));
  return {
    title: "Consumer groups",
    async refresh() {
      const needle = filter.value.trim();
      const groups = (await api("GET", "/api/v1/consumers")).consumerGroups
        .filter((g) => g.groupId.includes(needle))
        .sort((a, b) => a.groupId.localeCompare(b.groupId));
      const described = await Promise.all(
        groups.slice(0, SHOWN).map((g) => api("GET", path("/api/v1/consumers/{}", g.groupId)).catch(() => null)),
      );
      const rows = groups.slice(0, SHOWN).map((g, i) => {
        const doc = described[i];
        if (doc) lagHistory.get(g.groupId).push(doc.lag);
        const streams = doc ? [...new Set(doc.offsets.map((o) => o.stream))].join(", ") : "";
        return h(
          "tr",
          { "data-group": g.groupId },
          h("td", {}, h("a", { href: `#/groups/${encodeURIComponent(g.groupId)}` }, g.groupId)),
          h("td", {}, g.state),
          h("td", { class: "num" }, g.members),
          h("td", {}, streams),
          h("td", { class: "num", "data-field": "lag" }, doc ? count(doc.lag) : "–"),
        );
      });
      replace(
        body,
        groups.length === 0
          ? h("p", { class: "muted" }, "No consumer groups.")
          : table(["Group", "State", "Members", "Streams", "Lag"], rows, { id: "group-table" }),
        groups.length > SHOWN ? h("p", { class: "muted" }, `Showing ${SHOWN} of ${groups.length} groups: filter to narrow.`) : null,
      );
    },
  };
}

export function detail(main, [group]) {
  const summary = h("div", { class: "stats" });
  const charts = h("div", { class: "charts" });
  const offsets = h("div", { id: "group-offsets" });
  const members = h("div", { id: "group-members" });
  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/groups" }, "Consumer groups"), " / ", group),
    h("h1", {}, group),
    h("section", { class: "card" }, summary, charts),
    h("section", { class: "card" }, h("h2", {}, "Lag per partition"), offsets),
    h("section", { class: "card" }, h("h2", {}, "Members"), members),
  );
  return {
    title: group,
    async refresh() {
      const doc = await api("GET", path("/api/v1/consumers/{}", group));
      lagHistory.get(group).push(doc.lag);
      replace(summary, stat("State", doc.state), stat("Members", doc.members.length), stat("Total lag", count(doc.lag)));
      const bars = doc.offsets.map((o) => ({ label: `${o.stream}/${o.partition}`, value: o.lag }));
      replace(
        charts,
        lineChart(lagHistory.get(group), { name: "group-lag", label: "total lag" }),
        bars.length ? barChart(bars, { name: "partition-lag", label: "lag per partition" }) : null,
      );
      const rows = doc.offsets.map((o) =>
        h(
          "tr",
          { "data-partition": `${o.stream}/${o.partition}` },
          h("td", {}, o.stream),
          h("td", { class: "num" }, o.partition),
          h("td", { class: "num" }, count(o.committedOffset)),
          h("td", { class: "num" }, count(o.endOffset)),
          h("td", { class: "num", "data-field": "lag" }, count(o.lag)),
        ),
      );
      replace(offsets, rows.length ? table(["Stream", "Partition", "Committed", "End", "Lag"], rows, { id: "lag-table" }) : h("p", { class: "muted" }, "No committed offsets."));
      const memberRows = doc.members.map((m) =>
        h("tr", {}, h("td", {}, m.memberId), h("td", {}, m.clientId), h("td", {}, m.host), h("td", {}, m.assignments.map((a) => `${a.stream}/${a.partition}`).join(", "))),
      );
      replace(members, memberRows.length ? table(["Member", "Client", "Host", "Assigned"], memberRows) : h("p", { class: "muted" }, "No members."));
    },
  };
}
