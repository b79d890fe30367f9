// @ts-check
/**
 * The setup in the URL hash, TensorFlow-Playground style, so that a copied link reproduces
 * it: `#dataset=xor&layers=4,2&lr=0.03&seed=3…`. Reading a hash never trusts it: every
 * value is checked against /api/options (names) and its limits (numbers); anything else is
 * dropped with a notice and the default stays. Values are only ever used as data.
 */

import { PACES } from './state.js';

/**
 * Hash keys that say where a lesson starts and what it shows (read by {@link startFromHash};
 * docs/lessons.md): the lesson's script, the run playing or paused, a weight or bias
 * selected, the phase reached, the side panel's tab, the phase pace, the sweep's rates,
 * secondary controls kept in projector mode.
 */
export const START_KEYS = ['lesson', 'start', 'select', 'phase', 'tab', 'pace', 'sweep', 'show'];

/** Hash keys that are not part of the config (kept as they are). */
export const OTHER_KEYS = ['session', 'class', 'projector', 'hide', ...START_KEYS];

/**
 * @typedef {{key: string, path: string[], kind: 'number' | 'int' | 'name' | 'names' | 'ints',
 *   choices?: (options: any) => string[], limit?: string, scale?: number}} Field
 */

/** @type {Field[]} */
const FIELDS = [
  { key: 'dataset', path: ['data', 'dataset'], kind: 'name', choices: (o) => o.datasets.map((d) => d.name) },
  { key: 'noise', path: ['data', 'noise'], kind: 'number', limit: 'noise', scale: 100 },
  { key: 'train', path: ['data', 'train_fraction'], kind: 'number', limit: 'train_fraction', scale: 100 },
  { key: 'points', path: ['data', 'n_points'], kind: 'int', limit: 'n_points' },
  { key: 'features', path: ['network', 'features'], kind: 'names', choices: (o) => o.features.map((f) => f.name) },
  { key: 'layers', path: ['network', 'hidden_layers'], kind: 'ints', limit: 'neurons_per_layer' },
  { key: 'activation', path: ['network', 'activation'], kind: 'name', choices: (o) => o.activations.map((a) => a.name) },
  { key: 'loss', path: ['network', 'loss'], kind: 'name', choices: (o) => o.losses.map((l) => l.name) },
  { key: 'lr', path: ['hyper', 'learning_rate'], kind: 'number', limit: 'learning_rate' },
  { key: 'batch', path: ['hyper', 'batch_size'], kind: 'int', limit: 'batch_size' },
  { key: 'optimizer', path: ['hyper', 'optimizer'], kind: 'name', choices: (o) => o.optimizers.map((a) => a.name) },
  { key: 'reg', path: ['hyper', 'regularization'], kind: 'name', choices: (o) => o.regularizations.map((a) => a.name) },
  { key: 'regRate', path: ['hyper', 'regularization_rate'], kind: 'number', limit: 'regularization_rate' },
  { key: 'seed', path: ['seed'], kind: 'int', limit: 'seed' },
];

/**
 * The partial config a hash asks for, and a notice for every value that was refused.
 * @param {string} hash  location.hash (with or without '#')
 * @param {any} options  GET /api/options
 * @returns {{config: any, notices: string[], given: boolean}}
 */
export function configFromHash(hash, options) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  /** @type {any} */
  const config = {};
  const notices = [];
  let given = false;
  for (const [key, raw] of params) {
    if (OTHER_KEYS.includes(key)) continue;
    const field = FIELDS.find((f) => f.key === key);
    const shown = raw.length > 24 ? `${raw.slice(0, 24)}…` : raw;
    if (!field) { notices.push(`ignored unknown setting “${key.slice(0, 24)}”`); continue; }
    const value = parse(field, raw, options);
    if (value === undefined) { notices.push(`ignored ${key}=${shown}: not a valid value`); continue; }
    setPath(config, field.path, value);
    given = true;
  }
  return { config, notices, given };
}

/**
 * @param {Field} field
 * @param {string} raw
 * @param {any} options
 */
function parse(field, raw, options) {
  const limits = field.limit ? options.limits[field.limit] : null;
  const inRange = (/** @type {number} */ v) => Number.isFinite(v) && (!limits || (v >= limits[0] && v <= limits[1]));
  switch (field.kind) {
    case 'name':
      return field.choices?.(options).includes(raw) ? raw : undefined;
    case 'names': {
      const names = raw.split(',').filter(Boolean);
      const known = field.choices?.(options) ?? [];
      return names.length > 0 && names.length <= known.length && names.every((n) => known.includes(n))
        ? [...new Set(names)] : undefined;
    }
    case 'ints': {
      if (raw === '') return [];
      const sizes = raw.split(',').map(Number);
      const count = options.limits.hidden_layers;
      return sizes.length <= count[1] && sizes.every((v) => Number.isInteger(v) && inRange(v)) ? sizes : undefined;
    }
    case 'int': {
      const value = Number(raw);
      return Number.isInteger(value) && inRange(value) ? value : undefined;
    }
    default: {
      const value = Number(raw) / (field.scale ?? 1);
      return raw.trim() !== '' && inRange(value) ? value : undefined;
    }
  }
}

/** @param {any} target @param {string[]} path @param {any} value */
function setPath(target, path, value) {
  let node = target;
  for (const key of path.slice(0, -1)) node = node[key] ??= {};
  node[path[path.length - 1]] = value;
}

/**
 * The hash for ``config`` (keeping the non-config keys of ``currentHash``).
 * @param {any} config  a full trainer config
 * @param {string} currentHash
 */
export function hashForConfig(config, currentHash) {
  const params = new URLSearchParams();
  const previous = new URLSearchParams(currentHash.replace(/^#/, ''));
  for (const key of OTHER_KEYS) {
    const value = previous.get(key);
    if (value !== null) params.set(key, value);
  }
  for (const field of FIELDS) {
    let value = field.path.reduce((node, key) => node?.[key], config);
    if (value === undefined || value === null) continue;
    if (field.key === 'activation' && Array.isArray(value)) value = value[0] ?? 'tanh';
    if (Array.isArray(value)) value = value.join(',');
    else if (field.scale) value = Math.round(value * field.scale);
    params.set(field.key, String(value));
  }
  return `#${params}`;
}

/**
 * Which controls a teacher chose to hide (`#hide=data,optimizer,…`): test ids or panel names.
 * @param {string} hash
 * @returns {string[]}
 */
export function hiddenControls(hash) {
  const value = new URLSearchParams(hash.replace(/^#/, '')).get('hide') ?? '';
  return value.split(',').map((v) => v.trim()).filter((v) => /^[a-z-]{1,32}$/.test(v));
}

/**
 * Where a link starts and what it shows (START_KEYS), each value checked: `lesson` one of
 * `lessonIds`; `start` paused | playing; `select` layer:neuron:source — an edge, source the
 * index in the layer below — or layer:neuron:b, a bias (layers count from 0, the first
 * hidden layer; the network's sizes are checked when it is known); `phase` forward | loss |
 * backward | update (step 0 is run up to it); `tab` output | inspector | loss | step; `pace`
 * one of PACES (seconds a phase's animation takes); `sweep` 2 … limits.sweep_runs[1]
 * learning rates for the sweep field; `show` controls kept in projector mode (like `hide`).
 * @typedef {{lesson?: string, playing?: boolean,
 *   select?: {layer: number, neuron: number, source: number | null},
 *   phase?: string, tab?: string, pace?: number, sweep?: number[], show?: string[]}} StartState
 * @param {string} hash @param {any} options  GET /api/options @param {string[]} lessonIds
 * @returns {{start: StartState, notices: string[]}}
 */
export function startFromHash(hash, options, lessonIds) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  /** @type {Record<string, any>} */
  const start = {};
  const notices = [];
  for (const key of START_KEYS) {
    const raw = params.get(key);
    if (raw === null) continue;
    const [name, parse, expected] = START_PARSERS[key];
    const value = parse(raw, options, lessonIds);
    if (value === undefined) {
      notices.push(`ignored ${key}=${raw.length > 24 ? `${raw.slice(0, 24)}…` : raw}: ${expected}`);
    } else start[name] = value;
  }
  return { start, notices };
}

/** @param {string} raw @param {string[]} choices */
const oneOf = (raw, choices) => (choices.includes(raw) ? raw : undefined);
/** Names of controls or panels, as `hide` takes them. @param {string} raw */
const controlNames = (raw) => {
  const names = raw.split(',').map((v) => v.trim()).filter(Boolean);
  return names.length > 0 && names.every((v) => /^[a-z-]{1,32}$/.test(v)) ? names : undefined;
};

/**
 * key → [StartState field, parser (undefined: refused), what is expected].
 * @type {Record<string, [string, (raw: string, options: any, lessonIds: string[]) => any, string]>}
 */
const START_PARSERS = {
  lesson: ['lesson', (raw, _, ids) => oneOf(raw, ids), 'not a lesson'],
  start: ['playing', (raw) => ({ paused: false, playing: true })[raw], 'choose paused or playing'],
  select: ['select', parseSelection, 'give layer:neuron:source, or layer:neuron:b for a bias'],
  phase: ['phase', (raw) => oneOf(raw, ['forward', 'loss', 'backward', 'update']),
    'choose forward, loss, backward or update'],
  tab: ['tab', (raw) => oneOf(raw, ['output', 'inspector', 'loss', 'step']),
    'choose output, inspector, loss or step'],
  pace: ['pace', (raw) => (PACES.includes(Number(raw)) && raw.trim() !== '' ? Number(raw) : undefined),
    `choose one of ${PACES.join(', ')} (seconds)`],
  sweep: ['sweep', parseSweepRates, 'give 2 to 8 learning rates within the limits'],
  show: ['show', controlNames, 'give names of controls'],
};

/** @param {string} raw @param {any} options */
function parseSelection(raw, options) {
  const match = /^(\d{1,2}):(\d{1,2}):(\d{1,2}|b)$/.exec(raw);
  if (!match) return undefined;
  const [layer, neuron] = [Number(match[1]), Number(match[2])];
  const source = match[3] === 'b' ? null : Number(match[3]);
  const widest = Math.max(options.limits.neurons_per_layer[1], options.limits.n_classes[1], options.features.length);
  const ok = layer <= options.limits.hidden_layers[1] && neuron < widest && (source === null || source < widest);
  return ok ? { layer, neuron, source } : undefined;
}

/** @param {string} raw @param {any} options */
function parseSweepRates(raw, options) {
  const rates = raw.split(',').map((v) => (v.trim() === '' ? NaN : Number(v)));
  const [low, high] = options.limits.learning_rate;
  const most = options.limits.sweep_runs?.[1] ?? 8;
  return rates.length >= 2 && rates.length <= most && rates.every((r) => Number.isFinite(r) && r >= low && r <= high)
    ? rates : undefined;
}

/**
 * The link of a lesson or a tailored start: `#` and its keys in the order given.
 * @param {Record<string, string>} keys
 */
export function linkFor(keys) {
  // commas and colons stay readable: a teacher edits these links by hand
  return `#${new URLSearchParams(keys)}`.replace(/%2C/g, ',').replace(/%3A/g, ':');
}
