// The optimisation explorer's page: controls, the contour map (a click sets the start point), the
// animated trajectories with their final losses, the landscape slice and the batch-size/lr curves.
import {
  COLORS, animate, drawCurves, drawField, drawMarker, drawPaths, frame, legendItem,
} from './explore_optim_draw.js';

const API = '/api/explore/optim';
const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

const state = {
  surfaces: {}, // name -> the surface's JSON (box, start, lr, minimum ...)
  optimizers: [],
  surface: null,
  start: null,
  contours: {}, // name -> the contour JSON, fetched once per surface
  runs: [],
  cancel: () => {},
};

class RequestError extends Error {}

async function post(path, body) {
  const response = await fetch(`${API}/${path}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new RequestError(data.error || `HTTP ${response.status}`);
  return data;
}

function showError(error) {
  const box = $('optim-error');
  if (!error) { box.hidden = true; box.textContent = ''; return; }
  box.hidden = false;
  box.textContent = error.message;
  if (!(error instanceof RequestError)) throw error; // a bug: let it surface in the console
}

function readNumber(testid) {
  const input = $(testid);
  const value = Number(input.value);
  if (input.value.trim() === '' || !Number.isFinite(value)) {
    throw new RequestError(`${input.closest('label').firstChild.textContent.trim()} must be a number`);
  }
  return value;
}

function formatLoss(v) {
  if (v === null) return 'n/a';
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? v.toFixed(4) : v.toExponential(3);
}

function enabledOptimizers() {
  return state.optimizers.filter((name) => $(`optim-toggle-${name}`).checked);
}

function buildToggles() {
  const box = $('optim-toggles');
  for (const name of state.optimizers) {
    const label = document.createElement('label');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.checked = true;
    input.dataset.testid = `optim-toggle-${name}`;
    const swatch = document.createElement('span');
    swatch.className = 'optim-swatch';
    swatch.style.background = COLORS[name];
    label.append(input, swatch, document.createTextNode(name));
    box.append(label);
  }
}

// ---- section 1: the surface -------------------------------------------------------------------

function surfaceFrame() {
  return frame($('optim-contour'), state.surfaces[state.surface].box);
}

function drawSurface() {
  const canvas = $('optim-contour');
  const surface = state.surfaces[state.surface];
  const contour = state.contours[state.surface];
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (contour) drawField(canvas, contour.log_values);
  const fr = surfaceFrame();
  if (surface.minimum) drawMarker(canvas, fr, surface.minimum, 'star');
  drawMarker(canvas, fr, state.start, 'ring');
}

function setStart(point) {
  const [x0, x1, y0, y1] = state.surfaces[state.surface].box;
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  state.start = [clamp(Number(point[0].toFixed(3)), x0, x1), clamp(Number(point[1].toFixed(3)), y0, y1)];
  $('optim-start').textContent = `(${state.start[0]}, ${state.start[1]})`;
  $('optim-contour').dataset.start = JSON.stringify(state.start);
}

function showLegend(runs) {
  const legend = $('optim-legend');
  legend.replaceChildren(...runs.map((run) => {
    const text = run.diverged ? `diverged at step ${run.diverged_step}` : formatLoss(run.final_loss);
    const item = legendItem(COLORS[run.optimizer], run.optimizer, text, `optim-final-${run.optimizer}`,
      run.final_loss);
    if (run.diverged) item.classList.add('diverged');
    return item;
  }));
}

async function chooseSurface(name) {
  state.cancel();
  state.surface = name;
  const surface = state.surfaces[name];
  $('optim-lr').value = String(surface.lr);
  $('optim-surface-note').textContent = surface.description;
  setStart(surface.start);
  state.runs = [];
  $('optim-legend').replaceChildren();
  if (!state.contours[name]) {
    const answer = await post('trajectories', {
      surface: name, optimizers: ['sgd'], steps: 1, include_contour: true,
    });
    state.contours[name] = answer.contour;
  }
  drawSurface();
}

async function runTrajectories() {
  const optimizers = enabledOptimizers();
  if (optimizers.length === 0) throw new RequestError('tick at least one optimiser');
  const body = {
    surface: state.surface, optimizers, start: state.start, lr: readNumber('optim-lr'),
    steps: readNumber('optim-steps'), momentum: readNumber('optim-momentum'),
    beta1: readNumber('optim-beta1'), beta2: readNumber('optim-beta2'),
    include_contour: !state.contours[state.surface],
  };
  const answer = await post('trajectories', body);
  if (answer.contour) state.contours[state.surface] = answer.contour;
  state.runs = answer.trajectories;
  showLegend(state.runs);
  state.cancel();
  const canvas = $('optim-contour');
  canvas.dataset.animating = 'true';
  const paths = state.runs.map((run) => ({ name: run.optimizer, points: run.points }));
  state.cancel = animate(canvas, surfaceFrame(), paths, drawSurface, 1500, () => {
    canvas.dataset.animating = 'false';
  });
}

// ---- section 2: the landscape ------------------------------------------------------------------

async function runLandscape() {
  const optimizers = enabledOptimizers();
  if (optimizers.length === 0) throw new RequestError('tick at least one optimiser');
  const button = $('optim-landscape-run');
  button.disabled = true;
  try {
    const answer = await post('landscape', {
      dataset: $('optim-dataset').value, optimizers, epochs: readNumber('optim-epochs'),
      grid: readNumber('optim-grid'),
    });
    const canvas = $('optim-landscape');
    const span = answer.coords[answer.coords.length - 1];
    const fr = frame(canvas, [-span, span, -span, span]);
    drawField(canvas, answer.log_values);
    const paths = Object.entries(answer.paths).map(([name, points]) => ({ name, points }));
    drawPaths(canvas, fr, paths);
    drawMarker(canvas, fr, [0, 0], 'star');
    canvas.dataset.drawn = 'true';
    canvas.dataset.centre = String(answer.values[(answer.values.length - 1) / 2][(answer.values.length - 1) / 2]);
    $('optim-landscape-legend').replaceChildren(...Object.entries(answer.final_losses).map(([name, loss]) =>
      legendItem(COLORS[name], name + (name === answer.reference ? ' (θ*)' : ''), formatLoss(loss),
        `optim-landscape-final-${name}`, loss)));
  } finally {
    button.disabled = false;
  }
}

// ---- section 3: batch size and learning rate ---------------------------------------------------

async function runEffects() {
  const button = $('optim-effects-run');
  button.disabled = true;
  try {
    const answer = await post('effects', { dataset: $('optim-dataset').value, epochs: 20 });
    const canvas = $('optim-curves');
    drawCurves(canvas, answer.curves);
    canvas.dataset.drawn = 'true';
    $('optim-curves-legend').replaceChildren(...answer.curves.map((curve) => {
      const label = curve.kind === 'batch' ? `batch ${curve.batch_size}` : `lr ${curve.lr}`;
      const last = curve.losses[curve.losses.length - 1];
      return legendItem(curve.color, label, formatLoss(last), undefined, last);
    }));
  } finally {
    button.disabled = false;
  }
}

// ---- wiring ------------------------------------------------------------------------------------

function guarded(action) {
  return () => { showError(null); action().catch(showError); };
}

async function main() {
  const response = await fetch(`${API}/surfaces`);
  const listing = await response.json();
  for (const surface of listing.surfaces) state.surfaces[surface.name] = surface;
  state.optimizers = listing.optimizers;
  buildToggles();
  $('optim-surface').addEventListener('change', guarded(() => chooseSurface($('optim-surface').value)));
  $('optim-contour').addEventListener('click', (event) => {
    if (!state.surface) return;
    state.cancel();
    setStart(surfaceFrame().fromEvent(event));
    state.runs = [];
    $('optim-legend').replaceChildren();
    drawSurface();
  });
  $('optim-run').addEventListener('click', guarded(runTrajectories));
  $('optim-landscape-run').addEventListener('click', guarded(runLandscape));
  $('optim-effects-run').addEventListener('click', guarded(runEffects));
  await chooseSurface($('optim-surface').value);
  document.body.dataset.ready = 'true';
}

main().catch(showError);
