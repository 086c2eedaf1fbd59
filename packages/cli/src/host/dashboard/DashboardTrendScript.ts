/**
 * The dashboard's scan-history trend (browser code, placed inside the script's closure by
 * `DashboardScript.ts`): two charts over the same scans, oldest first — the composite score per
 * authority (world model, rubric, blended) and the per-agent score (with its interval in the
 * tooltip) — each one continuous series across world-model versions (ADR-030: no boundary, no
 * split), with a dashed overlay marker at every scan whose world-model version differs from the
 * scan before it. Clicking a marker shows that version's metadata (the scans' attribution envelope:
 * world model, version before and after, authority rule-set hash, when its EvalSet was generated,
 * the first scan on it, and what `GET …/world-models/:id/versions/:version` publishes about it).
 * Data: `GET …/history` (one entry per completed scan), joined by scan id to the scan list for the
 * attribution envelope.
 */
export const trendScript = String.raw`
  var authorities = [
    { key: "worldModel", name: "world model" },
    { key: "rubric", name: "rubric" },
    { key: "blended", name: "blended" }
  ];

  /** One history entry (the API's HistoryEntry) as the charts read it, with its scan's attribution envelope. */
  function normalizeEntry(e, scansById) {
    var scan = scansById[e.scanId] || null;
    var agents = {};
    e.agents.forEach(function (a) { agents[a.agentId] = { estimate: a.estimate, low: a.low, high: a.high, level: a.level }; });
    return {
      scanId: e.scanId,
      at: e.startedAt,
      finishedAt: e.finishedAt,
      version: e.worldModel ? e.worldModel.worldModelVersion : null,
      worldModelId: e.worldModel ? e.worldModel.worldModelId : null,
      ruleSetHash: e.worldModel ? e.worldModel.ruleSetHash : null,
      generatedAt: scan && scan.attribution ? scan.attribution.generatedAt : null,
      scores: e.composite,
      agents: agents
    };
  }
  function loadHistory(scans) {
    var scansById = {};
    scans.forEach(function (s) { scansById[s.id] = s; });
    return api(ws("/history")).then(function (entries) {
      drawTrends(entries.map(function (e) { return normalizeEntry(e, scansById); }).sort(byTime("at")));
    });
  }

  function versionMarkers(history, labels) {
    var markers = [];
    history.forEach(function (h, i) {
      if (i === 0 || h.version === history[i - 1].version) return;
      markers.push({
        xAxis: labels[i],
        name: "world model " + (h.version || "unattributed"),
        version: {
          worldModelId: h.worldModelId, from: history[i - 1].version, to: h.version, scanId: h.scanId, at: h.at,
          ruleSetHash: h.ruleSetHash, generatedAt: h.generatedAt
        }
      });
    });
    return markers;
  }
  /** The marker's metadata at once, then what the host publishes about that version (title, rules, dimensions, scans on it). */
  function showVersion(v) {
    var el = $("version-detail");
    var published = text("span", v.worldModelId && v.to ? " · reading the published version…" : "", "published");
    el.replaceChildren(
      text("strong", "World model " + (v.worldModelId || "?") + ": version " + (v.from || "unattributed") + " → " + (v.to || "unattributed")),
      text("span", " at scan " + v.scanId + " (" + v.at + ")"),
      text("span", v.ruleSetHash ? " · rule set " + v.ruleSetHash : ""),
      text("span", v.generatedAt ? " · EvalSet generated " + v.generatedAt : ""),
      published
    );
    el.dataset.version = v.to || "";
    el.hidden = false;
    if (!v.worldModelId || !v.to) return;
    api(ws("/world-models/" + encodeURIComponent(v.worldModelId) + "/versions/" + encodeURIComponent(v.to))).then(function (m) {
      published.textContent = " · " + m.title + (m.current ? " (current)" : "") + ": " + m.description + " · " + m.rules + " rules, dimensions " + m.dimensions.join(", ") +
        " · " + m.scans.count + " scan" + (m.scans.count === 1 ? "" : "s") + " on it" + (m.scans.firstAt ? " since " + m.scans.firstAt : "");
    }, function (error) {
      published.textContent = error.status === 404 ? " · this version is not published by the host's worlds (" + error.message + ")" : " · " + error.message;
    });
  }
  function markLineOf(markers) {
    return { symbol: "none", silent: false, label: { formatter: "{b}", position: "insideEndTop" }, lineStyle: { type: "dashed", width: 2, color: "#7c3aed" }, data: markers };
  }
  function onMarkerClick(c) {
    c.off("click");
    c.on("click", function (event) { if (event.componentType === "markLine" && event.data && event.data.version) showVersion(event.data.version); });
  }
  function lineChart(id, labels, series, markers, yName, tooltip) {
    var el = $(id);
    el.dataset.points = JSON.stringify(series.map(function (s) { return s.data.filter(function (v) { return v !== null; }).length; }));
    el.dataset.markers = String(markers.length);
    delete el.dataset.drawn;
    delete el.dataset.drawnAt;
    var c = chart(id);
    c.off("finished");
    // Stamped once per draw: when the drawn chart was first on screen (ms since navigation start).
    c.on("finished", function () { if (!el.dataset.drawnAt) el.dataset.drawnAt = String(Math.round(performance.now())); el.dataset.drawn = "true"; });
    draw(id, {
      grid: { left: 55, right: 30, top: 50, bottom: 60 },
      legend: { top: 0, type: "scroll" },
      tooltip: tooltip,
      xAxis: { type: "category", data: labels, axisLabel: { rotate: 20, hideOverlap: true } },
      yAxis: { type: "value", min: 0, max: 1, name: yName },
      series: series.map(function (s, i) {
        return Object.assign({ type: "line", symbolSize: labels.length > 60 ? 4 : 8, connectNulls: true }, s, i === 0 ? { markLine: markLineOf(markers) } : {});
      })
    });
    onMarkerClick(c);
    return c;
  }
  function drawTrends(history) {
    var labels = history.map(function (h, i) { return "#" + (i + 1) + " " + String(h.at).slice(0, 16).replace("T", " "); });
    var markers = versionMarkers(history, labels);
    $("trend-title").textContent = history.length === 0 ? "No finished scan yet."
      : history.length + " scans" + (history[0].version ? "; the first on world model " + (history[0].worldModelId || "") + " " + history[0].version : "") + ".";
    lineChart("trend-chart", labels, authorities.map(function (a) {
      return { name: a.name, data: history.map(function (h) { return h.scores[a.key]; }) };
    }), markers, "score", { trigger: "axis", valueFormatter: fmt });

    var agentIds = [];
    history.forEach(function (h) { Object.keys(h.agents).forEach(function (id) { if (agentIds.indexOf(id) < 0) agentIds.push(id); }); });
    agentIds.sort();
    $("agent-trend-chart").dataset.agents = JSON.stringify(agentIds);
    lineChart("agent-trend-chart", labels, agentIds.map(function (id) {
      return { name: id, data: history.map(function (h) { return h.agents[id] ? h.agents[id].estimate : null; }) };
    }), markers, "score", {
      trigger: "axis",
      formatter: function (params) {
        var h = history[params[0].dataIndex];
        return [esc(params[0].axisValue + (h.version ? " · world model " + h.version : ""))].concat(params.map(function (p) {
          var i = h.agents[p.seriesName];
          return p.marker + esc(p.seriesName) + ": " + (i ? fmt(i.estimate) + (i.low !== null ? " [" + fmt(i.low) + ", " + fmt(i.high) + "]" : "") : "—");
        })).join("<br>");
      }
    });
  }
`
