// The page: one server session per tab, set up from the URL hash; snapshots arrive from POST
// answers and the event stream, and only the newest one is drawn, once per animation frame.
import { ApiError, Session } from './api.js';
import { drawLossChart, formatAxis } from './chart.js';
import { Controls } from './controls.js';
import { commonActivation, decodeHash, encodeHash } from './hash.js';
import {
  CLASS_COLORS, cssColor, decodeBase64, drawGrid, drawPaletteBar, drawPoints, drawTicks, fromClick,
} from './heatmap.js';
import { HistogramsView } from './histograms.js';
import { NetworkView } from './network.js';
import { Banner, DiagnosisPanel, ExportPanel, StatusLine, Upload } from './panels.js';

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

const state = {
  session: null,
  snapshot: null, // the one on screen
  pending: null, // the newest not yet drawn
  revision: null, // the highest snapshot revision seen from this session (older answers are ignored)
  frame: 0,
  points: null,
  pointsVersion: null,
  fetchingPoints: false,
  hover: null,
  ui: { show_test: false, discretize: false, log_scale: false, activation: 'tanh' },
  recovering: false,
};

const banner = new Banner();
const status = new StatusLine();
const exportPanel = new ExportPanel();
const diagnosis = new DiagnosisPanel(() => state.session.diagnose());
const histograms = new HistogramsView(document.querySelector('.histogram-rows'));
const outputCanvas = byTestId('output-heatmap');
const chartCanvas = byTestId('loss-chart');

/** Run one API call; its snapshot is accepted, a 4xx message goes to the banner. */
async function call(request, { quiet = false } = {}) {
  try {
    const snapshot = await request();
    accept(snapshot);
    return snapshot;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && !state.recovering) {
      banner.show(`${err.message} A new session was started with the same settings.`);
      await recreate();
    } else if (!quiet) {
      banner.show(err.message);
    }
    throw err;
  }
}

const quietly = (promise) => promise.catch(() => {});

function accept(snapshot) {
  if (!snapshot || typeof snapshot !== 'object' || !snapshot.config) return;
  // Answers and stream events can arrive out of order (a step's answer after the reset that followed
  // it): a snapshot older than one already taken would put a stale state back on screen.
  if (state.session && snapshot.session && snapshot.session !== state.session.id) return; // a replaced session
  if (typeof snapshot.revision === 'number') {
    if (state.revision !== null && snapshot.revision < state.revision) return;
    state.revision = snapshot.revision;
  }
  if (typeof snapshot.error === 'string') banner.show(snapshot.error);  // the play loop failed
  if (snapshot.points) {
    state.points = snapshot.points;
    state.pointsVersion = snapshot.data_version;
  }
  state.pending = snapshot;
  if (!state.frame) state.frame = requestAnimationFrame(renderFrame);
}

function redraw() {
  if (!state.pending && state.snapshot) state.pending = state.snapshot;
  if (!state.frame) state.frame = requestAnimationFrame(renderFrame);
}

function renderFrame() {
  state.frame = 0;
  const snapshot = state.pending;
  state.pending = null;
  if (!snapshot) return;
  state.snapshot = snapshot;
  if (snapshot.data_version !== state.pointsVersion) fetchPoints();
  state.ui.activation = commonActivation(snapshot.config.layers, state.ui.activation);
  network.activation = state.ui.activation;
  controls.render(snapshot, state.ui);
  network.render(snapshot);
  drawOutput(snapshot);
  drawChart(snapshot);
  histograms.render(snapshot.histograms);
  status.render(snapshot, state.pointsVersion === snapshot.data_version ? state.points : null);
  diagnosis.observe(snapshot);
  writeHash();
}

async function fetchPoints() {
  if (state.fetchingPoints || !state.session) return;
  state.fetchingPoints = true;
  try {
    const snapshot = await state.session.get();
    if (snapshot && snapshot.points) {
      state.points = snapshot.points;
      state.pointsVersion = snapshot.data_version;
      redraw();
    }
  } catch (err) {
    banner.show(err.message);
  } finally {
    state.fetchingPoints = false;
  }
}

function sizeCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round((canvas.clientWidth || canvas.width) * ratio);
  const height = Math.round((canvas.clientHeight || canvas.height) * ratio);
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
}

function drawOutput(snapshot) {
  sizeCanvas(outputCanvas);
  const heatmaps = snapshot.heatmaps;
  const classification = snapshot.problem === 'classification';
  const hovered = state.hover && heatmaps.neurons[state.hover.layer];
  if (hovered && hovered[state.hover.index]) {
    drawGrid(outputCanvas, decodeBase64(hovered[state.hover.index]), snapshot.grid.neuron_size || 16);
  } else if (heatmaps.output_class) {
    drawGrid(outputCanvas, decodeBase64(heatmaps.output), snapshot.grid.size,
      { classes: decodeBase64(heatmaps.output_class), discretize: state.ui.discretize });
  } else {
    drawGrid(outputCanvas, decodeBase64(heatmaps.output), snapshot.grid.size,
      { discretize: state.ui.discretize && classification });
  }
  if (state.points && state.pointsVersion === snapshot.data_version) {
    drawPoints(outputCanvas, state.points.train, '#fff', snapshot.problem, snapshot.classes);
    if (state.ui.show_test) {
      drawPoints(outputCanvas, state.points.test, '#000', snapshot.problem, snapshot.classes);
    }
  }
  drawTicks(outputCanvas);
  drawLegend(snapshot);
}

function drawChart(snapshot) {
  const axes = drawLossChart(chartCanvas, snapshot.history || {}, state.ui.log_scale);
  byTestId('loss-axis-max').textContent = axes ? formatAxis(axes.high) : '–';
  byTestId('loss-axis-min').textContent = axes ? formatAxis(axes.low) : '–';
  byTestId('epoch-axis-first').textContent = axes ? String(axes.first) : '0';
  byTestId('epoch-axis-last').textContent = axes ? String(axes.last) : '0';
}

/** Under the output: the palette for two classes or regression, class swatches for 3+ classes. */
function drawLegend(snapshot) {
  const multiclass = Boolean(snapshot.heatmaps.output_class);
  document.querySelector('.legend-bar').hidden = multiclass;
  const box = document.querySelector('.class-legend');
  box.hidden = !multiclass;
  if (!multiclass || box.childElementCount === snapshot.classes + 1) return;
  const items = Array.from({ length: snapshot.classes }, (_, k) => {
    const item = document.createElement('span');
    const swatch = document.createElement('i');
    swatch.style.background = cssColor(CLASS_COLORS[k % CLASS_COLORS.length]);
    item.append(swatch, `class ${k}`);
    return item;
  });
  const note = document.createElement('span');
  note.textContent = '(paler = less sure)';
  box.replaceChildren(...items, note);
}

function writeHash() {
  if (!state.snapshot) return;
  const hash = `#${encodeHash(state.snapshot.config, state.ui)}`;
  if (hash !== window.location.hash) history.replaceState(null, '', hash);
}

// Config changes go one at a time, and a change given as a function is computed from the config
// of the answer to the previous one, so quick clicks (+, +) build on each other instead of racing.
let configQueue = Promise.resolve();

function configure(change) {
  configQueue = configQueue.then(() => {
    const latest = (state.pending || state.snapshot || {}).config;
    const partial = typeof change === 'function' ? change(latest) : change;
    if (!partial) return undefined;
    return quietly(call(() => state.session.configure(partial)));
  });
  return configQueue;
}

function setUi(name, value) {
  state.ui[name] = value;
  redraw();
}

const controls = new Controls({
  configure,
  setActivation(activation) {
    state.ui.activation = activation;
    if (!state.snapshot || state.snapshot.config.layers.length === 0) redraw();
    else configure((config) => ({ layers: config.layers.map((layer) => ({ ...layer, activation })) }));
  },
  action(name) {
    if (!state.session) return;
    const verb = name === 'play' && state.snapshot && state.snapshot.playing ? 'pause' : name;
    quietly(call(() => state.session.action(verb)));
  },
  ui: setUi,
});

const network = new NetworkView(document.querySelector('.network'), {
  toggleFeature(name) {
    configure((config) => {
      const features = config.features;
      const next = features.includes(name) ? features.filter((f) => f !== name) : [...features, name];
      if (next.length === 0) {
        banner.show('At least one feature must stay on: the network needs an input.');
        return null;
      }
      return { features: next };
    });
  },
  changeLayers(mutate) {
    configure((config) => {
      const layers = config.layers.map((layer) => ({ ...layer }));
      mutate(layers);
      return { layers };
    });
  },
  setWeight(layer, source, target, value) {
    quietly(call(() => state.session.setWeight(layer, source, target, value)));
  },
  hover(target) {
    state.hover = target;
    redraw();
  },
});

new Upload(async (text) => {
  await call(() => state.session.upload(text), { quiet: false });
  banner.clear();
});

outputCanvas.addEventListener('click', (event) => {
  if (!state.session) return;
  const [x, y] = fromClick(outputCanvas, event);
  quietly(call(() => state.session.addPoint(x, y, controls.pointLabel)));
});

function connect(session, snapshot) {
  state.session = session;
  state.revision = null; // a new session counts its snapshots from the start
  state.pointsVersion = null;
  exportPanel.setSession(session);
  session.listen(accept, (connection) => {
    status.setConnection(connection);
    // A closed stream (not a retrying one) means the session is gone: start a new one.
    if (connection === 'error' && session.source && session.source.readyState === EventSource.CLOSED) {
      quietly(session.get().catch(async (err) => {
        if (err instanceof ApiError && err.status === 404) {
          banner.show(`${err.message} A new session was started with the same settings.`);
          await recreate();
        }
      }));
    }
  });
  accept(snapshot);
}

async function recreate() {
  if (state.recovering) return;
  state.recovering = true;
  try {
    const config = state.snapshot ? { ...state.snapshot.config } : {};
    // the server kept the custom points; without them the problem's first built-in set stands in
    if (config.dataset === 'custom') config.dataset = config.problem === 'regression' ? 'plane' : 'circle';
    if (state.session) state.session.close();
    const [session, snapshot] = await Session.create(config);
    connect(session, snapshot);
  } catch (err) {
    banner.show(err.message);
  } finally {
    state.recovering = false;
  }
}

/** Apply an address: UI options here; the config (only what it names) is returned for the server. */
function applyHash(hash) {
  const decoded = decodeHash(hash);
  Object.assign(state.ui, decoded.ui);
  const problems = [...decoded.problems];
  if (decoded.config.dataset === 'custom') {
    // The points themselves are not in the address; start from the problem's first built-in set.
    decoded.config.dataset = decoded.config.problem === 'regression' ? 'plane' : 'circle';
    const shown = decoded.config.dataset;
    problems.push(`your own points are not kept in the address, so the ${shown} set is shown`);
  }
  if (problems.length) banner.show(`In the address: ${problems.join('; ')}.`);
  return decoded.config;
}

function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => deepEqual(a[key], b[key]));
}

/**
 * A new address (typed, pasted, back/forward): UI options only -> redraw; any setting that differs
 * -> a fresh session built exactly as on a page load from that address.
 */
async function followHash() {
  if (!state.session || !state.snapshot) return;
  if (`#${encodeHash(state.snapshot.config, state.ui)}` === window.location.hash) return;  // our own write
  const config = applyHash(window.location.hash);
  const current = state.snapshot.config;
  if (Object.entries(config).every(([key, value]) => deepEqual(value, current[key]))) {
    redraw();
    return;
  }
  const old = state.session;
  try {
    const [session, snapshot] = await Session.create(config);
    old.release();
    connect(session, snapshot);
  } catch (err) {
    banner.show(`The settings in the address were refused: ${err.message}`);
  }
}

async function start() {
  drawPaletteBar(document.querySelector('.palette-bar'));
  const config = applyHash(window.location.hash);
  let created;
  try {
    created = await Session.create(config);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status >= 500 || err.status === 0) {
      banner.show(err.message);
      status.message(`Could not start a session: ${err.message}`);
      return;
    }
    banner.show(`The settings in the address were refused (${err.message}); starting from the defaults.`);
    created = await Session.create({});
  }
  connect(...created);
  window.addEventListener('hashchange', () => { followHash(); });
  window.addEventListener('resize', () => redraw());
  window.addEventListener('pagehide', () => {
    if (state.session) state.session.release();
  });
}

start().catch((err) => {
  banner.show(err.message);
  status.message(`Could not start: ${err.message}`);
});
