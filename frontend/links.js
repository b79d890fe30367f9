// @ts-check
/**
 * The setup in the URL hash, TensorFlow-Playground style, so that a copied link reproduces
 * it: `#dataset=xor&layers=4,2&lr=0.03&seed=3…`. Reading a hash never trusts it: every
 * value is checked against /api/options (names) and its limits (numbers); anything else is
 * dropped with a notice and the default stays. Values are only ever used as data.
 */

/** Hash keys that are not part of the config (kept as they are). */
export const OTHER_KEYS = ['session', 'class', 'projector', 'hide'];

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
