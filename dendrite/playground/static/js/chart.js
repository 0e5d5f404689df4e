// The live loss chart: training and test loss by epoch, on a linear or a log scale.

const TRAIN_COLOR = '#999';
const TEST_COLOR = '#111';

function finite(values) {
  return values.filter((v) => v !== null && Number.isFinite(v));
}

/**
 * Draw history {epoch: [...], train_loss: [...], test_loss: [...]} into a canvas; the axes drawn,
 * {low, high, first, last} (losses and epochs), for the labels beside it, or null when empty.
 */
export function drawLossChart(canvas, history, logScale) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || canvas.width;
  const height = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
  if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const epochs = history.epoch || [];
  if (epochs.length === 0) return null;
  const series = [[history.train_loss || [], TRAIN_COLOR], [history.test_loss || [], TEST_COLOR]];
  let values = finite([...series[0][0], ...series[1][0]]);
  if (logScale) values = values.filter((v) => v > 0);
  if (values.length === 0) return null;
  const transform = logScale ? (v) => Math.log10(v) : (v) => v;
  let low = logScale ? Math.min(...values.map(transform)) : 0;
  let high = Math.max(...values.map(transform));
  if (high - low < 1e-9) {
    high += 0.5;
    low -= logScale ? 0.5 : 0;
  }
  const first = epochs[0];
  const last = Math.max(epochs[epochs.length - 1], first + 1);
  const pad = 3;
  const px = (epoch) => pad + ((epoch - first) / (last - first)) * (width - 2 * pad);
  const py = (v) => height - pad - ((transform(v) - low) / (high - low)) * (height - 2 * pad);
  for (const [ys, color] of series) {
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let started = false;
    ys.forEach((v, i) => {
      if (v === null || !Number.isFinite(v) || (logScale && v <= 0)) {
        started = false;
        return;
      }
      const x = px(epochs[i]);
      const y = Math.max(0, Math.min(height, py(v)));
      if (started) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
      started = true;
    });
    ctx.stroke();
  }
  const value = logScale ? (t) => 10 ** t : (t) => t;
  return { low: value(low), high: value(high), first, last: epochs[epochs.length - 1] };
}

/** A loss for an axis label: 2 significant digits, exponent form below 0.01. */
export function formatAxis(v) {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1000 || Math.abs(v) < 0.01) return v.toExponential(1);
  return String(Number(v.toPrecision(2)));
}
