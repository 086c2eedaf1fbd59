/**
 * The dashboard's browser script (plain JavaScript, served at `/assets/dashboard.js`): the shared
 * part — the API call with the key, sign-in (the key kept in sessionStorage; a refused key shows the
 * API's 401 message), and `load`, which reads the key's workspace and hands each view its data — with
 * the views' code placed inside the same closure: the trend (`DashboardTrendScript.ts`), the latest
 * verdict (`DashboardVerdictScript.ts`), the supervisor (`DashboardSupervisorScript.ts`), live scan
 * progress (`DashboardProgressScript.ts`) and the change set (`DashboardChangeSetScript.ts`).
 * A view whose data cannot be read says why in its own section; the others still draw.
 */
import { changeSetScript } from "./DashboardChangeSetScript.ts"
import { progressScript } from "./DashboardProgressScript.ts"
import { supervisorScript } from "./DashboardSupervisorScript.ts"
import { trendScript } from "./DashboardTrendScript.ts"
import { verdictScript } from "./DashboardVerdictScript.ts"

const core = String.raw`
  var storageKey = "spectral.apiKey";
  var theme = JSON.parse(document.getElementById("chart-theme").textContent);
  var state = { key: null, workspaceId: null, changeSetId: null, following: null, poll: null, knownScans: null, scope: null };
  var charts = {};
  var $ = function (id) { return document.getElementById(id); };

  function show(id, on) { $(id).hidden = !on; }
  function showError(id, message) { var el = $(id); el.textContent = message; el.hidden = message === ""; }
  function text(tag, value, cls) { var el = document.createElement(tag); el.textContent = value; if (cls) el.className = cls; return el; }
  function row(cells) { var tr = document.createElement("tr"); cells.forEach(function (c) { tr.appendChild(c instanceof Node ? c : text("td", c)); }); return tr; }
  function fill(tableId, rows) { var body = $(tableId).querySelector("tbody"); body.replaceChildren.apply(body, rows); }
  /** A Measure ({_tag: "Present", value}) or a plain number as a number; anything else is null. */
  function measure(m) {
    if (typeof m === "number") return m;
    return m && m._tag === "Present" && typeof m.value === "number" ? m.value : null;
  }
  function esc(value) { return String(value).replace(/[&<>"']/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c]; }); }
  function fmt(v) { return v === null || v === undefined ? "—" : (Math.round(v * 1000) / 1000).toString(); }
  function byTime(field) { return function (a, b) { return a[field] < b[field] ? -1 : a[field] > b[field] ? 1 : 0; }; }
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
          var message = json && json.message ? json.message : json && json.detail ? json.detail : "HTTP " + response.status + " from " + path;
          var error = new Error(message); error.status = response.status; throw error;
        }
        return json;
      });
    });
  }
  function ws(path) { return "/api/workspaces/" + encodeURIComponent(state.workspaceId) + path; }
  /** Run a view's load; a failure is said in the view's own error line and does not stop the others. */
  function guarded(errorId, promise) {
    showError(errorId, "");
    return promise.then(function () { return true; }, function (error) { showError(errorId, error.message); return false; });
  }

  // --- sign-in ---
  function signIn(key) {
    state.key = key;
    return api("/dashboard/session").then(function (session) {
      sessionStorage.setItem(storageKey, key);
      state.workspaceId = session.workspaceId;
      state.scope = session.scope;
      $("start-scan").disabled = session.scope === "read";
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
    stopFollowing();
    state.key = null; state.workspaceId = null; state.knownScans = null;
    show("workspace", false); show("sign-out", false); show("sign-in", true);
    $("workspace-name").textContent = "";
  }

  function load() {
    showError("load-error", "");
    delete document.body.dataset.loaded;
    return api(ws("/scans")).then(function (scans) {
      var ordered = scans.slice().sort(byTime("createdAt"));
      var finished = ordered.filter(function (s) { return s.verdict !== undefined; });
      var latest = finished[finished.length - 1];
      watchProgress(ordered);
      return Promise.all([
        guarded("history-error", loadHistory(ordered)),
        guarded("verdict-error", latest ? loadVerdict(latest) : Promise.resolve()),
        guarded("supervisor-error", loadSupervisor()),
        guarded("change-set-error", loadChangeSet())
      ]);
    }).then(function () { document.body.dataset.loaded = "true"; }, function (error) {
      showError("load-error", error.message);
    });
  }
`

const wiring = String.raw`
  $("sign-in-form").addEventListener("submit", function (event) { event.preventDefault(); signIn($("api-key").value.trim()); });
  $("sign-out").addEventListener("click", signOut);
  $("approve").addEventListener("click", function () { decide("approve"); });
  $("reject").addEventListener("click", function () { decide("reject"); });
  $("start-scan").addEventListener("click", function () { startScan(); });
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  var saved = sessionStorage.getItem(storageKey);
  if (saved) signIn(saved);
`

export const dashboardScript = `"use strict";
(function () {
${core}
${trendScript}
${verdictScript}
${supervisorScript}
${progressScript}
${changeSetScript}
${wiring}
})();
`
