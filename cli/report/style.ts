/** The report's inline stylesheet: system fonts only, fixed-layout tables that wrap, A4 print rules. */
export const REPORT_CSS = `
:root { --canary: #d9480f; --stable: #1c7ed6; --bad: #c92a2a; --good: #2b8a3e; --muted: #666; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #111; background: #fff; margin: 0 auto; padding: 16px; max-width: 980px; overflow-wrap: anywhere; }
h1 { font-size: 1.35em; margin: 0 0 .4em; }
h2 { font-size: 1.1em; margin: 1.2em 0 .4em; }
code { font: .92em ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; overflow-wrap: anywhere; }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 12px; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; min-width: 0; }
.phase { font-size: .8em; padding: 1px 8px; border-radius: 10px; background: #eee; vertical-align: middle; }
.phase.Succeeded { background: #d3f9d8; } .phase.RolledBack, .phase.Failed, .phase.Aborted { background: #ffe3e3; }
figure.chart { margin: 12px 0; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-size: .95em; margin-bottom: 2px; }
svg { display: block; width: 100%; height: auto; max-width: 100%; }
svg text { font: 10px system-ui, sans-serif; fill: #444; }
.plot { fill: none; stroke: #999; stroke-width: 1; }
.grid { stroke: #e6e6e6; stroke-width: 1; }
.line { fill: none; stroke-width: 1.6; }
.line.canary { stroke: var(--canary); } .line.stable { stroke: var(--stable); } .line.evalue { stroke: #5f3dc4; }
.point.canary, circle.canary { fill: var(--canary); } .point.stable { fill: var(--stable); } .point.evalue { fill: #5f3dc4; }
.point.fail { stroke: #000; stroke-width: 1.5; }
.threshold { stroke: var(--bad); stroke-width: 1.5; stroke-dasharray: 6 4; }
.event { stroke: #bbb; stroke-width: 1; }
.event.judged { stroke: #d8d8d8; } .event.bad { stroke: var(--bad); stroke-dasharray: 3 2; } .event.good { stroke: var(--good); }
.key { display: inline-block; margin-left: 10px; font-size: .85em; color: var(--muted); }
.key::before { content: ""; display: inline-block; width: 14px; height: 3px; margin-right: 4px; vertical-align: middle; }
.key.canary::before { background: var(--canary); } .key.stable::before { background: var(--stable); }
.key.evalue::before { background: #5f3dc4; } .key.threshold::before { background: var(--bad); }
.note { color: var(--muted); font-style: italic; margin: 2px 0; }
.muted { color: var(--muted); font-size: .9em; }
table { width: 100%; table-layout: fixed; border-collapse: collapse; font-size: .85em; }
th, td { text-align: left; vertical-align: top; padding: 3px 5px; border-bottom: 1px solid #e6e6e6; overflow-wrap: anywhere; }
th { border-bottom: 1px solid #999; }
tr { break-inside: avoid; page-break-inside: avoid; }
tr.fail td { background: #fff5f5; }
.c-when { width: 9%; } .c-n { width: 7%; } .c-verdict { width: 10%; } .c-num { width: 8%; } .c-why { width: 34%; }
.c-time { width: 17%; } .c-event { width: 21%; } .c-actor { width: 24%; } .c-reason { width: 38%; }
@media print {
  @page { size: A4; margin: 12mm; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  .windows, .timeline { break-before: auto; }
}
`;
