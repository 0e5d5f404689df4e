// The initialisation explorer page: pick a scheme, run the signal through a deep MLP, then train.

import { decodeBase64, drawGrid, drawPoints, drawTicks } from './heatmap.js';
import { drawHistogram, drawLines } from './explore_init_charts.js';

const BLUE = '#0877bd';
const ORANGE = '#f59322';
const THEORY = '#555';
const LN2 = Math.log(2);
const BOUNDARY_SIZE = 60;

// What each scheme aims for, in words (Var[W] of a square layer of width n, gain g of the activation).
const AIMS = {
  zeros: 'every weight 0: nothing random, so every neuron is the same',
  constant: 'every weight 0.1: nothing random, so every neuron is the same',
  small_normal: 'Var[W] = 0.01² whatever the width: the std changes by √(n · 0.01² · E[φ²]/q) per layer',
  large_normal: 'Var[W] = 1 whatever the width: the std changes by √(n · E[φ²]/q) per layer',
  xavier_uniform: 'Var[W] = g² · 2 / (fan_in + fan_out), the average of forward and backward needs',
  xavier_normal: 'Var[W] = g² · 2 / (fan_in + fan_out), the average of forward and backward needs',
  kaiming_uniform: 'Var[W] = g² / fan_in: the second moment of the signal stays put (g² = 2 for ReLU)',
  kaiming_normal: 'Var[W] = g² / fan_in: the second moment of the signal stays put (g² = 2 for ReLU)',
  lecun_normal: 'Var[W] = 1 / fan_in: right for linear (and SELU) layers',
  orthogonal: 'W = g · an orthogonal matrix: a linear net keeps every vector\'s length exactly',
  default: 'PyTorch\'s Linear default, W and b ~ U(−1/√fan_in, 1/√fan_in): Var[W] = 1 / (3 fan_in)',
};

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error(data && data.error ? data.error : `${response.status} ${response.statusText}`);
  return data;
}

function showError(message) {
  const banner = $('init-error');
  banner.querySelector('.banner-text').textContent = message || '';
  banner.hidden = !message;
}

function whole(id, low, high) {
  const input = $(id);
  const value = Number(input.value);
  if (!Number.isInteger(value) || value < low || value > high) {
    throw new Error(`${input.labels[0].textContent.split(' (')[0]} must be a whole number in ${low}..${high}`);
  }
  return value;
}

function settings() {
  return {
    scheme: $('init-scheme').value,
    activation: $('init-activation').value,
    depth: whole('init-depth', 1, 20),
    width: whole('init-width', 2, 256),
    seed: whole('init-seed', 0, 2 ** 31 - 1),
  };
}

function fmt(v) {
  if (v === null || !Number.isFinite(v)) return 'overflow';
  if (v === 0) return '0';
  return Math.abs(v) >= 1000 || Math.abs(v) < 0.01 ? v.toExponential(1) : v.toPrecision(2);
}

function mood(element, text) {
  element.textContent = text;
  element.classList.toggle('good', /^Healthy|^The loss fell/.test(text));
  element.classList.toggle('bad', /^(Symmetric|Vanished|Exploded|Saturated|Stuck)/.test(text));
}

function drawSignals(data) {
  const actCanvas = $('init-activation-std');
  actCanvas.dataset.values = JSON.stringify(data.act_std);
  actCanvas.dataset.theory = JSON.stringify(data.theory_std);
  drawLines(actCanvas, [
    { values: data.theory_std, color: THEORY, dashed: true },
    { values: data.act_std, color: BLUE },
  ]);
  const gradCanvas = $('init-gradient-std');
  gradCanvas.dataset.values = JSON.stringify(data.grad_std);
  drawLines(gradCanvas, [{ values: data.grad_std, color: ORANGE }]);
  const theory = data.theory_std;
  $('init-theory').textContent = `Theory (${AIMS[data.scheme]}): std ${fmt(theory[0])} in layer 1, `
    + `${fmt(theory[theory.length - 1])} in layer ${data.depth}. Measured: ${fmt(data.act_std[0])} and `
    + `${fmt(data.act_std[data.act_std.length - 1])}.`;
  mood($('init-explanation'), data.explanation);
  drawHistograms(data);
}

function drawHistograms(data) {
  const box = $('init-histograms');
  box.replaceChildren();
  const low = data.hist_edges[0];
  const high = data.hist_edges[data.hist_edges.length - 1];
  data.hist_counts.forEach((counts, layer) => {
    const cell = document.createElement('figure');
    cell.className = 'init-histogram';
    cell.dataset.testid = `init-histogram-${layer + 1}`;
    const canvas = document.createElement('canvas');
    canvas.width = 90;
    canvas.height = 50;
    drawHistogram(canvas, counts, BLUE);
    const caption = document.createElement('figcaption');
    const saturated = data.saturated[layer] > 0.01 ? `, ${Math.round(data.saturated[layer] * 100)}% saturated` : '';
    caption.textContent = `layer ${layer + 1}: std ${fmt(data.act_std[layer])}${saturated}`;
    cell.append(canvas, caption);
    box.append(cell);
  });
  const note = document.createElement('p');
  note.className = 'hint';
  note.textContent = `Range ${low} to ${high} (bar heights: square root of the counts); `
    + `${data.distinct_neurons[data.depth - 1]} distinct neurons of ${data.width} in the last layer `
    + '(ReLU units that are 0 for every input count as one).';
  box.append(note);
}

function trainingWords(data) {
  const losses = data.loss.filter((v) => v !== null);
  if (losses.length < data.loss.length) return 'Diverged: the loss overflowed. Try a smaller learning rate.';
  const first = losses[0];
  const last = losses[losses.length - 1];
  const accuracy = `${Math.round(data.accuracy * 100)}%`;
  if (Math.abs(last - LN2) < 0.01) {
    return `Stuck at ln 2 = 0.693, a coin flip (accuracy ${accuracy}): no useful gradient reaches the `
      + 'hidden layers, or every neuron gets the same one, so the net never leaves its start.';
  }
  return `The loss fell from ${first.toFixed(3)} to ${last.toFixed(3)} in ${data.epochs} epochs; `
    + `accuracy ${accuracy}.`;
}

function drawTraining(data) {
  const lossCanvas = $('init-loss-chart');
  lossCanvas.dataset.values = JSON.stringify(data.loss);
  const reference = data.loss.map(() => LN2);
  drawLines(lossCanvas, [{ values: reference, color: '#bbb', dashed: true },
    { values: data.loss, color: BLUE }], { log: false, xLabel: 'epoch', xStart: 0, floor: 0 });
  const boundary = $('init-boundary');
  drawGrid(boundary, decodeBase64(data.boundary_map), BOUNDARY_SIZE);
  drawPoints(boundary, data.points, 'white', 'classification', 2);
  drawTicks(boundary);
  boundary.dataset.accuracy = String(data.accuracy);
  mood($('init-train-explanation'), trainingWords(data));
}

async function busy(button, status, work) {
  button.disabled = true;
  $('init-status').textContent = status;
  try {
    showError('');
    await work();
    $('init-status').textContent = '';
  } catch (error) {
    showError(error.message);
    $('init-status').textContent = 'failed';
  } finally {
    button.disabled = false;
  }
}

let latest = 0; // only the newest run is drawn: an older answer arriving late is dropped

function runSignal() {
  const id = ++latest;
  return busy($('init-run'), 'running…', async () => {
    const body = settings();
    const data = await post('/api/explore/init/signals', body);
    if (id !== latest) return;
    drawSignals(data);
    // what the charts show now, for readers (and tests): "scheme activation depth width"
    $('init-run').dataset.shown = `${body.scheme} ${body.activation} ${body.depth} ${body.width}`;
  });
}

function runTraining() {
  return busy($('init-train'), 'training…', async () => {
    const body = settings();
    if (body.width > 64) body.width = 64;
    body.dataset = $('init-dataset').value;
    body.epochs = whole('init-epochs', 1, 200);
    body.lr = Number($('init-lr').value);
    const data = await post('/api/explore/init/train', body);
    $('init-train').dataset.done = String(Number($('init-train').dataset.done || 0) + 1);
    drawTraining(data);
  });
}

$('init-run').addEventListener('click', runSignal);
$('init-train').addEventListener('click', runTraining);
for (const id of ['init-scheme', 'init-activation']) $(id).addEventListener('change', runSignal);
runSignal();
