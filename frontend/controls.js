// @ts-check
/**
 * Controls built from GET /api/options; each turns a user action into a command.
 * Hyperparameters go live (set_hyper); structure and data rebuild (configure).
 */

import { fitCanvas } from './render/canvas.js';
import { formatNumber, softHyphens } from './render/format.js';

/** Steps per frame: from slow motion (0.01 ≈ 0.6 steps/s) to the server's fastest (limits.speed). */
export const SPEEDS = [0.01, 0.03, 0.1, 0.25, 1, 2, 5, 10, 25, 100, 250, 1000];

/**
 * A speed (steps per frame) as people read it: steps per second at `fps` frames per second,
 * "fastest" for the top of the range.
 * @param {number} speed @param {number} fps @param {number} [fastest]
 */
export function speedLabel(speed, fps, fastest = Infinity) {
  const perSecond = speed * fps;
  const text = perSecond < 10 ? String(Number(perSecond.toPrecision(2))) : Math.round(perSecond).toLocaleString('en-US');
  if (speed >= fastest) return 'fastest';
  return `${text} step${perSecond === 1 ? '' : 's'}/s`;
}
export const BATCH_SIZES = [1, 2, 5, 10, 20, 50, 100, 250, 2000];
export const REGULARIZATION_RATES = [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];

/** Learning-rate slider position (log₁₀ η) ↔ rate, rounded to 2 significant digits. */
export function sliderToRate(position) {
  return Number((10 ** Number(position)).toPrecision(2));
}

/** @param {number} rate */
export function rateToSlider(rate) {
  return Math.log10(rate);
}

/**
 * Fill a <select> with options; keeps the element's listeners.
 * @param {HTMLSelectElement} select
 * @param {(string | number)[]} values
 * @param {(v: any) => string} [label]
 */
export function fillSelect(select, values, label = (v) => String(v)) {
  select.replaceChildren(...values.map((value) => {
    const option = document.createElement('option');
    option.value = String(value);
    option.textContent = label(value);
    return option;
  }));
}

/**
 * Show the config and state in the controls (without sending anything).
 * @param {Document} doc
 * @param {import('./state.js').Store} store
 */
export function syncControls(doc, store) {
  const config = store.config;
  const state = store.serverState;
  if (!config || !store.options) return;
  const hyper = state?.hyper ?? config.hyper;
  setValue(doc, 'activation', config.network.activation[0] ?? 'tanh');
  const losses = store.options.losses.filter((/** @type {any} */ l) => l.problem === config.network.problem);
  const lossSelect = /** @type {HTMLSelectElement} */ (doc.getElementById('loss'));
  if (lossSelect.dataset.problem !== config.network.problem) {
    fillSelect(lossSelect, losses.map((/** @type {any} */ l) => l.name),
      (name) => losses.find((/** @type {any} */ l) => l.name === name).title);
    lossSelect.dataset.problem = config.network.problem;
  }
  setValue(doc, 'loss', config.network.loss);
  setValue(doc, 'optimizer', hyper.optimizer);
  setValue(doc, 'batch-size', nearest(BATCH_SIZES, hyper.batch_size));
  setValue(doc, 'regularization', hyper.regularization);
  setValue(doc, 'regularization-rate', nearest(REGULARIZATION_RATES, hyper.regularization_rate));
  setValue(doc, 'speed', nearest(SPEEDS, state?.speed ?? 5));
  const slider = /** @type {HTMLInputElement} */ (doc.getElementById('learning-rate'));
  // in a sweep, the main view's run's rate (a promoted run brings its own)
  const sweep = state?.sweep;
  const rate = sweep ? sweep.learning_rates[sweep.main_run] ?? hyper.learning_rate : hyper.learning_rate;
  if (doc.activeElement !== slider) slider.value = String(rateToSlider(rate));
  const rateValue = doc.querySelector('[data-testid="learning-rate-value"]');
  if (rateValue) {
    rateValue.textContent = formatNumber(doc.activeElement === slider ? sliderToRate(slider.value) : rate);
  }
  const data = config.data;
  setRange(doc, 'noise', Math.round(data.noise * 100), `${Math.round(data.noise * 100)} %`);
  setRange(doc, 'train-fraction', Math.round(data.train_fraction * 100),
    `${Math.round(data.train_fraction * 100)} %`);
  setRange(doc, 'seed', config.seed, String(config.seed));
  const layerCount = doc.querySelector('[data-testid="layer-count"]');
  if (layerCount) layerCount.textContent = String(config.network.hidden_layers.length);
  for (const tile of doc.querySelectorAll('.dataset')) {
    tile.classList.toggle('selected', /** @type {HTMLElement} */ (tile).dataset.name === data.dataset);
  }
}

function setValue(doc, id, value) {
  const element = /** @type {HTMLSelectElement} */ (doc.getElementById(id));
  if (element && doc.activeElement !== element) element.value = String(value);
}

function setRange(doc, id, value, text) {
  const input = /** @type {HTMLInputElement} */ (doc.getElementById(id));
  if (doc.activeElement !== input) input.value = String(value);
  const output = doc.getElementById(`${id === 'train-fraction' ? 'train' : id}-value`);
  if (output) output.textContent = text;
}

/** @param {number[]} values @param {number} target */
function nearest(values, target) {
  return values.reduce((best, v) => (Math.abs(v - target) < Math.abs(best - target) ? v : best));
}

/**
 * Dataset thumbnails: a tile per data set with a preview of its points, drawn at the tile's
 * displayed size × devicePixelRatio (again whenever that changes).
 * @param {HTMLElement} container
 * @param {any[]} datasets  options.datasets
 * @param {(name: string) => void} onPick
 */
export async function buildDatasetTiles(container, datasets, onPick) {
  container.replaceChildren();
  /** @type {WeakMap<Element, any>} each tile's canvas → its preview */
  const previews = new WeakMap();
  const redraw = new ResizeObserver((entries) => {
    for (const { target } of entries) {
      const preview = previews.get(target);
      if (preview) drawPreview(/** @type {HTMLCanvasElement} */ (target), preview);
    }
  });
  for (const spec of datasets) {
    const tile = document.createElement('button');
    tile.className = 'dataset';
    tile.dataset.name = spec.name;
    tile.dataset.testid = `dataset-${spec.name}`;
    tile.title = spec.title;
    const canvas = document.createElement('canvas');
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.textContent = softHyphens(spec.title);
    tile.append(canvas, tag);
    tile.addEventListener('click', () => onPick(spec.name));
    container.append(tile);
    fetch(`/api/datasets/${spec.name}/preview`).then((r) => r.json()).then((preview) => {
      previews.set(canvas, preview);
      drawPreview(canvas, preview);
      redraw.observe(canvas);
    }).catch(() => {});
  }
}

/**
 * A data set's points on the plane [−6, 6]², the tile's side 64 units (a point's radius 1.8).
 * @param {HTMLCanvasElement} canvas @param {any} preview
 */
function drawPreview(canvas, preview) {
  const fitted = fitCanvas(canvas);
  if (!fitted) return;
  const { ctx, width, height } = fitted;
  ctx.scale(width / 64, height / 64);
  ctx.fillStyle = '#f7f7f4';
  ctx.fillRect(0, 0, 64, 64);
  const colors = ['#E69F00', '#0072B2', '#009E73'];
  for (const [x1, x2, label] of preview.points) {
    const color = preview.problem === 'regression'
      ? (label < 0 ? `rgba(230,159,0,${Math.min(1, Math.abs(label) + 0.2)})` : `rgba(0,114,178,${Math.min(1, label + 0.2)})`)
      : colors[label];
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.arc(32 + (x1 / 6) * 30, 32 - (x2 / 6) * 30, 1.8, 0, 2 * Math.PI);
    ctx.fill();
  }
}
