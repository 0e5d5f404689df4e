// The network drawing: FEATURES column, HIDDEN LAYERS (with their controls), the output unit(s)
// with a small bias square at each neuron's left, and SVG links whose width follows |weight| and
// whose colour follows its sign. Hovering or focusing a link or a bias shows its value; clicking a
// link (or Enter on a focused one) opens the weight editor. The DOM is rebuilt only when the structure changes; otherwise each
// snapshot only repaints canvases and restyles links.
import { ACTIVATIONS, FEATURES } from './hash.js';
import { CLASS_COLORS, cssColor, decodeBase64, drawGrid, featureGrid, valueColor } from './heatmap.js';
import { Tooltip } from './tooltip.js';

const SVG = 'http://www.w3.org/2000/svg';
const MAX_LAYERS = 6;
const MAX_NEURONS = 8;
const DROPOUTS = [0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9];
const FEATURE_LABELS = {
  x1: 'X₁', x2: 'X₂', x1sq: 'X₁²', x2sq: 'X₂²', x1x2: 'X₁X₂', sinx1: 'sin(X₁)', sinx2: 'sin(X₂)',
};
const POSITIVE = [8, 119, 189];
const NEGATIVE = [245, 147, 34];

function element(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'testid') node.dataset.testid = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'className') node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function canvas(testid, size, title) {
  const node = element('canvas', { testid, width: size, height: size, className: 'node', title });
  return node;
}

function select(testid, options, value, label) {
  const node = element('select', { testid, 'aria-label': label, className: 'mini' });
  for (const [optionValue, text] of options) node.append(element('option', { value: optionValue, text }));
  node.value = String(value);
  return node;
}

/** weights[layer] is (out, in) like PyTorch's Linear.weight; null (NaN/Inf on the server) -> NaN. */
function weightOf(weights, link) {
  const row = weights[link.layer] && weights[link.layer][link.target];
  const w = row ? row[link.source] : null;
  return typeof w === 'number' ? w : Number.NaN;
}

/** biases[layer][unit]; null (NaN/Inf on the server) -> NaN. */
function biasOf(biases, layer, unit) {
  const b = biases && biases[layer] ? biases[layer][unit] : null;
  return typeof b === 'number' ? b : Number.NaN;
}

function formatValue(w) {
  return Number.isFinite(w) ? w.toFixed(3) : 'not a number';
}

/** The small square at a neuron's left: its colour is the bias on the heatmap palette. */
function biasSquare(testid) {
  return element('span', { testid, className: 'bias', role: 'img', tabindex: '0' });
}

export class NetworkView {
  /**
   * root: the .network element; handlers: toggleFeature(name), changeLayers(mutate the layer list),
   * setWeight(layer, source, target, value), hover(target or null).
   */
  constructor(root, handlers) {
    this.root = root;
    this.svg = root.querySelector('svg.links');
    this.columns = root.querySelector('.net-columns');
    this.editor = root.querySelector('.weight-editor');
    this.handlers = handlers;
    this.activation = 'tanh';
    this.structure = '';
    this.snapshot = null;
    this.links = [];
    this.editing = null;
    this.biases = []; // [{node, layer, unit}]
    this.tooltip = new Tooltip(root);
    this.wireEditor();
    window.addEventListener('resize', () => this.layoutLinks());
  }

  wireEditor() {
    const input = this.editor.querySelector('[data-testid="weight-value"]');
    const apply = () => {
      const value = Number.parseFloat(input.value);
      if (!this.editing || !Number.isFinite(value)) {
        input.setCustomValidity('enter a number');
        input.reportValidity();
        return;
      }
      const { layer, source, target } = this.editing;
      this.handlers.setWeight(layer, source, target, value);
      this.closeEditor();
    };
    this.editor.querySelector('[data-testid="weight-apply"]').addEventListener('click', apply);
    input.addEventListener('input', () => input.setCustomValidity(''));
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') apply();
      if (event.key === 'Escape') this.closeEditor();
    });
    this.editor.querySelector('.weight-close').addEventListener('click', () => this.closeEditor());
  }

  closeEditor() {
    const link = this.editing && this.editing.link;
    this.editing = null;
    const wasOpen = !this.editor.hidden;
    this.editor.hidden = true;
    // back to the link that opened it (keyboard users continue from there)
    if (wasOpen && link && link.path.isConnected) link.path.focus();
  }

  openEditor(link) {
    const weight = weightOf(this.snapshot.network.weights, link);
    this.editing = { layer: link.layer, source: link.source, target: link.target, link };
    this.tooltip.hide();
    this.editor.querySelector('.weight-title').textContent =
      `Weight from ${link.from} to ${link.to}`;
    const input = this.editor.querySelector('[data-testid="weight-value"]');
    input.value = Number.isFinite(weight) ? weight.toFixed(4) : '0';
    this.editor.style.left = `${Math.max(0, link.mid[0] - 90)}px`;
    this.editor.style.top = `${link.mid[1] + 8}px`;
    this.editor.hidden = false;
    input.focus();
    input.select();
  }

  /** Draw a snapshot: rebuild on a structure change, then repaint. */
  render(snapshot) {
    this.snapshot = snapshot;
    const config = snapshot.config;
    const outputs = snapshot.network.layers.map((layer) => layer.neurons);
    const key = JSON.stringify([config.features, config.layers, outputs]);
    if (key !== this.structure) {
      this.structure = key;
      this.closeEditor();
      this.build(snapshot);
      this.layoutLinks();
    }
    this.update(snapshot);
  }

  build(snapshot) {
    const config = snapshot.config;
    this.tooltip.hide();
    this.biases = [];
    this.columns.replaceChildren(this.featureColumn(config), this.hiddenColumns(config),
      this.outputColumn(snapshot));
  }

  featureColumn(config) {
    const nodes = element('div', { className: 'nodes' });
    this.featureCanvases = {};
    for (const name of FEATURES) {
      const on = config.features.includes(name);
      const title = `${FEATURE_LABELS[name]}: click to ${on ? 'remove' : 'add'}`;
      const node = canvas(`feature-${name}`, 16, title);
      node.setAttribute('role', 'button');
      node.setAttribute('tabindex', '0');
      node.setAttribute('aria-pressed', String(on));
      node.setAttribute('aria-label', `feature ${name}`);
      node.classList.toggle('off', !on);
      drawGrid(node, featureGrid(name, 16), 16);
      node.addEventListener('click', () => this.handlers.toggleFeature(name));
      node.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          this.handlers.toggleFeature(name);
        }
      });
      this.featureCanvases[name] = node;
      nodes.append(element('div', { className: 'node-row feature-row' }, [
        element('span', { className: 'feature-label', text: FEATURE_LABELS[name] }), node]));
    }
    const head = element('div', { className: 'col-head features-head' }, [
      element('h3', { text: 'Features' }),
      element('p', { className: 'hint', text: 'Click an input to feed it in or leave it out.' })]);
    return element('div', { className: 'col features-col' }, [head, nodes]);
  }

  hiddenColumns(config) {
    const layers = config.layers;
    const button = (testid, text, label, disabled, onClick) => {
      const node = element('button',
        { type: 'button', testid, className: 'plus-minus', 'aria-label': label, text });
      node.disabled = disabled;
      node.addEventListener('click', onClick);
      return node;
    };
    const change = (mutate) => this.handlers.changeLayers(mutate);
    const head = element('div', { className: 'hidden-head' }, [
      button('add-layer', '+', 'add a hidden layer', layers.length >= MAX_LAYERS, () => change((copy) => {
        const layer = { neurons: 2, activation: this.activation, dropout: 0, batchnorm: false };
        if (copy.length < MAX_LAYERS) copy.push(layer);
      })),
      button('remove-layer', '−', 'remove the last hidden layer', layers.length === 0,
        () => change((copy) => copy.pop())),
      element('span', { className: 'layer-count', testid: 'layer-count', text: String(layers.length) }),
      element('span',
        { className: 'layer-count-label', text: layers.length === 1 ? 'HIDDEN LAYER' : 'HIDDEN LAYERS' }),
    ]);
    this.neuronCanvases = [];
    const columns = layers.map((layer, i) => {
      const controls = element('div', { className: 'col-head layer-head' }, [
        element('div', { className: 'neuron-buttons' }, [
          button(`add-neuron-${i}`, '+', `add a neuron to layer ${i}`, layer.neurons >= MAX_NEURONS,
            () => change((copy) => { if (copy[i] && copy[i].neurons < MAX_NEURONS) copy[i].neurons += 1; })),
          button(`remove-neuron-${i}`, '−', `remove a neuron from layer ${i}`, layer.neurons <= 1,
            () => change((copy) => { if (copy[i] && copy[i].neurons > 1) copy[i].neurons -= 1; }))]),
        element('div',
          { className: 'neuron-count', text: `${layer.neurons} neuron${layer.neurons === 1 ? '' : 's'}` }),
        this.layerControls(layer, i, change)]);
      const nodes = element('div', { className: 'nodes' });
      const row = [];
      for (let j = 0; j < layer.neurons; j += 1) {
        const node = canvas(`neuron-${i}-${j}`, 16, `layer ${i}, neuron ${j}`);
        node.addEventListener('mouseenter', () => this.handlers.hover({ layer: i + 1, index: j }));
        node.addEventListener('mouseleave', () => this.handlers.hover(null));
        row.push(node);
        const bias = this.addBias(`bias-${i}-${j}`, i, j);
        nodes.append(element('div', { className: 'node-row' }, [bias, node]));
      }
      this.neuronCanvases.push(row);
      return element('div', { className: 'col layer-col' }, [controls, nodes]);
    });
    const body = element('div', { className: 'hidden-cols' }, columns);
    return element('div', { className: 'hidden-wrap' }, [head, body]);
  }

  layerControls(layer, i, change) {
    const activation = select(`layer-activation-${i}`, ACTIVATIONS.map((a) => [a, a]), layer.activation,
      `activation of layer ${i}`);
    const edit = (apply) => change((copy) => { if (copy[i]) apply(copy[i]); });
    activation.addEventListener('change', () => edit((target) => { target.activation = activation.value; }));
    const dropouts = DROPOUTS.includes(layer.dropout) ? DROPOUTS : [...DROPOUTS, layer.dropout].sort();
    const dropout = select(`dropout-${i}`, dropouts.map((p) => [String(p), p ? `drop ${p}` : 'no dropout']),
      layer.dropout, `dropout of layer ${i}`);
    dropout.addEventListener('change', () => edit((target) => { target.dropout = Number(dropout.value); }));
    const batchnorm = element('input',
      { type: 'checkbox', testid: `batchnorm-${i}`, 'aria-label': `batch norm in layer ${i}` });
    batchnorm.checked = layer.batchnorm;
    batchnorm.addEventListener('change', () => edit((target) => { target.batchnorm = batchnorm.checked; }));
    return element('div', { className: 'layer-controls' }, [activation, dropout,
      element('label', { className: 'bn' }, [batchnorm, document.createTextNode(' BN')])]);
  }

  outputColumn(snapshot) {
    const count = snapshot.network.layers[snapshot.network.layers.length - 1].neurons;
    const nodes = element('div', { className: 'nodes' });
    this.outputNodes = [];
    for (let k = 0; k < count; k += 1) {
      const node = canvas(`neuron-out-${k}`, 16, count > 1 ? `output for class ${k}` : 'output');
      if (count > 1) {
        node.classList.add('class-node');
        node.style.background = cssColor(CLASS_COLORS[k % CLASS_COLORS.length]);
      }
      this.outputNodes.push(node);
      const layer = snapshot.network.layers.length - 1;
      const bias = this.addBias(`bias-out-${k}`, layer, k);
      nodes.append(element('div', { className: 'node-row' }, [bias, node]));
    }
    const head = element('div', { className: 'col-head out-head' }, [element('h3', { text: 'Out' })]);
    return element('div', { className: 'col out-col' }, [head, nodes]);
  }

  addBias(testid, layer, unit) {
    const node = biasSquare(testid);
    const value = () => biasOf(this.snapshot.network.biases, layer, unit);
    this.tooltip.attach(node, () => `Bias is ${formatValue(value())}`);
    this.biases.push({ node, layer, unit });
    return node;
  }

  /** Link endpoints follow the laid-out canvases, so links are re-made after a rebuild or a resize. */
  layoutLinks() {
    if (!this.snapshot) return;
    const config = this.snapshot.config;
    const box = this.root.getBoundingClientRect();
    this.svg.setAttribute('width', String(box.width));
    this.svg.setAttribute('height', String(box.height));
    this.svg.replaceChildren();
    this.links = [];
    const columns = [config.features.map((name) => [this.featureCanvases[name], name]),
      ...this.neuronCanvases.map((row, i) => row.map((node, j) => [node, `neuron ${j} of layer ${i}`])),
      this.outputNodes.map((node, k) => [node, this.outputNodes.length > 1 ? `class ${k}` : 'output'])];
    for (let layer = 0; layer + 1 < columns.length; layer += 1) {
      columns[layer].forEach(([from, fromName], source) => {
        columns[layer + 1].forEach(([to, toName], target) => {
          const a = from.getBoundingClientRect();
          const b = to.getBoundingClientRect();
          const sx = a.right - box.left;
          const sy = a.top + a.height / 2 - box.top;
          const tx = b.left - box.left;
          const ty = b.top + b.height / 2 - box.top;
          const mx = (sx + tx) / 2;
          const d = `M${sx},${sy} C${mx},${sy} ${mx},${ty} ${tx},${ty}`;
          const path = document.createElementNS(SVG, 'path');
          path.setAttribute('d', d);
          path.setAttribute('class', 'link');
          path.setAttribute('tabindex', '0');
          path.setAttribute('role', 'button');
          path.dataset.testid = `link-${layer}-${source}-${target}`;
          const hit = document.createElementNS(SVG, 'path');
          hit.setAttribute('d', d);
          hit.setAttribute('class', 'link-hit');
          hit.setAttribute('aria-hidden', 'true'); // the wider pointer target of the link above
          const link = { path, layer, source, target, from: fromName, to: toName, mid: [mx, (sy + ty) / 2] };
          const open = () => this.openEditor(link);
          path.addEventListener('click', open);
          hit.addEventListener('click', open);
          path.addEventListener('keydown', (event) => {
            if (event.key === 'Enter' || event.key === ' ') {
              event.preventDefault();
              open();
            }
          });
          const text = () => `Weight is ${formatValue(weightOf(this.snapshot.network.weights, link))}`;
          this.tooltip.attach(path, text);
          this.tooltip.attach(hit, text, { focus: false });
          this.svg.append(path, hit);
          this.links.push(link);
        });
      });
    }
    if (this.snapshot) this.update(this.snapshot);
  }

  update(snapshot) {
    const weights = snapshot.network.weights;
    for (const link of this.links) {
      const w = weightOf(weights, link);
      const magnitude = Math.abs(w);
      if (Number.isFinite(w)) {
        link.path.setAttribute('stroke', cssColor(w < 0 ? NEGATIVE : POSITIVE));
        link.path.setAttribute('stroke-width', Math.min(6, Math.max(0.4, magnitude * 3)).toFixed(2));
        link.path.setAttribute('stroke-opacity', Math.min(1, 0.35 + magnitude).toFixed(2));
        link.path.removeAttribute('stroke-dasharray');
      } else {  // a weight that overflowed (the server sends NaN/Inf as null)
        link.path.setAttribute('stroke', '#999');
        link.path.setAttribute('stroke-width', '1');
        link.path.setAttribute('stroke-dasharray', '3 3');
      }
      link.path.dataset.weight = String(w);
      link.path.setAttribute('aria-label',
        `Weight from ${link.from} to ${link.to} is ${formatValue(w)}; Enter to edit`);
    }
    for (const { node, layer, unit } of this.biases) {
      const b = biasOf(snapshot.network.biases, layer, unit);
      node.style.background = Number.isFinite(b) ? cssColor(valueColor(b)) : '#999';
      node.dataset.bias = String(b);
      const owner = layer === this.neuronCanvases.length ? 'output' : `layer ${layer}`;
      node.setAttribute('aria-label', `Bias of ${owner} unit ${unit} is ${formatValue(b)}`);
    }
    this.tooltip.refresh();
    const neurons = snapshot.heatmaps.neurons;
    const size = snapshot.grid.neuron_size || 16;
    this.neuronCanvases.forEach((row, i) => {
      row.forEach((node, j) => {
        const encoded = neurons[i + 1] && neurons[i + 1][j];
        if (encoded) drawGrid(node, decodeBase64(encoded), size);
      });
    });
    const last = neurons[neurons.length - 1];
    if (this.outputNodes.length === 1 && last && last[0]) {
      drawGrid(this.outputNodes[0], decodeBase64(last[0]), size);
    }
  }
}
