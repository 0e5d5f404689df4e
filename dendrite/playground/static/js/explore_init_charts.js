// The initialisation explorer's charts: std per layer on a log axis, small histograms, the loss curve.

const AXIS = '#999';
const PAD = { left: 46, right: 10, top: 10, bottom: 24 };

function usable(v, log) {
  return v !== null && Number.isFinite(v) && (!log || v > 0);
}

function frame(canvas) {
  const ctx = canvas.getContext('2d');
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.font = '10px sans-serif';
  return ctx;
}

function label(v, log) {
  if (log) return `1e${Math.round(v)}`;
  return String(Number(v.toPrecision(2)));
}

/**
 * Lines over x = 1..n: series [{values, color, dashed}] on a log10 (log) or linear y axis.
 * Returns the y range drawn, or null when nothing can be drawn.
 */
export function drawLines(canvas, series, { log = true, xLabel = 'layer', xStart = 1, floor = null } = {}) {
  const ctx = frame(canvas);
  const t = log ? (v) => Math.log10(v) : (v) => v;
  const all = series.flatMap((s) => s.values.filter((v) => usable(v, log)).map(t));
  if (all.length === 0) {
    ctx.fillStyle = AXIS;
    ctx.fillText(log ? 'every value is 0: nothing to draw on a log axis' : 'no values', PAD.left, 20);
    return null;
  }
  let low = Math.min(...all);
  let high = Math.max(...all);
  if (floor !== null) low = Math.min(low, floor);
  if (log) {
    low = Math.floor(low - 0.2);
    high = Math.ceil(high + 0.2);
  } else if (high - low < 1e-9) {
    high = low + 1;
  }
  const n = Math.max(...series.map((s) => s.values.length));
  const w = canvas.width - PAD.left - PAD.right;
  const h = canvas.height - PAD.top - PAD.bottom;
  const px = (i) => PAD.left + (n > 1 ? (i / (n - 1)) * w : w / 2);
  const py = (v) => PAD.top + (1 - (t(v) - low) / (high - low)) * h;
  ctx.strokeStyle = AXIS;
  ctx.fillStyle = '#666';
  ctx.lineWidth = 1;
  ctx.strokeRect(PAD.left, PAD.top, w, h);
  const ticks = log ? Math.min(6, high - low) : 4;
  for (let k = 0; k <= ticks; k += 1) {
    const value = low + ((high - low) * k) / ticks;
    const y = PAD.top + (1 - k / ticks) * h;
    ctx.fillText(label(value, log), 2, y + 3);
    ctx.beginPath();
    ctx.moveTo(PAD.left - 3, y);
    ctx.lineTo(PAD.left, y);
    ctx.stroke();
  }
  ctx.fillText(`${xLabel} ${xStart}`, PAD.left, canvas.height - 6);
  ctx.fillText(`${xStart + n - 1}`, PAD.left + w - 12, canvas.height - 6);
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = s.dashed ? 1.5 : 2;
    ctx.setLineDash(s.dashed ? [5, 4] : []);
    ctx.beginPath();
    let started = false;
    s.values.forEach((v, i) => {
      if (!usable(v, log)) {
        started = false;
        return;
      }
      const y = Math.max(PAD.top, Math.min(PAD.top + h, py(v)));
      if (started) ctx.lineTo(px(i), y);
      else ctx.moveTo(px(i), y);
      started = true;
    });
    ctx.stroke();
    ctx.setLineDash([]);
    if (!s.dashed && n <= 60) {
      s.values.forEach((v, i) => {
        if (!usable(v, log)) return;
        ctx.beginPath();
        ctx.arc(px(i), py(v), 2.5, 0, 2 * Math.PI);
        ctx.fill();
      });
    }
  }
  return { low, high };
}

/**
 * One layer's histogram (counts over equal bins), bar heights on a square-root scale so a spike
 * (ReLU's zeros) does not flatten the rest.
 */
export function drawHistogram(canvas, counts, color) {
  const ctx = frame(canvas);
  const top = Math.sqrt(Math.max(...counts, 1));
  const bar = canvas.width / counts.length;
  ctx.fillStyle = color;
  counts.forEach((c, i) => {
    const height = (Math.sqrt(c) / top) * (canvas.height - 2);
    ctx.fillRect(i * bar, canvas.height - height, Math.max(1, bar - 0.5), height);
  });
  ctx.strokeStyle = '#ccc';
  ctx.beginPath();
  ctx.moveTo(canvas.width / 2, 0);
  ctx.lineTo(canvas.width / 2, canvas.height);
  ctx.stroke();
}
