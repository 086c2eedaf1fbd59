/**
 * The dashboard's HTML page (`GET /`): a sign-in form for the API key, then the key's workspace in
 * six sections (scan history trend per authority and per agent, supervisor class per agent, live
 * progress of a running scan, latest verdict with its forest plot beside the gate table, failure
 * clusters, latest change set with its diff beside the decision buttons). The page
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
      <p class="hint"><span id="trend-title"></span> Each line is one continuous series across world-model versions; dashed markers are version changes (click one for its metadata).</p>
      <p id="history-error" class="error" role="alert" hidden></p>
      <h3>Composite score per authority</h3>
      <div id="trend-chart" class="chart"></div>
      <h3>Score per agent</h3>
      <div id="agent-trend-chart" class="chart"></div>
      <p id="version-detail" class="detail" hidden></p>
    </section>
    <section id="supervisor-view" class="card">
      <h2>Supervisor</h2>
      <p class="hint">Per agent, what its scan history says: ACTIVE (moving beyond noise), PLATEAU (no significant change lately), FRONTIER (on its quality/cost front) or NO_DATA — over the whole history, across world-model versions.</p>
      <p id="supervisor-scans" class="hint"></p>
      <p id="supervisor-error" class="error" role="alert" hidden></p>
      <table id="supervisor-table"><thead><tr><th>Agent</th><th>Class</th><th>Trend</th><th>Reason</th><th>Scans</th><th>World-model versions</th></tr></thead><tbody></tbody></table>
    </section>
    <section id="progress-view" class="card">
      <h2>Live progress <button id="start-scan" type="button" title="Needs a write key">Start a scan</button></h2>
      <p id="progress-status" class="hint">No scan is running.</p>
      <p id="progress-error" class="error" role="alert" hidden></p>
      <div class="progress">
        <ol id="phase-list" class="phases"></ol>
        <div class="stimuli">
          <progress id="stimuli-bar" value="0" max="1"></progress>
          <span id="stimuli-text"></span>
        </div>
      </div>
    </section>
    <section id="verdict-view" class="card">
      <h2>Latest verdict <span id="verdict-outcome" class="badge"></span></h2>
      <p id="verdict-explanation" class="hint"></p>
      <p id="verdict-error" class="error" role="alert" hidden></p>
      <div class="side-by-side even">
        <div>
          <h3>Forest plot (estimate with its interval)</h3>
          <div id="forest-chart" class="chart"></div>
        </div>
        <div>
          <h3>Gates</h3>
          <table id="gate-table" class="compact"><thead><tr><th class="gate">Gate · check</th><th class="status">Status</th><th>Reason</th></tr></thead><tbody></tbody></table>
        </div>
      </div>
    </section>
    <section id="clusters-view" class="card">
      <h2>Failure clusters</h2>
      <div id="cluster-chart" class="chart"></div>
      <ul id="cluster-list" class="clusters"></ul>
    </section>
    <section id="change-set-view" class="card">
      <h2>Latest change set <span id="change-set-status" class="badge"></span></h2>
      <p id="change-set-summary"></p>
      <p id="change-set-error" class="error" role="alert" hidden></p>
      <div class="side-by-side">
        <div>
          <h3>Diff against the baseline <span id="diff-baseline" class="hint"></span></h3>
          <p id="diff-error" class="error" role="alert" hidden></p>
          <table id="diff-table"><thead><tr><th>Field</th><th>Baseline</th><th>Proposed</th></tr></thead><tbody></tbody></table>
        </div>
        <div class="decide">
          <label for="actor">Decided by</label>
          <input id="actor" type="text" value="dashboard">
          <label for="reject-reason">Reason (to reject)</label>
          <input id="reject-reason" type="text" placeholder="why not">
          <div class="buttons">
            <button id="approve" type="button">Approve</button>
            <button id="reject" type="button" class="danger">Reject</button>
          </div>
          <p id="decision-error" class="error" role="alert" hidden></p>
        </div>
      </div>
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
