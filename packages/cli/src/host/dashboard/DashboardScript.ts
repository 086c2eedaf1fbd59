/**
 * The dashboard's browser script (plain JavaScript, served at `/assets/dashboard.js`). Signs in with
 * the API key (kept in sessionStorage; a refused key shows the API's 401 message), then reads the
 * key's workspace from the host API and draws with ECharts: the blended score per scan as one
 * continuous series with clickable world-model version markers, the latest verdict's gate table and
 * forest plot of per-agent change intervals, failure clusters as bars with their explanations, and
 * the latest change set with Approve / Reject (each then shows the audit trail the API returns).
 */
export const dashboardScript = String.raw`"use strict";
(function () {
  var storageKey = "spectral.apiKey";
  var theme = JSON.parse(document.getElementById("chart-theme").textContent);
  var state = { key: null, workspaceId: null, changeSetId: null };
  var charts = {};
  var $ = function (id) { return document.getElementById(id); };

  function show(id, on) { $(id).hidden = !on; }
  function showError(id, message) { var el = $(id); el.textContent = message; el.hidden = message === ""; }
  function text(tag, value, cls) { var el = document.createElement(tag); el.textContent = value; if (cls) el.className = cls; return el; }
  function row(cells) { var tr = document.createElement("tr"); cells.forEach(function (c) { tr.appendChild(c instanceof Node ? c : text("td", c)); }); return tr; }
  function fill(tableId, rows) { var body = $(tableId).querySelector("tbody"); body.replaceChildren.apply(body, rows); }
  function measure(m) { return m && m._tag === "Present" ? m.value : null; }
  function fmt(v) { return v === null || v === undefined ? "—" : (Math.round(v * 1000) / 1000).toString(); }
  function chart(id) {
    if (!charts[id]) charts[id] = echarts.init($(id), null, { renderer: "canvas" });
    return charts[id];
  }
  function draw(id, option) { var c = chart(id); c.clear(); c.setOption(theme); c.setOption(option); return c; }

  function api(path, init) {
    var headers = { authorization: "Bearer " + state.key };
    if (init && init.body) headers["content-type"] = "application/json";
    return fetch(path, Object.assign({}, init || {}, { headers: headers })).then(function (response) {
      return response.text().then(function (body) {
        var json = null;
        try { json = body === "" ? null : JSON.parse(body); } catch (e) { json = null; }
        if (!response.ok) {
          var message = json && json.message ? json.message : "HTTP " + response.status;
          var error = new Error(message); error.status = response.status; throw error;
        }
        return json;
      });
    });
  }
  function ws(path) { return "/api/workspaces/" + encodeURIComponent(state.workspaceId) + path; }

  // --- sign-in ---
  function signIn(key) {
    state.key = key;
    return api("/dashboard/session").then(function (session) {
      sessionStorage.setItem(storageKey, key);
      state.workspaceId = session.workspaceId;
      showError("sign-in-error", "");
      show("sign-in", false); show("workspace", true); show("sign-out", true);
      $("workspace-name").textContent = session.workspaceId + " · " + session.scope + " key";
      return load();
    }, function (error) {
      sessionStorage.removeItem(storageKey);
      state.key = null;
      showError("sign-in-error", error.message);
    });
  }
  function signOut() {
    sessionStorage.removeItem(storageKey);
    state.key = null; state.workspaceId = null;
    show("workspace", false); show("sign-out", false); show("sign-in", true);
    $("workspace-name").textContent = "";
  }

  function load() {
    showError("load-error", "");
    return api(ws("/scans")).then(function (scans) {
      var ordered = scans.slice().sort(function (a, b) { return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0; });
      drawTrend(ordered);
      var finished = ordered.filter(function (s) { return s.verdict !== undefined; });
      var latest = finished[finished.length - 1];
      return Promise.all([latest ? loadVerdict(latest) : Promise.resolve(), loadChangeSet()]);
    }).then(function () { document.body.dataset.loaded = "true"; }, function (error) {
      showError("load-error", error.message);
    });
  }

  // --- (a) the trend ---
  function versionOf(scan) { return scan.attribution ? scan.attribution.worldModelVersion : null; }
  function drawTrend(scans) {
    var scored = scans.filter(function (s) { return typeof s.blendedScore === "number"; });
    var labels = scored.map(function (s, i) { return "#" + (i + 1) + " " + s.createdAt.slice(0, 16).replace("T", " "); });
    var markers = [];
    scored.forEach(function (s, i) {
      var previous = i === 0 ? null : versionOf(scored[i - 1]);
      if (i > 0 && versionOf(s) !== previous) {
        markers.push({
          xAxis: labels[i],
          name: "world model " + (versionOf(s) || "unattributed"),
          version: { worldModelId: s.attribution ? s.attribution.worldModelId : null, from: previous, to: versionOf(s), scanId: s.id, at: s.createdAt }
        });
      }
    });
    var first = scored[0];
    $("trend-chart").dataset.points = String(scored.length);
    $("trend-chart").dataset.markers = String(markers.length);
    var c = draw("trend-chart", {
      grid: { left: 50, right: 30, top: 40, bottom: 60 },
      tooltip: { trigger: "axis", valueFormatter: fmt },
      xAxis: { type: "category", data: labels, axisLabel: { rotate: 20 } },
      yAxis: { type: "value", min: 0, max: 1, name: "blended score" },
      title: { text: first && versionOf(first) ? "first scan on world model " + versionOf(first) : "", textStyle: { fontSize: 12, fontWeight: "normal" }, right: 10, top: 0 },
      series: [{
        name: "blended", type: "line", data: scored.map(function (s) { return s.blendedScore; }),
        symbolSize: 9, connectNulls: true,
        markLine: { symbol: "none", silent: false, label: { formatter: "{b}" }, lineStyle: { type: "dashed", width: 2, color: "#7c3aed" }, data: markers }
      }]
    });
    c.off("click");
    c.on("click", function (event) {
      if (event.componentType !== "markLine") return;
      var v = event.data.version;
      var el = $("version-detail");
      el.textContent = "World model " + (v.worldModelId || "?") + ": version " + (v.from || "unattributed") + " → " + (v.to || "unattributed") + " at scan " + v.scanId + " (" + v.at + ")";
      el.hidden = false;
    });
  }

  // --- (b) the verdict ---
  function loadVerdict(scan) {
    var base = ws("/scans/" + encodeURIComponent(scan.id));
    return Promise.all([api(base + "/result"), api(base + "/card.json"), api(base + "/clusters")]).then(function (all) {
      var result = all[0], card = all[1], clusters = all[2];
      var outcome = $("verdict-outcome");
      outcome.textContent = result.verdict.outcome + " · " + result.verdict.checksPassed + " of " + result.verdict.checksTotal + " checks pass";
      outcome.className = "badge " + result.verdict.outcome;
      $("verdict-explanation").textContent = result.verdict.explanation;
      fill("gate-table", result.verdict.checks.map(function (c) {
        return row([c.gate, c.check, text("td", c.status, "status-" + c.status), c.reason]);
      }));
      fill("dimension-table", Object.keys(result.composite.perDimension).sort().map(function (d) {
        var m = result.composite.perDimension[d];
        return row([d, m._tag === "Present" ? fmt(m.value) : "absent: " + m.reason]);
      }));
      drawForest(card, result.verdict.delta);
      drawClusters(clusters);
    });
  }
  function drawForest(card, teamDelta) {
    var rows = card.agents.map(function (a) { return { name: a.name, interval: a.change, score: measure(a.candidateScore) }; });
    if (teamDelta) rows.push({ name: "team (blended Δ)", interval: teamDelta, score: null });
    var names = rows.map(function (r) { return r.name; });
    $("forest-chart").dataset.rows = String(card.agents.length);
    $("forest-chart").style.height = Math.max(160, 50 + rows.length * 38) + "px";
    chart("forest-chart").resize();
    var whiskers = rows.map(function (r, i) { return r.interval ? [i, r.interval.low, r.interval.high] : [i, null, null]; });
    draw("forest-chart", {
      grid: { left: 150, right: 40, top: 20, bottom: 40 },
      xAxis: { type: "value", name: "change (candidate − baseline)", nameLocation: "middle", nameGap: 25, scale: true },
      yAxis: { type: "category", data: names, inverse: true },
      tooltip: { trigger: "item", formatter: function (p) {
        var r = rows[p.dataIndex];
        return r.name + (r.interval ? ": " + fmt(r.interval.estimate) + " [" + fmt(r.interval.low) + ", " + fmt(r.interval.high) + "]" : ": no interval (unchanged)");
      } },
      series: [
        { type: "custom", name: "interval", data: whiskers, renderItem: function (params, api) {
          if (api.value(1) === null || isNaN(api.value(1))) return null;
          var low = api.coord([api.value(1), api.value(0)]), high = api.coord([api.value(2), api.value(0)]);
          var style = { stroke: "#2563eb", lineWidth: 2 };
          return { type: "group", children: [
            { type: "line", shape: { x1: low[0], y1: low[1], x2: high[0], y2: high[1] }, style: style },
            { type: "line", shape: { x1: low[0], y1: low[1] - 6, x2: low[0], y2: low[1] + 6 }, style: style },
            { type: "line", shape: { x1: high[0], y1: high[1] - 6, x2: high[0], y2: high[1] + 6 }, style: style }
          ] };
        }, encode: { x: [1, 2], y: 0 } },
        { type: "scatter", name: "estimate", symbol: "diamond", symbolSize: 12,
          data: rows.map(function (r, i) { return r.interval ? [r.interval.estimate, i] : [0, i]; }),
          itemStyle: { color: function (p) { return rows[p.dataIndex].interval ? "#1d4ed8" : "#9ca3af"; } } }
      ],
      markLine: undefined
    });
  }

  // --- (c) clusters ---
  function drawClusters(clusters) {
    var sorted = clusters.slice().sort(function (a, b) { return b.frequencyPct - a.frequencyPct; });
    $("cluster-chart").dataset.bars = String(sorted.length);
    $("cluster-chart").style.height = Math.max(140, 50 + sorted.length * 36) + "px";
    chart("cluster-chart").resize();
    draw("cluster-chart", {
      grid: { left: 220, right: 60, top: 10, bottom: 45 },
      xAxis: { type: "value", name: "% of evaluated traces", nameLocation: "middle", nameGap: 25 },
      yAxis: { type: "category", inverse: true, data: sorted.map(function (c) { return c.label; }), axisLabel: { width: 200, overflow: "truncate" } },
      series: [{ type: "bar", data: sorted.map(function (c) { return Math.round(c.frequencyPct * 10) / 10; }), itemStyle: { color: "#dc2626" }, label: { show: true, position: "right", formatter: "{c}%" } }]
    });
    $("cluster-list").replaceChildren.apply($("cluster-list"), sorted.map(function (c) {
      var li = document.createElement("li");
      li.appendChild(text("div", c.label + " — " + c.memberTraceIds.length + " traces" + (c.severitySummary ? " (" + c.severitySummary + ")" : ""), "label"));
      c.representativeExplanations.slice(0, 3).forEach(function (e) { li.appendChild(text("p", e, "explanation")); });
      return li;
    }));
    if (sorted.length === 0) $("cluster-list").appendChild(text("li", "No failure clusters in this scan."));
  }

  // --- (d) the change set ---
  function loadChangeSet() {
    return api(ws("/change-sets")).then(function (sets) {
      var latest = sets.slice().sort(function (a, b) { return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.version - b.version; }).pop();
      if (!latest) { $("change-set-summary").textContent = "No change set yet."; setDecisionEnabled(false); return; }
      state.changeSetId = latest.id;
      return api(ws("/change-sets/" + encodeURIComponent(latest.id))).then(renderChangeSet);
    });
  }
  function setDecisionEnabled(on) { $("approve").disabled = !on; $("reject").disabled = !on; }
  function renderChangeSet(detail) {
    var cs = detail.changeSet;
    var status = $("change-set-status");
    status.textContent = cs.status; status.className = "badge " + cs.status;
    var changed = cs.agents.map(function (a) { return a.agentId + " v" + a.version; }).join(", ");
    $("change-set-summary").textContent = cs.id + " · version " + cs.version + (cs.baselineId ? " against " + cs.baselineId : " (no baseline)") + " · agents: " + changed;
    setDecisionEnabled(detail.approval.awaitingDecision);
    fill("audit-table", detail.audit.map(function (e) {
      return row([e.at.replace("T", " ").slice(0, 19), e.action, e.actor, (e.from || "—") + " → " + (e.to || "—"), e.detail]);
    }));
  }
  function decide(action) {
    var actor = $("actor").value.trim();
    var payload = { actor: actor };
    if (action === "reject") payload.reason = $("reject-reason").value.trim();
    showError("decision-error", "");
    setDecisionEnabled(false);
    return api(ws("/change-sets/" + encodeURIComponent(state.changeSetId) + "/" + action), { method: "POST", body: JSON.stringify(payload) })
      .then(renderChangeSet, function (error) { showError("decision-error", error.message); setDecisionEnabled(true); });
  }

  $("sign-in-form").addEventListener("submit", function (event) { event.preventDefault(); signIn($("api-key").value.trim()); });
  $("sign-out").addEventListener("click", signOut);
  $("approve").addEventListener("click", function () { decide("approve"); });
  $("reject").addEventListener("click", function () { decide("reject"); });
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  var saved = sessionStorage.getItem(storageKey);
  if (saved) signIn(saved);
})();
`
