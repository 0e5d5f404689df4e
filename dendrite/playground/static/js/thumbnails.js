// Small pictures of the built-in datasets for the DATA column's buttons (drawn, not fetched:
// they only have to show the shape of each problem).
import { CLASS_COLORS, cssColor, valueColor } from './heatmap.js';

export const DATASETS = {
  classification: ['circle', 'xor', 'gaussian', 'spiral'],
  regression: ['plane', 'multigauss'],
};

const TITLES = {
  circle: 'Circle', xor: 'Exclusive or', gaussian: 'Gaussian blobs', spiral: 'Spiral',
  plane: 'Plane', multigauss: 'Multi Gaussian', custom: 'Your points',
};

export function datasetTitle(name) {
  return TITLES[name] || name;
}

// A tiny deterministic generator so the pictures are the same on every load.
function randomSource(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

function samples(name, classes, random) {
  const out = [];
  const normal = () => Math.sqrt(-2 * Math.log(random() + 1e-9)) * Math.cos(2 * Math.PI * random());
  for (let i = 0; i < 120; i += 1) {
    if (name === 'circle') {
      const inner = i % 2 === 0;
      const r = inner ? random() * 2.5 : 3.5 + random() * 1.5;
      const a = random() * 2 * Math.PI;
      out.push([r * Math.cos(a), r * Math.sin(a), inner ? 1 : 0]);
    } else if (name === 'xor') {
      const x = random() * 10 - 5;
      const y = random() * 10 - 5;
      out.push([x, y, x * y >= 0 ? 1 : 0]);
    } else if (name === 'gaussian') {
      const c = i % classes;
      const a = classes === 2 ? (c === 0 ? Math.PI * 1.25 : Math.PI * 0.25) : (2 * Math.PI * c) / classes;
      out.push([3 * Math.cos(a) + normal() * 0.8, 3 * Math.sin(a) + normal() * 0.8, c]);
    } else if (name === 'spiral') {
      const c = i % classes;
      const t = random() * 5;
      const a = t * 1.4 + (2 * Math.PI * c) / classes;
      out.push([t * Math.cos(a), t * Math.sin(a), c]);
    }
  }
  return out;
}

function field(name, x, y) {
  if (name === 'plane') return (x + y) / 10;
  // multigauss: a few bumps of either sign
  const bumps = [[-3, 2, 1], [3, 3, -1], [0, -3, 1], [-3, -3, -1], [3, -1, 1]];
  let v = 0;
  for (const [bx, by, s] of bumps) v += s * Math.exp(-((x - bx) ** 2 + (y - by) ** 2) / 4);
  return v;
}

/** Draw the picture of dataset `name` into a (small, square) canvas. */
export function drawThumbnail(canvas, name, classes) {
  const ctx = canvas.getContext('2d');
  const size = canvas.width;
  const scale = size / 12;
  ctx.fillStyle = '#f4f4f4';
  ctx.fillRect(0, 0, size, size);
  if (name === 'plane' || name === 'multigauss') {
    const cells = 12;
    for (let row = 0; row < cells; row += 1) {
      for (let col = 0; col < cells; col += 1) {
        const x = ((col + 0.5) / cells) * 12 - 6;
        const y = 6 - ((row + 0.5) / cells) * 12;
        ctx.fillStyle = cssColor(valueColor(field(name, x, y)));
        ctx.fillRect((col * size) / cells, (row * size) / cells, size / cells + 1, size / cells + 1);
      }
    }
    return;
  }
  if (name === 'custom') {
    ctx.strokeStyle = '#999';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(size / 2, size * 0.25);
    ctx.lineTo(size / 2, size * 0.75);
    ctx.moveTo(size * 0.25, size / 2);
    ctx.lineTo(size * 0.75, size / 2);
    ctx.stroke();
    return;
  }
  const k = name === 'gaussian' || name === 'spiral' ? classes : 2;
  for (const [x, y, label] of samples(name, k, randomSource(7))) {
    ctx.fillStyle = cssColor(CLASS_COLORS[label % CLASS_COLORS.length]);
    ctx.beginPath();
    ctx.arc((x + 6) * scale, (6 - y) * scale, Math.max(1.2, size / 40), 0, 2 * Math.PI);
    ctx.fill();
  }
}
