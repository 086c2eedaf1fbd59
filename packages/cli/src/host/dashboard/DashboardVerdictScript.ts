/**
 * The dashboard's latest verdict (browser code, placed inside the script's closure by
 * `DashboardScript.ts`): the outcome and its explanation, the gate table, and beside it one forest
 * plot in two panels — a row per agent (the card's change, candidate − baseline, with its interval,
 * plus the team's blended delta) and a row per scoring dimension of either authority (its paired
 * change with the interval the dimension-regression gate judged; the composite's score as a point
 * where no gate judged one) — then the failure clusters as bars with their representative
 * explanations and severity variants.
 */
export const verdictScript = String.raw`
  function loadVerdict(scan) {
    var base = ws("/scans/" + encodeURIComponent(scan.id));
    return Promise.all([api(base + "/result"), api(base + "/card.json"), api(base + "/clusters")]).then(function (all) {
      var result = all[0], card = all[1], clusters = all[2];
      var outcome = $("verdict-outcome");
      outcome.textContent = result.verdict.outcome + " · " + result.verdict.checksPassed + " of " + result.verdict.checksTotal + " checks pass";
      outcome.className = "badge " + result.verdict.outcome;
      $("verdict-explanation").textContent = result.verdict.explanation;
      fill("gate-table", result.verdict.checks.map(function (c) {
        var name = document.createElement("td");
        name.className = "gate";
        name.append(text("div", c.gate, "gate-name"), text("div", c.check, "check-name"));
        var tr = row([name, text("td", c.status, "status status-" + c.status), text("td", c.reason, "reason")]);
        tr.dataset.gate = c.gate; tr.dataset.check = c.check;
        return tr;
      }));
      drawForest(card, result);
      drawClusters(clusters);
    });
  }

  function forestSeries(rows, axis, color) {
    return [
      { type: "custom", name: "interval", xAxisIndex: axis, yAxisIndex: axis,
        data: rows.map(function (r, i) { return r.low !== null ? [i, r.low, r.high] : [i, NaN, NaN]; }),
        renderItem: function (params, api) {
          if (isNaN(api.value(1))) return null;
          var low = api.coord([api.value(1), api.value(0)]), high = api.coord([api.value(2), api.value(0)]);
          var style = { stroke: color, lineWidth: 2 };
          return { type: "group", children: [
            { type: "line", shape: { x1: low[0], y1: low[1], x2: high[0], y2: high[1] }, style: style },
            { type: "line", shape: { x1: low[0], y1: low[1] - 6, x2: low[0], y2: low[1] + 6 }, style: style },
            { type: "line", shape: { x1: high[0], y1: high[1] - 6, x2: high[0], y2: high[1] + 6 }, style: style }
          ] };
        }, encode: { x: [1, 2], y: 0 } },
      { type: "scatter", name: "estimate", symbol: "diamond", symbolSize: 12, xAxisIndex: axis, yAxisIndex: axis,
        data: rows.map(function (r, i) { return [r.estimate === null ? 0 : r.estimate, i]; }),
        itemStyle: { color: function (p) { return rows[p.dataIndex].estimate === null ? "#9ca3af" : color; } } }
    ];
  }
  function rowTooltip(r) {
    if (r.estimate === null) return esc(r.name) + ": " + esc(r.missing || "no estimate");
    return esc(r.name) + ": " + fmt(r.estimate) + (r.low !== null ? " [" + fmt(r.low) + ", " + fmt(r.high) + "]" : " (no interval)");
  }
  function drawForest(card, result) {
    var agents = card.agents.map(function (a) {
      return a.change ? { name: a.name, estimate: a.change.estimate, low: a.change.low, high: a.change.high }
        : { name: a.name, estimate: null, low: null, high: null, missing: "unchanged in this change set (no candidate to compare)" };
    });
    var delta = result.verdict.delta;
    if (delta) agents.push({ name: "team (blended Δ)", estimate: delta.estimate, low: delta.low, high: delta.high });
    // Per dimension: the change the dimension-regression gate judged (candidate − baseline, with its interval).
    var judged = result.verdict.checks.filter(function (c) { return c.check.indexOf("dimension:") === 0 && c.interval; });
    var dimsAreChanges = judged.length > 0;
    var dims = dimsAreChanges
      ? judged.map(function (c) { return { name: c.check.slice("dimension:".length), estimate: c.interval.estimate, low: c.interval.low, high: c.interval.high }; })
      : Object.keys(result.composite.perDimension).sort().map(function (d) {
          var m = result.composite.perDimension[d];
          return { name: d, estimate: measure(m), low: null, high: null, missing: m && m._tag === "Absent" ? "absent: " + m.reason : "no estimate" };
        });
    var el = $("forest-chart");
    el.dataset.rows = String(card.agents.length);
    el.dataset.dimensions = String(dims.length);
    var rowHeight = 34, top = 30, gap = 70;
    // Room for the longest row label (canvas text, about 6.5 px a character at 12 px).
    var longest = agents.concat(dims).reduce(function (n, r) { return Math.max(n, String(r.name).length); }, 0);
    var left = Math.min(280, 16 + Math.ceil(longest * 6.5));
    var agentsHeight = Math.max(1, agents.length) * rowHeight, dimsHeight = Math.max(1, dims.length) * rowHeight;
    el.style.height = (top + agentsHeight + gap + dimsHeight + 45) + "px";
    chart("forest-chart").resize();
    var c = draw("forest-chart", {
      title: [
        { text: "Per agent: change (candidate − baseline)", left: 0, top: 0, textStyle: { fontSize: 12 } },
        { text: dimsAreChanges ? "Per dimension: change (candidate − baseline)" : "Per dimension: score (point estimate)", left: 0, top: top + agentsHeight + gap - 30, textStyle: { fontSize: 12 } }
      ],
      grid: [
        { left: left, right: 30, top: top, height: agentsHeight },
        { left: left, right: 30, top: top + agentsHeight + gap, height: dimsHeight }
      ],
      xAxis: [
        { gridIndex: 0, type: "value", scale: true, splitLine: { show: true } },
        dimsAreChanges
          ? { gridIndex: 1, type: "value", scale: true, splitLine: { show: true }, name: "change", nameLocation: "middle", nameGap: 25 }
          : { gridIndex: 1, type: "value", min: 0, max: 1, name: "score", nameLocation: "middle", nameGap: 25 }
      ],
      yAxis: [
        { gridIndex: 0, type: "category", data: agents.map(function (r) { return r.name; }), inverse: true },
        { gridIndex: 1, type: "category", data: dims.map(function (r) { return r.name; }), inverse: true }
      ],
      tooltip: { trigger: "item", formatter: function (p) { return rowTooltip((p.seriesIndex < 2 ? agents : dims)[p.dataIndex]); } },
      series: forestSeries(agents, 0, "#1d4ed8").concat(forestSeries(dims, 1, "#059669"))
    });
    return c;
  }

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
`
