/** The dashboard's style sheet (plain CSS, served at `/assets/dashboard.css`). */
export const dashboardStyle = `
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; background: #f3f4f6; color: #1f2937; }
.top { display: flex; align-items: center; gap: 1rem; padding: .75rem 1.5rem; background: #111827; color: #f9fafb; }
.top h1 { font-size: 1.2rem; margin: 0; }
.workspace { flex: 1; opacity: .8; }
main { max-width: 1100px; margin: 1.5rem auto; padding: 0 1rem; }
.card { background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12); padding: 1rem 1.25rem; margin-bottom: 1.25rem; }
.card.narrow { max-width: 480px; margin: 3rem auto; }
h2 { font-size: 1.1rem; margin: 0 0 .5rem; display: flex; align-items: center; gap: .5rem; }
h3 { font-size: .95rem; margin: 1rem 0 .4rem; color: #374151; }
.hint { color: #6b7280; font-size: .85rem; margin: 0 0 .5rem; }
.chart { width: 100%; height: 300px; }
form, .decide { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
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
