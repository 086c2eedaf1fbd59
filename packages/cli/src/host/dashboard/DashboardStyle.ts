/** The dashboard's style sheet (plain CSS, served at `/assets/dashboard.css`). */
export const dashboardStyle = `
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; background: #f3f4f6; color: #1f2937; }
.top { display: flex; align-items: center; gap: 1rem; padding: .75rem 1.5rem; background: #111827; color: #f9fafb; }
.top h1 { font-size: 1.2rem; margin: 0; }
.workspace { flex: 1; opacity: .8; }
main { max-width: 1240px; margin: 1.5rem auto; padding: 0 1rem; }
.card { background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12); padding: 1rem 1.25rem; margin-bottom: 1.25rem; }
.card.narrow { max-width: 480px; margin: 3rem auto; }
h2 { font-size: 1.1rem; margin: 0 0 .5rem; display: flex; align-items: center; gap: .5rem; }
h3 { font-size: .95rem; margin: 1rem 0 .4rem; color: #374151; }
.hint { color: #6b7280; font-size: .85rem; margin: 0 0 .5rem; }
.chart { width: 100%; height: 300px; }
form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.decide { display: flex; flex-direction: column; gap: .4rem; padding-top: 2.2rem; }
.decide .buttons { display: flex; gap: .5rem; }
.side-by-side { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1.25rem; align-items: start; }
.side-by-side.even { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
table.compact { table-layout: fixed; font-size: .8rem; }
table.compact th.gate { width: 38%; }
table.compact th.status { width: 5.5rem; }
table.compact td { overflow-wrap: anywhere; }
.gate-name { font-weight: 600; }
.check-name { color: #4b5563; font-family: ui-monospace, monospace; font-size: .75rem; }
@media (max-width: 800px) { .side-by-side { grid-template-columns: 1fr; } }
.class { font-weight: 600; font-size: .8rem; }
.class-ACTIVE { color: #065f46; background: #d1fae5; }
.class-PLATEAU { color: #92400e; background: #fef3c7; }
.class-FRONTIER { color: #1e3a8a; background: #dbeafe; }
.class-NO_DATA { color: #4b5563; background: #f3f4f6; }
#start-scan { margin-left: auto; font-size: .85rem; }
.progress { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 2fr); gap: 1.25rem; align-items: start; }
.phases { margin: 0; padding-left: 1.25rem; font-size: .9rem; }
.phase { padding: .1rem 0; }
.phase-status { margin-left: .5rem; font-size: .75rem; padding: .05rem .4rem; border-radius: 999px; background: #e5e7eb; }
.phase-done .phase-status { background: #d1fae5; color: #065f46; }
.phase-running .phase-status { background: #dbeafe; color: #1e3a8a; }
.phase-failed .phase-status { background: #fee2e2; color: #991b1b; }
.stimuli { display: flex; flex-direction: column; gap: .35rem; }
#stimuli-bar { width: 100%; height: 1.1rem; accent-color: #2563eb; }
#diff-table .path { font-family: ui-monospace, monospace; white-space: nowrap; }
#diff-table .value { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-word; }
#diff-table .baseline { background: #fef2f2; }
#diff-table .proposed { background: #f0fdf4; }
input { padding: .4rem .5rem; border: 1px solid #d1d5db; border-radius: 4px; font: inherit; }
#api-key { flex: 1; min-width: 240px; }
button { padding: .4rem .9rem; border: 0; border-radius: 4px; background: #2563eb; color: #fff; font: inherit; cursor: pointer; }
button.danger { background: #dc2626; }
button:disabled { background: #9ca3af; cursor: default; }
#sign-out { background: #374151; }
.error { color: #b91c1c; background: #fef2f2; border: 1px solid #fecaca; border-radius: 4px; padding: .5rem .75rem; }
.detail { background: #eff6ff; border: 1px solid #bfdbfe; border-radius: 4px; padding: .5rem .75rem; }
table { width: 100%; border-collapse: collapse; font-size: .85rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
th { background: #f9fafb; }
.badge { font-size: .75rem; padding: .15rem .5rem; border-radius: 999px; background: #e5e7eb; }
.status-pass, .badge.go, .badge.accepted { background: #d1fae5; color: #065f46; }
.status-fail, .badge.no_go, .badge.rejected { background: #fee2e2; color: #991b1b; }
.status-caution, .badge.caution, .badge.proposed { background: #fef3c7; color: #92400e; }
.clusters { list-style: none; padding: 0; margin: 0; }
.clusters li { border-left: 3px solid #dc2626; padding: .25rem .75rem; margin: .5rem 0; }
.clusters .label { font-weight: 600; }
.clusters .explanation { color: #4b5563; font-size: .85rem; margin: .15rem 0; }
`
