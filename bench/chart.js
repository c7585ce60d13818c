#!/usr/bin/env node
// bench/chart.js RESULTS.txt OUT.svg: the table bench/run.sh writes, as an SVG bar chart beside it: requests/s and
// CPU per request for each load and server, the figures of the table and nothing else. No dependency, no script in
// the SVG: README shows it as an image.
'use strict';
const fs = require('fs');
const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node bench/chart.js RESULTS.txt OUT.svg');
  process.exit(2);
}
const text = fs.readFileSync(input, 'utf8');
const title = (text.match(/^# (.*)$/m) || [, ''])[1];
const rows = [];
for (const line of text.split('\n')) {
  const f = line.trim().split(/\s+/);
  // load server req/s p50 p99 errors cpu
  if (f.length === 7 && /^\d+$/.test(f[2]) && !line.startsWith('#')) {
    rows.push({ load: f[0], server: f[1], rps: +f[2], cpu: +f[6] });
  }
}
if (rows.length === 0) {
  console.error(`${input}: no result rows (load server req/s p50 p99 errors cpu)`);
  process.exit(1);
}
const loads = [...new Set(rows.map((r) => r.load))];
const servers = [...new Set(rows.map((r) => r.server))];
const colour = { cluster: '#0969da', netty: '#8250df', nginx: '#1a7f37', node: '#bf8700' };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
const W = 760, panelH = 220, top = 50, left = 70, barW = 34, gap = 14, groupGap = 50;

function panel(y0, metric, label, unit) {
  const max = Math.max(...rows.map((r) => r[metric]));
  let g = `<text x="${left}" y="${y0 - 12}" font-weight="600">${esc(label)}</text>`;
  g += `<line x1="${left}" y1="${y0 + panelH}" x2="${W - 20}" y2="${y0 + panelH}" stroke="#999"/>`;
  let x = left + 20;
  for (const load of loads) {
    const groupX = x;
    for (const server of servers) {
      const r = rows.find((q) => q.load === load && q.server === server);
      if (!r) continue;
      const h = max ? (r[metric] / max) * (panelH - 20) : 0;
      const y = y0 + panelH - h;
      g += `<rect x="${x}" y="${y.toFixed(1)}" width="${barW}" height="${h.toFixed(1)}" fill="${colour[server] || '#666'}">`
        + `<title>${esc(load)} ${esc(server)}: ${r[metric]} ${esc(unit)}</title></rect>`;
      const v = metric === 'rps' ? (r.rps >= 1000 ? (r.rps / 1000).toFixed(1) + 'k' : r.rps) : r.cpu.toFixed(1);
      g += `<text x="${x + barW / 2}" y="${(y - 4).toFixed(1)}" font-size="11" text-anchor="middle">${v}</text>`;
      x += barW + gap;
    }
    g += `<text x="${(groupX + x - gap) / 2}" y="${y0 + panelH + 16}" text-anchor="middle">${esc(load)}</text>`;
    x += groupGap;
  }
  return g;
}

const H = top + 2 * (panelH + 70) + 20;
let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" `
  + `font-family="sans-serif" font-size="13">`;
svg += `<rect width="100%" height="100%" fill="#fff"/>`;
svg += `<text x="${left}" y="22" font-size="14" font-weight="600">bench/run.sh: ${esc(title)}</text>`;
let lx = left;
for (const s of servers) {
  svg += `<rect x="${lx}" y="30" width="12" height="12" fill="${colour[s] || '#666'}"/><text x="${lx + 16}" y="41">${esc(s)}</text>`;
  lx += 90;
}
svg += panel(top + 30, 'rps', 'requests/s (higher is better)', 'req/s');
svg += panel(top + 30 + panelH + 70, 'cpu', 'CPU per request, µs (lower is better)', 'µs');
svg += '</svg>\n';
fs.writeFileSync(output, svg);
console.log(`wrote ${output}`);
