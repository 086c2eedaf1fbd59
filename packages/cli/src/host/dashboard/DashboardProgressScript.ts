/**
 * The dashboard's live progress of a running scan (browser code, placed inside the script's
 * closure by `DashboardScript.ts`). While signed in, the page looks for the newest scheduled or
 * running scan, or else one started since its last look (on load, then every 5 s while it follows
 * none and the tab is visible); for that scan it shows the phase list from `GET …/scans/:id` and
 * then follows `GET …/scans/:id/progress?key=KEY` with an
 * EventSource (it cannot send a header, hence the key in the query): `phase` events
 * (`{phase, status}`) mark the list, `stimuli` events (`{phase, arm, done, total}`) move the bar, and
 * `end` (`{status}`) closes the stream and reloads the page's data. "Start a scan" (a write key)
 * starts one through `POST …/scans` and follows it from its first event.
 */
export const progressScript = String.raw`
  var pollMs = 5000;
  function stopFollowing() {
    if (state.following) { state.following.source.close(); state.following = null; }
    if (state.poll) { clearTimeout(state.poll); state.poll = null; }
  }
  function schedulePoll() {
    if (state.poll || state.following || !state.key) return;
    state.poll = setTimeout(function () {
      state.poll = null;
      if (!state.key || state.following) return;
      // A hidden tab does not ask; it looks again when it is next due and visible.
      if (document.hidden) { schedulePoll(); return; }
      api(ws("/scans")).then(watchProgress, function () { schedulePoll(); });
    }, pollMs);
  }
  /**
   * Follow the newest scheduled or running scan; failing that, a scan that appeared since the page
   * last looked (it may have ended between two looks: its stream then says so at once).
   */
  function watchProgress(scans) {
    var known = state.knownScans;
    state.knownScans = {};
    scans.forEach(function (s) { state.knownScans[s.id] = true; });
    if (state.following) return;
    var byCreation = scans.slice().sort(byTime("createdAt"));
    var live = byCreation.filter(function (s) { return s.state === "running" || s.state === "scheduled"; }).pop();
    var fresh = known ? byCreation.filter(function (s) { return !known[s.id]; }).pop() : undefined;
    var next = live || fresh;
    if (!next) { if (!$("progress-view").dataset.scanId) $("progress-status").textContent = "No scan is running."; schedulePoll(); return; }
    follow(next.id);
  }
  /** Start a scan through the API (write key) and follow it at once. */
  function startScan() {
    showError("progress-error", "");
    $("start-scan").disabled = true;
    return api(ws("/scans"), { method: "POST", body: JSON.stringify({}) }).then(function (started) {
      if (state.poll) { clearTimeout(state.poll); state.poll = null; }
      if (state.following) { state.following.source.close(); state.following = null; }
      follow(started.scanId);
    }, function (error) { showError("progress-error", error.message); }).then(function () { $("start-scan").disabled = state.scope === "read"; });
  }
  function phaseItem(phase, status) {
    var li = text("li", phase, "phase phase-" + status);
    li.dataset.phase = phase; li.dataset.status = status;
    li.appendChild(text("span", status, "phase-status"));
    return li;
  }
  function markPhase(phase, status) {
    var list = $("phase-list");
    var li = list.querySelector('[data-phase="' + phase + '"]');
    var next = phaseItem(phase, status);
    if (li) list.replaceChild(next, li); else list.appendChild(next);
  }
  function setStimuli(phase, arm, done, total) {
    var bar = $("stimuli-bar");
    bar.max = Math.max(1, total); bar.value = Math.min(done, total);
    bar.dataset.done = String(done); bar.dataset.total = String(total);
    $("stimuli-text").textContent = done + " / " + total + " stimuli" + (phase ? " (" + phase + (arm ? " · " + arm : "") + ")" : "");
  }
  function follow(scanId) {
    // Seen: once it ends, the next look does not take it for a new scan.
    state.knownScans = state.knownScans || {};
    state.knownScans[scanId] = true;
    var view = $("progress-view");
    view.dataset.scanId = scanId;
    view.dataset.status = "running";
    $("progress-status").textContent = "Scan " + scanId + " is running.";
    setStimuli(null, null, 0, 0);
    $("stimuli-text").textContent = "waiting for the first stimuli…";
    api(ws("/scans/" + encodeURIComponent(scanId))).then(function (detail) {
      var list = $("phase-list");
      list.replaceChildren.apply(list, detail.phases.map(function (p) { return phaseItem(p.phase, p.status); }));
    }, function (error) { showError("progress-error", error.message); });
    var url = ws("/scans/" + encodeURIComponent(scanId) + "/progress") + "?key=" + encodeURIComponent(state.key);
    var source = new EventSource(url);
    state.following = { scanId: scanId, source: source };
    source.addEventListener("phase", function (event) { var d = JSON.parse(event.data); markPhase(d.phase, d.status); });
    source.addEventListener("stimuli", function (event) { var d = JSON.parse(event.data); setStimuli(d.phase, d.arm, d.done, d.total); });
    source.addEventListener("end", function (event) {
      var d = JSON.parse(event.data);
      source.close(); state.following = null;
      view.dataset.status = d.status;
      $("progress-status").textContent = "Scan " + scanId + " ended: " + d.status + ".";
      load();
    });
    source.onerror = function () {
      if (source.readyState !== EventSource.CLOSED) return;
      state.following = null;
      view.dataset.status = "stream-closed";
      showError("progress-error", "the progress stream of scan " + scanId + " closed before its end");
      schedulePoll();
    };
  }
`
