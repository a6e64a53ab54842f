// The usage chart: credits charged per day as SVG bars, with a text table for screen readers.

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

// Every day of the window, oldest first, with the groups' credits (0 where nothing was charged).
export function dailySeries(summary, days = 30) {
  const byDay = new Map(summary.groups.map((group) => [group.key.slice(0, 10), group]));
  const end = new Date(summary.to || Date.now());
  const series = [];
  for (let back = days - 1; back >= 0; back -= 1) {
    const day = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), end.getUTCDate() - back));
    const key = day.toISOString().slice(0, 10);
    const group = byDay.get(key);
    series.push({ day: key, credits: group ? group.credits : 0, requests: group ? group.requests : 0 });
  }
  return series;
}

function niceMax(value) {
  if (value <= 4) return 4;
  const step = 10 ** Math.floor(Math.log10(value));
  return Math.ceil(value / step) * step;
}

export function usageChart(series) {
  const width = 600;
  const height = 220;
  const pad = { left: 40, right: 8, top: 12, bottom: 28 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const max = niceMax(Math.max(0, ...series.map((point) => point.credits)));
  const total = series.reduce((sum, point) => sum + point.credits, 0);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart',
    'aria-label': `Credits used per day over the last ${series.length} days: ${total} in total.` });
  for (const tick of [0, max / 2, max]) {
    const y = pad.top + plotH - (tick / max) * plotH;
    root.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: 'grid' }));
    root.append(svg('text', { x: pad.left - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' },
      String(Math.round(tick))));
  }
  const slot = plotW / series.length;
  series.forEach((point, index) => {
    const barH = (point.credits / max) * plotH;
    const x = pad.left + index * slot + slot * 0.15;
    const bar = svg('rect', { x, y: pad.top + plotH - barH, width: slot * 0.7, height: Math.max(barH, 0),
      class: 'bar', 'data-day': point.day, 'data-credits': point.credits });
    bar.append(svg('title', {}, `${point.day}: ${point.credits} credits, ${point.requests} requests`));
    root.append(bar);
    const last = index === series.length - 1;
    if (last || (index % 7 === 0 && series.length - 1 - index >= 4)) {
      root.append(svg('text', { x: x + slot * 0.35, y: height - 8, 'text-anchor': 'middle', class: 'axis' },
        point.day.slice(5)));
    }
  });
  return root;
}
