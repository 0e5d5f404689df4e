// Drawing for the optimisation explorer: contour maps, animated trajectories, the landscape slice and
// the loss curves. Everything is plain canvas 2-D; the palette is the playground's (heatmap.js).
import { valueColor } from './heatmap.js';

export const COLORS = {
  sgd: '#444444', momentum: '#1f77b4', nesterov: '#17becf', rmsprop: '#2ca02c',
  adagrad: '#bcbd22', adam: '#d62728', adamw: '#9467bd',
};
const BANDS = 24; // quantised colours read like contour lines

/** A box {x0, x1, y0, y1} -> functions between data coordinates and canvas pixels. */
export function frame(canvas, box) {
  const [x0, x1, y0, y1] = box;
  return {
    toPixel: (x, y) => [((x - x0) / (x1 - x0)) * canvas.width, ((y1 - y) / (y1 - y0)) * canvas.height],
    fromEvent(event) {
      const rect = canvas.getBoundingClientRect();
      const u = (event.clientX - rect.left) / rect.width;
      const v = (event.clientY - rect.top) / rect.height;
      return [x0 + u * (x1 - x0), y1 - v * (y1 - y0)];
    },
  };
}

/** Draw a grid of values (rows: y from bottom to top) as banded colours: low blue, high orange. */
export function drawField(canvas, rows) {
  const ctx = canvas.getContext('2d');
  const n = rows.length;
  const m = rows[0].length;
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of rows) {
    for (const v of row) {
      if (v !== null && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
  }
  const span = hi > lo ? hi - lo : 1;
  const image = new ImageData(m, n);
  for (let r = 0; r < n; r += 1) {
    const row = rows[n - 1 - r]; // image row 0 is the top: the largest y
    for (let c = 0; c < m; c += 1) {
      const v = row[c];
      const t = v === null ? 1 : Math.floor(((v - lo) / span) * BANDS) / BANDS;
      const rgb = valueColor(1 - 2 * t);
      const i = (r * m + c) * 4;
      image.data[i] = rgb[0]; image.data[i + 1] = rgb[1]; image.data[i + 2] = rgb[2]; image.data[i + 3] = 255;
    }
  }
  const small = document.createElement('canvas');
  small.width = m;
  small.height = n;
  small.getContext('2d').putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}

/** A star (the minimum) or a ring (the start) at data point p. */
export function drawMarker(canvas, fr, p, kind) {
  const ctx = canvas.getContext('2d');
  const [px, py] = fr.toPixel(p[0], p[1]);
  ctx.save();
  ctx.lineWidth = 2;
  ctx.strokeStyle = '#222';
  ctx.fillStyle = '#fff';
  ctx.beginPath();
  if (kind === 'star') {
    for (let k = 0; k < 10; k += 1) {
      const r = k % 2 === 0 ? 9 : 4;
      const a = -Math.PI / 2 + (k * Math.PI) / 5;
      ctx.lineTo(px + r * Math.cos(a), py + r * Math.sin(a));
    }
    ctx.closePath();
  } else {
    ctx.arc(px, py, 6, 0, 2 * Math.PI);
  }
  ctx.fill();
  ctx.stroke();
  ctx.restore();
}

/** Polylines of the first `upto` points of each path ({name, points}). Missing points end a line. */
export function drawPaths(canvas, fr, paths, upto = Infinity) {
  const ctx = canvas.getContext('2d');
  ctx.save();
  ctx.lineWidth = 2;
  ctx.lineJoin = 'round';
  for (const { name, points } of paths) {
    ctx.strokeStyle = COLORS[name] || '#000';
    ctx.beginPath();
    const last = Math.min(points.length, upto);
    let drawn = 0;
    for (let k = 0; k < last; k += 1) {
      const p = points[k];
      if (p[0] === null || p[1] === null) break;
      const [px, py] = fr.toPixel(p[0], p[1]);
      if (k === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
      drawn = k;
    }
    ctx.stroke();
    const head = points[drawn];
    if (head && head[0] !== null) {
      const [hx, hy] = fr.toPixel(head[0], head[1]);
      ctx.fillStyle = COLORS[name] || '#000';
      ctx.beginPath();
      ctx.arc(hx, hy, 3.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  ctx.restore();
}

/**
 * Animate paths over a background: `redraw()` paints the background; the lines grow to their full
 * length over about `ms` milliseconds. Returns a function that cancels the animation.
 */
export function animate(canvas, fr, paths, redraw, ms = 1500, done = () => {}) {
  const longest = Math.max(1, ...paths.map((p) => p.points.length));
  let started = null;
  let frameId = null;
  const tick = (now) => {
    if (started === null) started = now;
    const share = Math.min(1, (now - started) / ms);
    redraw();
    drawPaths(canvas, fr, paths, Math.max(1, Math.ceil(share * longest)));
    if (share < 1) frameId = requestAnimationFrame(tick); else done();
  };
  frameId = requestAnimationFrame(tick);
  return () => { if (frameId !== null) cancelAnimationFrame(frameId); };
}

function niceLog(v) {
  return v >= 0.01 && v < 1000 ? v.toPrecision(2) : v.toExponential(0);
}

/** Loss curves, log scale, in two panels: batch sizes (left) and learning rates (right). */
export function drawCurves(canvas, curves) {
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
  const values = curves.flatMap((c) => c.losses).filter((v) => v !== null && v > 0);
  if (values.length === 0) return;
  const lo = Math.log10(Math.min(...values));
  const hi = Math.log10(Math.max(...values));
  const range = hi > lo ? hi - lo : 1;
  const panelWidth = canvas.width / 2;
  const pad = { left: 46, right: 12, top: 22, bottom: 26 };
  ['batch', 'lr'].forEach((kind, panel) => {
    const left = panel * panelWidth + pad.left;
    const width = panelWidth - pad.left - pad.right;
    const height = canvas.height - pad.top - pad.bottom;
    ctx.strokeStyle = '#bbb';
    ctx.strokeRect(left, pad.top, width, height);
    ctx.fillStyle = '#555';
    ctx.font = '11px sans-serif';
    ctx.fillText(kind === 'batch' ? 'batch size (lr 0.3)' : 'learning rate (batch 32)', left, pad.top - 8);
    ctx.fillText(niceLog(10 ** hi), left - 42, pad.top + 8);
    ctx.fillText(niceLog(10 ** lo), left - 42, pad.top + height);
    ctx.fillText('epoch', left + width - 30, pad.top + height + 18);
    curves.filter((c) => c.kind === kind).forEach((curve, index) => {
      ctx.strokeStyle = palette[index % palette.length];
      ctx.lineWidth = 2;
      ctx.beginPath();
      const n = Math.max(1, curve.losses.length - 1);
      curve.losses.forEach((v, k) => {
        const y = v === null || v <= 0 ? hi : Math.log10(v);
        const px = left + (k / n) * width;
        const py = pad.top + ((hi - Math.min(hi, Math.max(lo, y))) / range) * height;
        if (k === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
      });
      ctx.stroke();
      curve.color = ctx.strokeStyle;
    });
  });
}

/** A legend item: swatch, label, value (the value element carries `testid` and `data-value`). */
export function legendItem(color, label, valueText, testid, value) {
  const item = document.createElement('li');
  const swatch = document.createElement('span');
  swatch.className = 'optim-swatch';
  swatch.style.background = color;
  const name = document.createElement('span');
  name.textContent = label;
  const number = document.createElement('span');
  number.textContent = valueText;
  if (testid) number.dataset.testid = testid;
  if (value !== undefined) number.dataset.value = value === null ? '' : String(value);
  item.append(swatch, name, number);
  return item;
}
