/**
 * The dashboard's HTML page (`GET /`): a sign-in form for the API key, then the key's workspace in
 * four sections (scan history trend, latest verdict, failure clusters, latest change set). The page
 * holds no data; its script (`DashboardScript.ts`) fetches everything from the host API with the key.
 */
import { echartsPath, scriptPath, stylePath } from "./DashboardAssets.ts"
import { chartTheme } from "./DashboardTheme.ts"

const escapeJsonForScript = (value: unknown): string => JSON.stringify(value).replace(/</g, "\\u003c")

export const dashboardPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Spectral dashboard</title>
<link rel="stylesheet" href="${stylePath}">
</head>
<body>
<header class="top">
  <h1>Spectral</h1>
  <span id="workspace-name" class="workspace"></span>
  <button id="sign-out" type="button" hidden>Sign out</button>
</header>
<main>
  <section id="sign-in" class="card narrow">
    <h2>Sign in</h2>
    <p>Paste an API key (<code>spectral serve --issue-api-key WORKSPACE</code> prints one). It is kept in this tab only.</p>
    <form id="sign-in-form">
      <label for="api-key">API key</label>
      <input id="api-key" name="api-key" type="password" autocomplete="off" placeholder="spa_…" required>
      <button type="submit">Sign in</button>
    </form>
    <p id="sign-in-error" class="error" role="alert" hidden></p>
  </section>
  <div id="workspace" hidden>
    <p id="load-error" class="error" role="alert" hidden></p>
    <section id="trend-view" class="card">
      <h2>Scan history</h2>
      <p class="hint">Blended score per scan, one continuous series; dashed markers are world-model version changes (click one).</p>
      <div id="trend-chart" class="chart"></div>
      <p id="version-detail" class="detail" hidden></p>
    </section>
    <section id="verdict-view" class="card">
      <h2>Latest verdict <span id="verdict-outcome" class="badge"></span></h2>
      <p id="verdict-explanation" class="hint"></p>
      <h3>Per-agent change (estimate with its interval)</h3>
      <div id="forest-chart" class="chart"></div>
      <h3>Per-dimension scores</h3>
      <table id="dimension-table"><thead><tr><th>Dimension</th><th>Score</th></tr></thead><tbody></tbody></table>
      <h3>Gates</h3>
      <table id="gate-table"><thead><tr><th>Gate</th><th>Check</th><th>Status</th><th>Reason</th></tr></thead><tbody></tbody></table>
    </section>
    <section id="clusters-view" class="card">
      <h2>Failure clusters</h2>
      <div id="cluster-chart" class="chart"></div>
      <ul id="cluster-list" class="clusters"></ul>
    </section>
    <section id="change-set-view" class="card">
      <h2>Latest change set <span id="change-set-status" class="badge"></span></h2>
      <p id="change-set-summary"></p>
      <div class="decide">
        <label for="actor">Decided by</label>
        <input id="actor" type="text" value="dashboard">
        <label for="reject-reason">Reason (to reject)</label>
        <input id="reject-reason" type="text" placeholder="why not">
        <button id="approve" type="button">Approve</button>
        <button id="reject" type="button" class="danger">Reject</button>
      </div>
      <p id="decision-error" class="error" role="alert" hidden></p>
      <h3>Audit trail</h3>
      <table id="audit-table"><thead><tr><th>When</th><th>Action</th><th>Actor</th><th>From → to</th><th>Detail</th></tr></thead><tbody></tbody></table>
    </section>
  </div>
</main>
<script id="chart-theme" type="application/json">${escapeJsonForScript(chartTheme)}</script>
<script src="${echartsPath}"></script>
<script src="${scriptPath}"></script>
</body>
</html>
`
