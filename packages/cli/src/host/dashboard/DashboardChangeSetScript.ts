/**
 * The dashboard's change set (browser code, placed inside the script's closure by
 * `DashboardScript.ts`): the workspace's latest change set, its diff against its baseline (per
 * changed field: path, baseline value, proposed value, from `GET …/change-sets/:id/diff`) beside
 * the Approve / Reject buttons, and the audit trail, which each decision returns afresh.
 */
export const changeSetScript = String.raw`
  function loadChangeSet() {
    return api(ws("/change-sets")).then(function (sets) {
      var latest = sets.slice().sort(function (a, b) { return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.version - b.version; }).pop();
      if (!latest) { $("change-set-summary").textContent = "No change set yet."; setDecisionEnabled(false); fill("diff-table", []); return; }
      state.changeSetId = latest.id;
      return Promise.all([
        api(ws("/change-sets/" + encodeURIComponent(latest.id))).then(renderChangeSet),
        guarded("diff-error", api(ws("/change-sets/" + encodeURIComponent(latest.id) + "/diff")).then(renderDiff))
      ]);
    });
  }
  function setDecisionEnabled(on) { $("approve").disabled = !on; $("reject").disabled = !on; }
  function shown(value) {
    if (value === undefined) return "(absent)";
    if (value === null) return "null";
    return typeof value === "string" ? value : JSON.stringify(value, null, 1);
  }
  function renderDiff(body) {
    var changes = body.changes;
    $("diff-table").dataset.fields = String(changes.length);
    var b = body.baseline;
    $("diff-baseline").textContent = b.kind === "scan baseline" ? "(what scan " + b.id + " measured as its baseline)"
      : b.kind === "change set" ? "(change set " + b.id + ")" : "(the workspace declaration " + b.id + ")";
    fill("diff-table", changes.length === 0 ? [row([text("td", "No field differs from the baseline.")])] : changes.map(function (c) {
      var tr = row([text("td", c.path, "path"), text("td", shown(c.baseline), "value baseline"), text("td", shown(c.proposed), "value proposed")]);
      tr.dataset.path = c.path;
      return tr;
    }));
  }
  function renderChangeSet(detail) {
    var cs = detail.changeSet;
    var status = $("change-set-status");
    status.textContent = cs.status; status.className = "badge " + cs.status;
    var changed = cs.agents.map(function (a) { return a.agentId + " v" + a.version; }).join(", ");
    $("change-set-summary").textContent = cs.id + " · version " + cs.version + (cs.baselineId ? " on top of change set " + cs.baselineId : "") + " · agents: " + changed;
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
`
