// The URL hash holds the whole setup, readable: #dataset=spiral&layers=4,2&activation=tanh&...
// Layers are compact tokens: "4" (uses `activation`), "4:relu", "4:d0.2:bn" (dropout 0.2, batch norm).

export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'linear'];
export const FEATURES = ['x1', 'x2', 'x1sq', 'x2sq', 'x1x2', 'sinx1', 'sinx2'];

const INT_KEYS = ['classes', 'noise', 'train_ratio', 'points', 'batch_size', 'data_seed', 'seed'];
const FLOAT_KEYS = ['learning_rate', 'regularization_rate'];
const TEXT_KEYS = ['dataset', 'problem', 'optimizer', 'init', 'regularization', 'schedule'];
const UI_FLAGS = ['show_test', 'discretize', 'log_scale'];
const ORDER = ['dataset', 'problem', 'classes', 'noise', 'train_ratio', 'points', 'batch_size', 'features',
  'layers', 'activation', 'learning_rate', 'optimizer', 'init', 'regularization', 'regularization_rate',
  'schedule', 'seed', 'data_seed', 'show_test', 'discretize', 'log_scale'];

/** The activation the global select shows: the shared one, else the previous choice. */
export function commonActivation(layers, fallback) {
  if (!layers.length) return fallback || 'tanh';
  const first = layers[0].activation;
  return layers.every((layer) => layer.activation === first) ? first : (fallback || first);
}

function layerToken(layer, activation) {
  const parts = [String(layer.neurons)];
  if (layer.activation !== activation) parts.push(layer.activation);
  if (layer.dropout > 0) parts.push(`d${layer.dropout}`);
  if (layer.batchnorm) parts.push('bn');
  return parts.join(':');
}

function parseLayer(token, activation) {
  const parts = token.split(':');
  const neurons = Number.parseInt(parts[0], 10);
  if (!Number.isFinite(neurons)) throw new Error(`layer "${token}" must start with a neuron count`);
  const layer = { neurons, activation, dropout: 0, batchnorm: false };
  for (const part of parts.slice(1)) {
    if (ACTIVATIONS.includes(part)) layer.activation = part;
    else if (part === 'bn') layer.batchnorm = true;
    else if (/^d[0-9.]+$/.test(part)) layer.dropout = Number.parseFloat(part.slice(1));
    else throw new Error(`layer "${token}": unknown part "${part}" (expected an activation, dN or bn)`);
  }
  return layer;
}

/** Encode a normalised config plus UI options as a hash string (without the '#'). */
export function encodeHash(config, ui) {
  const activation = commonActivation(config.layers, ui.activation);
  const values = {
    ...config,
    features: config.features.join(','),
    layers: config.layers.map((layer) => layerToken(layer, activation)).join(','),
    activation,
  };
  for (const flag of UI_FLAGS) values[flag] = ui[flag] ? 1 : 0;
  const pairs = [];
  for (const key of ORDER) {
    if (values[key] === undefined || values[key] === null) continue;
    pairs.push(`${key}=${encodeURIComponent(String(values[key])).replace(/%2C/g, ',').replace(/%3A/g, ':')}`);
  }
  return pairs.join('&');
}

/**
 * Decode a hash into {config (partial: only the keys present), ui, problems (messages)}.
 * Values are only parsed here; the server validates them and names what is wrong.
 */
export function decodeHash(hash) {
  const text = (hash || '').replace(/^#/, '');
  const raw = {};
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const at = pair.indexOf('=');
    const key = at < 0 ? pair : pair.slice(0, at);
    raw[decodeURIComponent(key)] = at < 0 ? '' : decodeURIComponent(pair.slice(at + 1));
  }
  const config = {};
  const ui = {};
  const problems = [];
  for (const [key, value] of Object.entries(raw)) {
    if (INT_KEYS.includes(key)) {
      const number = Number(value);
      if (Number.isInteger(number)) config[key] = number;
      else problems.push(`${key}=${value} is not a whole number`);
    } else if (FLOAT_KEYS.includes(key)) {
      const number = Number(value);
      if (value !== '' && Number.isFinite(number)) config[key] = number;
      else problems.push(`${key}=${value} is not a number`);
    } else if (TEXT_KEYS.includes(key)) {
      config[key] = value;
    } else if (key === 'features') {
      config.features = value ? value.split(',') : [];
    } else if (UI_FLAGS.includes(key)) {
      ui[key] = value === '1' || value === 'true';
    } else if (key === 'activation') {
      ui.activation = value;
    } else if (key !== 'layers') {
      problems.push(`unknown key "${key}" in the address ignored`);
    }
  }
  if ('layers' in raw) {
    const activation = ui.activation || 'tanh';
    try {
      config.layers = raw.layers ? raw.layers.split(',').map((token) => parseLayer(token, activation)) : [];
    } catch (err) {
      problems.push(err.message);
    }
  }
  return { config, ui, problems };
}
