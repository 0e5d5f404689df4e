// Heatmaps: the snapshot's base64 uint8 grids (u -> v = u / 127.5 - 1, row 0 = top, y = +6)
// drawn with the Playground's diverging palette: orange (-1), near white (0), blue (+1).

export const EXTENT = 6;
const NEGATIVE = [245, 147, 34];
const MIDDLE = [232, 234, 235];
const POSITIVE = [8, 119, 189];
// Class colours for 3+ classes; classes 0 and 1 keep the binary orange and blue.
export const CLASS_COLORS = [[245, 147, 34], [8, 119, 189], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75]];

function mix(a, b, t) {
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
}

/** RGB of a value in [-1, 1] on the diverging palette. */
export function valueColor(v) {
  const x = Math.max(-1, Math.min(1, v));
  return x < 0 ? mix(MIDDLE, NEGATIVE, -x) : mix(MIDDLE, POSITIVE, x);
}

export function cssColor(rgb, alpha = 1) {
  return alpha === 1 ? `rgb(${rgb[0]},${rgb[1]},${rgb[2]})` : `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${alpha})`;
}

// One lookup table for the 256 encoded values, built once.
const LUT = Array.from({ length: 256 }, (_, u) => valueColor(u / 127.5 - 1));

const decodeCache = new Map();

/** Base64 string -> Uint8Array (small cache: the same neuron often does not change). */
export function decodeBase64(text) {
  if (decodeCache.has(text)) return decodeCache.get(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  if (decodeCache.size > 200) decodeCache.clear();
  decodeCache.set(text, bytes);
  return bytes;
}

const scratch = document.createElement('canvas');

/**
 * Paint a size x size grid into `canvas`, scaled up with smoothing.
 * options.discretize: sign only; options.classes (Uint8Array of class indices): colour by class,
 * with the cell's value (the confidence) as the strength of the colour.
 */
export function drawGrid(canvas, bytes, size, options = {}) {
  scratch.width = size;
  scratch.height = size;
  const sctx = scratch.getContext('2d');
  const image = sctx.createImageData(size, size);
  const data = image.data;
  for (let i = 0; i < size * size; i += 1) {
    let rgb;
    if (options.classes) {
      const confidence = options.discretize ? 1 : bytes[i] / 255;
      rgb = mix(MIDDLE, CLASS_COLORS[options.classes[i] % CLASS_COLORS.length], confidence);
    } else if (options.discretize) {
      rgb = bytes[i] >= 128 ? POSITIVE : NEGATIVE;
    } else {
      rgb = LUT[bytes[i]];
    }
    data[i * 4] = rgb[0];
    data[i * 4 + 1] = rgb[1];
    data[i * 4 + 2] = rgb[2];
    data[i * 4 + 3] = 255;
  }
  sctx.putImageData(image, 0, 0);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = !options.discretize;
  ctx.drawImage(scratch, 0, 0, size, size, 0, 0, canvas.width, canvas.height);
}

/** Canvas pixel of a data point (x, y) in [-6, 6]^2. */
export function toPixel(canvas, x, y) {
  return [(x + EXTENT) / (2 * EXTENT) * canvas.width, (EXTENT - y) / (2 * EXTENT) * canvas.height];
}

/** Data coordinates of a click on a canvas (CSS pixels relative to its box). */
export function fromClick(canvas, event) {
  const box = canvas.getBoundingClientRect();
  const x = ((event.clientX - box.left) / box.width) * 2 * EXTENT - EXTENT;
  const y = EXTENT - ((event.clientY - box.top) / box.height) * 2 * EXTENT;
  return [x, y];
}

/** Colour of a point's label: class colours for classification, the palette for regression. */
export function labelColor(label, problem, classes) {
  if (problem === 'regression') return valueColor(label);
  if (classes > 2) return CLASS_COLORS[Math.round(label) % CLASS_COLORS.length];
  return label >= 0.5 ? POSITIVE : NEGATIVE;
}

/** Draw points [[x, y, label], ...] as dots with a white (train) or black (test) outline. */
export function drawPoints(canvas, points, stroke, problem, classes) {
  const ctx = canvas.getContext('2d');
  const radius = Math.max(2.5, canvas.width / 110);
  ctx.lineWidth = Math.max(1, canvas.width / 300);
  ctx.strokeStyle = stroke;
  for (const [x, y, label] of points) {
    const [px, py] = toPixel(canvas, x, y);
    ctx.beginPath();
    ctx.arc(px, py, radius, 0, 2 * Math.PI);
    ctx.fillStyle = cssColor(labelColor(label, problem, classes));
    ctx.fill();
    ctx.stroke();
  }
}

/** Light ticks at -6, -3, 0, 3, 6 so positions can be read off the output. */
export function drawTicks(canvas) {
  const ctx = canvas.getContext('2d');
  ctx.strokeStyle = 'rgba(0,0,0,0.25)';
  ctx.lineWidth = 1;
  for (const t of [-3, 0, 3]) {
    const [px, py] = toPixel(canvas, t, t);
    ctx.beginPath();
    ctx.moveTo(px, canvas.height);
    ctx.lineTo(px, canvas.height - 6);
    ctx.moveTo(0, py);
    ctx.lineTo(6, py);
    ctx.stroke();
  }
}

const FEATURE_FUNCTIONS = {
  x1: (x) => x / EXTENT,
  x2: (x, y) => y / EXTENT,
  x1sq: (x) => (x * x) / 36 * 2 - 1,
  x2sq: (x, y) => (y * y) / 36 * 2 - 1,
  x1x2: (x, y) => (x * y) / 36,
  sinx1: (x) => Math.sin(x),
  sinx2: (x, y) => Math.sin(y),
};

/** The encoded heatmap of an input feature, computed here (it never changes), as the server encodes it. */
export function featureGrid(name, size) {
  const f = FEATURE_FUNCTIONS[name];
  const bytes = new Uint8Array(size * size);
  for (let row = 0; row < size; row += 1) {
    const y = EXTENT - ((row + 0.5) / size) * 2 * EXTENT;
    for (let col = 0; col < size; col += 1) {
      const x = ((col + 0.5) / size) * 2 * EXTENT - EXTENT;
      const v = Math.max(-1, Math.min(1, f(x, y)));
      bytes[row * size + col] = Math.round((v + 1) * 127.5);
    }
  }
  return bytes;
}

/** The palette as a horizontal bar (legend under the output). */
export function drawPaletteBar(canvas) {
  const ctx = canvas.getContext('2d');
  for (let i = 0; i < canvas.width; i += 1) {
    ctx.fillStyle = cssColor(valueColor((i / (canvas.width - 1)) * 2 - 1));
    ctx.fillRect(i, 0, 1, canvas.height);
  }
}
