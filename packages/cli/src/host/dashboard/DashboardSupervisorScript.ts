/**
 * The dashboard's supervisor view (browser code, placed inside the script's closure by
 * `DashboardScript.ts`): per agent, the supervisor's class of its scan history — ACTIVE, PLATEAU,
 * FRONTIER or NO_DATA, as the engine's `classifyAgents` decides it over the whole history, continuous
 * across world-model versions — with the trend, the reason sentence, how many scans scored it and
 * the world-model versions its window spans. Data: `GET …/supervisor` (the engine's `AgentStatus`
 * per agent).
 */
export const supervisorScript = String.raw`
  function loadSupervisor() {
    return api(ws("/supervisor")).then(function (body) {
      var agents = body.agents.slice().sort(function (a, b) { return a.agentId < b.agentId ? -1 : 1; });
      $("supervisor-view").dataset.agents = String(agents.length);
      $("supervisor-scans").textContent = body.scans + " completed scan" + (body.scans === 1 ? "" : "s") + " in the history.";
      fill("supervisor-table", agents.map(function (a) {
        var tr = row([
          a.agentId,
          text("td", a.status, "class class-" + a.status),
          a.trend || "—",
          a.reason,
          String(a.scans),
          (a.worldModelVersions || []).join(" → ") || "—"
        ]);
        tr.dataset.agent = a.agentId;
        tr.dataset.status = a.status;
        return tr;
      }));
      if (agents.length === 0) fill("supervisor-table", [row([text("td", "No agent has a scan yet.")])]);
    });
  }
`
