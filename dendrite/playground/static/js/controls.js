// The top bar and the DATA column: every control sends the key(s) it changes; the values shown
// always come back from the server's snapshot (the source of truth).
import { CLASS_COLORS, cssColor, valueColor } from './heatmap.js';
import { DATASETS, datasetTitle, drawThumbnail } from './thumbnails.js';

// data-testid -> [config key, parse]
const SELECTS = {
  'learning-rate': ['learning_rate', Number],
  regularization: ['regularization', String],
  'regularization-rate': ['regularization_rate', Number],
  optimizer: ['optimizer', String],
  init: ['init', String],
  schedule: ['schedule', String],
};
const SLIDERS = {
  'batch-size': 'batch_size',
  noise: 'noise',
  'train-ratio': 'train_ratio',
  classes: 'classes',
  points: 'points',
};
const MULTICLASS_DATASETS = ['gaussian', 'spiral'];
const REGRESSION_LABELS = [-1, -0.5, 0, 0.5, 1];

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

function formatMetric(value) {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(3);
}

function ensureOption(selectNode, value) {
  const text = String(value);
  if (![...selectNode.options].some((option) => option.value === text)) {
    const option = document.createElement('option');
    option.value = text;
    option.textContent = text;
    selectNode.append(option);
  }
  selectNode.value = text;
}

export class Controls {
  /** handlers: configure(partial), setActivation(name), action(name), ui(name, value), pointLabel(). */
  constructor(handlers) {
    this.handlers = handlers;
    this.config = null;
    this.pointLabel = 1;
    this.pointKey = '';
    for (const [testid, [key, parse]] of Object.entries(SELECTS)) {
      const node = byTestId(testid);
      node.addEventListener('change', () => handlers.configure({ [key]: parse(node.value) }));
    }
    for (const [testid, key] of Object.entries(SLIDERS)) {
      const node = byTestId(testid);
      node.addEventListener('input', () => this.showSlider(testid, node.value));
      node.addEventListener('change', () => handlers.configure({ [key]: Number.parseInt(node.value, 10) }));
    }
    byTestId('activation').addEventListener('change', (event) => handlers.setActivation(event.target.value));
    byTestId('problem-type').addEventListener('change', (event) => {
      const problem = event.target.value;
      // each problem starts from its first built-in set; circle has two classes
      handlers.configure({ problem, dataset: problem === 'regression' ? 'plane' : 'circle', classes: 2 });
    });
    for (const name of ['play', 'step', 'reset', 'regenerate']) {
      byTestId(name).addEventListener('click', () => handlers.action(name));
    }
    document.addEventListener('keydown', (event) => this.shortcut(event));
    for (const name of ['show-test', 'discretize', 'log-scale']) {
      const key = name.replace('-', '_');
      byTestId(name).addEventListener('change', (event) => handlers.ui(key, event.target.checked));
    }
    this.buildDatasets();
  }

  /**
   * Space: play/pause, N or →: step, R: reset (the keys listed in each button's aria-keyshortcuts).
   * Only when no control has the focus, so typing, selecting and pressing a focused button are left alone.
   */
  shortcut(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
    const target = event.target;
    if (target !== document.body && target !== document.documentElement
        && target.closest('input, select, textarea, button, a, [tabindex], [contenteditable]')) return;
    const name = { ' ': 'play', n: 'step', N: 'step', ArrowRight: 'step', r: 'reset', R: 'reset' }[event.key];
    if (!name) return;
    event.preventDefault();
    this.handlers.action(name);
  }

  buildDatasets() {
    this.thumbnails = {};
    for (const group of document.querySelectorAll('.dataset-group')) {
      const problem = group.dataset.problem;
      const list = group.querySelector('.dataset-list');
      const names = problem === 'custom' ? ['custom'] : DATASETS[problem];
      for (const name of names) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'dataset';
        button.dataset.testid = `dataset-${name}`;
        button.title = datasetTitle(name);
        button.setAttribute('aria-label', datasetTitle(name));
        button.setAttribute('aria-pressed', 'false');
        const picture = document.createElement('canvas');
        picture.width = 48;
        picture.height = 48;
        drawThumbnail(picture, name, 2);
        this.thumbnails[name] = picture;
        const label = document.createElement('span');
        label.textContent = datasetTitle(name);
        button.append(picture, label);
        button.addEventListener('click', () => this.chooseDataset(name, problem));
        list.append(button);
      }
    }
  }

  chooseDataset(name, problem) {
    const change = { dataset: name };
    if (name === 'custom') change.problem = this.config ? this.config.problem : 'classification';
    else change.problem = problem;
    const twoClassesOnly = name !== 'custom' && !MULTICLASS_DATASETS.includes(name);
    if (twoClassesOnly && this.config && this.config.classes !== 2) {
      change.classes = 2;
    }
    this.handlers.configure(change);
  }

  showSlider(testid, value) {
    const output = document.querySelector(`output[data-for="${testid}"]`);
    if (output) output.textContent = String(value);
  }

  /** Show a snapshot's state in the controls. */
  render(snapshot, ui) {
    const config = snapshot.config;
    const previous = this.config;
    this.config = config;
    for (const [testid, [key]] of Object.entries(SELECTS)) ensureOption(byTestId(testid), config[key]);
    for (const [testid, key] of Object.entries(SLIDERS)) {
      const node = byTestId(testid);
      if (document.activeElement !== node || node.value === String(config[key])) {
        node.value = String(config[key]);
        this.showSlider(testid, config[key]);
      }
    }
    byTestId('classes').disabled =
      !MULTICLASS_DATASETS.includes(config.dataset) || config.problem !== 'classification';
    byTestId('problem-type').value = config.problem;
    byTestId('activation').value = ui.activation;
    byTestId('show-test').checked = Boolean(ui.show_test);
    byTestId('discretize').checked = Boolean(ui.discretize);
    byTestId('log-scale').checked = Boolean(ui.log_scale);
    for (const button of document.querySelectorAll('button.dataset')) {
      const on = button.dataset.testid === `dataset-${config.dataset}`;
      button.setAttribute('aria-pressed', String(on));
      button.classList.toggle('selected', on);
    }
    for (const group of document.querySelectorAll('.dataset-group')) {
      const problem = group.dataset.problem;
      group.classList.toggle('inactive', problem !== 'custom' && problem !== config.problem);
    }
    if (!previous || previous.classes !== config.classes) {
      for (const name of MULTICLASS_DATASETS) drawThumbnail(this.thumbnails[name], name, config.classes);
    }
    this.renderPointPicker(snapshot);

    const play = byTestId('play');
    play.setAttribute('aria-pressed', String(Boolean(snapshot.playing)));
    play.setAttribute('aria-label', snapshot.playing ? 'Pause' : 'Play');
    play.querySelector('.play-text').textContent = snapshot.playing ? 'Pause' : 'Play';
    play.classList.toggle('playing', Boolean(snapshot.playing));
    byTestId('epoch').textContent = String(snapshot.epoch);
    const metrics = snapshot.metrics || {};
    byTestId('train-loss').textContent = formatMetric(metrics.train_loss);
    byTestId('test-loss').textContent = formatMetric(metrics.test_loss);
    byTestId('train-accuracy').textContent = formatMetric(metrics.train_accuracy);
    byTestId('test-accuracy').textContent = formatMetric(metrics.test_accuracy);
    for (const node of document.querySelectorAll('.accuracy')) node.hidden = config.problem === 'regression';
  }

  /** Buttons choosing the label of a point added by clicking the output. */
  renderPointPicker(snapshot) {
    const regression = snapshot.problem === 'regression';
    // Custom points may start a new class (up to 6); built-in sets have their classes.
    const count = snapshot.config.dataset === 'custom' ? Math.min(6, snapshot.classes + 1) : snapshot.classes;
    const labels = regression ? REGRESSION_LABELS : Array.from({ length: count }, (_, k) => k);
    const key = `${snapshot.problem}:${labels.length}`;
    const box = document.querySelector('.point-class');
    if (key !== this.pointKey) {
      this.pointKey = key;
      if (!labels.includes(this.pointLabel)) this.pointLabel = labels[labels.length - 1];
      box.replaceChildren(...labels.map((label) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'class-choice';
        button.dataset.testid = `point-class-${label}`;
        button.setAttribute('role', 'radio');
        button.textContent = regression ? String(label) : `class ${label}`;
        const rgb = regression ? valueColor(label) : (count > 2 ? CLASS_COLORS[label]
          : valueColor(label === 1 ? 1 : -1));
        button.style.borderColor = cssColor(rgb);
        button.style.setProperty('--swatch', cssColor(rgb));
        button.addEventListener('click', () => {
          this.pointLabel = label;
          this.markPointLabel();
        });
        return button;
      }));
    }
    this.markPointLabel();
  }

  markPointLabel() {
    for (const button of document.querySelectorAll('.class-choice')) {
      const on = button.dataset.testid === `point-class-${this.pointLabel}`;
      button.setAttribute('aria-checked', String(on));
      button.classList.toggle('selected', on);
    }
  }
}
