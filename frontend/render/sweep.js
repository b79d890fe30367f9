// @ts-check
/**
 * A learning-rate sweep as small multiples: one tile per run with its output map, its rate
 * and its loss (or "diverged"), and one chart with every run's training loss, labelled by
 * rate, on a log scale — slow convergence at small rates, overshoot or divergence at large
 * ones. Each tile says how its recent steps went on the loss landscape (undershoot, about
 * right, overshoot, divergence, flat: render/landscape.js), the verdict most of them had
 * (render/verdict_tally.js; its tooltip says how many). Clicking a tile shows that run in
 * the main view.
 */

import { lossOf, signedScale } from '../catalogue.js';
import uPlot from '../vendor/uplot/uPlot.esm.js';
import { Chart, FONT, textWidth } from './uplot_chart.js';
import { formatNumber, softHyphens } from './format.js';
import { VERDICT_COLORS, verdictOf } from './landscape.js';
import { VerdictTally } from './verdict_tally.js';
import { fitCanvas } from './canvas.js';
import { MapPainter } from './color_lut.js';
import { diverging } from './palette.js';

/**
 * @param {HTMLElement} container  holds `.sweep-tiles` and the chart's container `.sweep-chart`
 * @param {import('../state.js').Store} store
 * @param {(run: number) => void} onPromote
 */
export function renderSweep(container, store, onPromote) {
  const sweep = store.frame?.sweep;
  container.hidden = !sweep;
  if (!sweep) return;
  const tiles = /** @type {HTMLElement} */ (container.querySelector('.sweep-tiles'));
  if (tiles.children.length !== sweep.runs.length) {
    tiles.replaceChildren(...sweep.runs.map((_, run) => {
      const tile = document.createElement('button');
      tile.className = 'sweep-tile';
      tile.dataset.testid = `sweep-run-${run}`;
      tile.innerHTML = '<canvas></canvas><span class="rate"></span><span class="loss"></span>'
        + `<span class="verdict" data-testid="sweep-verdict-${run}"></span>`;
      tile.addEventListener('click', () => onPromote(run));
      return tile;
    }));
  }
  const mainRun = store.serverState?.sweep?.main_run ?? 0;
  const scale = mapScale(store);
  let tally = tallies.get(container);
  if (!tally) tallies.set(container, tally = new VerdictTally());
  tally.add(sweep.runs.map((run) => run.learningRate).join(), store.frame?.step ?? 0,
    sweep.runs.map((run) => run.verdict));
  sweep.runs.forEach((run, index) => {
    const tile = /** @type {HTMLElement} */ (tiles.children[index]);
    tile.classList.toggle('main', index === mainRun);
    tile.classList.toggle('diverged', run.diverged);
    paintTile(/** @type {HTMLCanvasElement} */ (tile.querySelector('canvas')), run.map, sweep.resolution, scale);
    /** @type {HTMLElement} */ (tile.querySelector('.rate')).textContent = `η ${formatNumber(run.learningRate)}`;
    /** @type {HTMLElement} */ (tile.querySelector('.loss')).textContent = run.diverged ? 'diverged'
      : `loss ${formatNumber(run.trainLoss)}`;
    tile.style.setProperty('--run-color', runColor(index));
    const common = tally.common(index);
    const verdict = verdictOf(store.options?.landscape_verdicts, common?.verdict ?? NaN);
    const word = /** @type {HTMLElement} */ (tile.querySelector('.verdict'));
    word.textContent = run.diverged ? '' : verdict ? `${VERDICT_SYMBOLS[verdict.code] ?? ''} ${softHyphens(verdict.code)}` : '';
    word.style.color = verdict ? VERDICT_COLORS[verdict.code] ?? '' : '';
    tile.title = verdict && common && !run.diverged
      ? `η ${formatNumber(run.learningRate)}, ${common.count} of the last ${common.counted} steps shown: ${verdict.sentence}` : '';
  });
  let chart = charts.get(container);
  if (!chart) {
    chart = new SweepLossChart(/** @type {HTMLElement} */ (container.querySelector('.sweep-chart')));
    charts.set(container, chart);
  }
  chart.draw(store);
}

/** Each tile's map, painted at the map's resolution before it is drawn at the tile's size. @type {WeakMap<HTMLCanvasElement, MapPainter>} */
const tileMaps = new WeakMap();

/**
 * Paint a run's map (through its codes' colour table) and draw it smoothly at the tile
 * canvas's displayed size × devicePixelRatio.
 * @param {HTMLCanvasElement} canvas @param {Float32Array} map @param {number} resolution
 * @param {(v: number) => number} scale  a value → [−1, 1]
 */
function paintTile(canvas, map, resolution, scale) {
  let painter = tileMaps.get(canvas);
  if (!painter) {
    painter = new MapPainter(document.createElement('canvas'));
    tileMaps.set(canvas, painter);
  }
  painter.paint(map, resolution, (v) => diverging(scale(v)));
  const fitted = fitCanvas(canvas);
  if (!fitted) return;
  fitted.ctx.imageSmoothingEnabled = true;
  fitted.ctx.clearRect(0, 0, fitted.width, fitted.height);
  fitted.ctx.drawImage(/** @type {HTMLCanvasElement} */ (painter.canvas), 0, 0, fitted.width, fitted.height);
}

/** A small sign per verdict (with its word on the tile). */
const VERDICT_SYMBOLS = /** @type {Record<string, string>} */ ({
  undershoot: '↘', 'about right': '✓', overshoot: '↷', divergence: '↑', flat: '—',
});

/** Each sweep panel's recent verdicts. @type {WeakMap<HTMLElement, VerdictTally>} */
const tallies = new WeakMap();

/** The loss chart of each sweep panel. @type {WeakMap<HTMLElement, SweepLossChart>} */
const charts = new WeakMap();

/** @param {number} index */
export function runColor(index) {
  const colors = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#7b3fe4', '#1d2430'];
  return colors[index % colors.length];
}

/** @param {import('../state.js').Store} store */
function mapScale(store) {
  // A multiclass sweep map holds the winning class index 0 … K−1 (docs/protocol.md).
  if ((store.frame?.layerSizes.at(-1) ?? 1) > 1) {
    const classes = Math.max(2, store.data?.n_classes ?? 3);
    return signedScale([0, classes - 1]);
  }
  return signedScale(lossOf(store.options, store.config)?.output_range);
}

/**
 * Vertical centres for labels wanted at `wanted`, nudged apart to at least `size` and kept
 * inside [top, bottom] when they fit; in the order given.
 * @param {number[]} wanted @param {number} size @param {number} top @param {number} bottom
 */
export function nudgeLabels(wanted, size, top, bottom) {
  const order = wanted.map((y, i) => ({ y, i })).sort((a, b) => a.y - b.y);
  order.forEach((label, k) => {  // downwards from the top one …
    label.y = Math.max(label.y, top + size / 2, k > 0 ? order[k - 1].y + size : -Infinity);
  });
  for (let k = order.length - 1; k >= 0; k -= 1) {  // … then up from the bottom edge
    const limit = k === order.length - 1 ? bottom - size / 2 : order[k + 1].y - size;
    order[k].y = Math.max(top + size / 2, Math.min(order[k].y, limit));
  }
  /** @type {number[]} */
  const result = new Array(wanted.length);
  for (const { y, i } of order) result[i] = y;
  return result;
}

/** Every run's training loss over the steps (log scale), labelled by rate at its last point. */
export class SweepLossChart extends Chart {
  /** @param {import('../state.js').Store} store @returns {import('./uplot_chart.js').Spec} */
  spec(store) {
    const labels = (store.frame?.sweep?.runs ?? []).map((run) => `η ${formatNumber(run.learningRate)}`);
    const font = `600 ${this.cssFont()}px ${FONT}`;  // as decorate() draws them
    return {
      key: `sweep:${labels.join()}:${store.ui.projector}`, scale: 'log', legend: 'none',
      format: (v) => formatNumber(v),
      padRight: Math.ceil(Math.max(0, ...labels.map((label) => textWidth(label, font))) + 12),
      series: labels.map((label, run) => ({ label, color: runColor(run) })),
      note: (store.sweepHistory ?? []).length === 0 ? 'press play: one loss curve per learning rate' : '',
    };
  }

  /** @param {import('../state.js').Store} store */
  sync(store) {
    return this.columns.sync(store.sweepHistory ?? [], (row) => row.step, (row, k) => row.losses[k] ?? NaN, true);
  }

  /** Each rate right of its curve's last point, nudged apart so that no two overlap. @param {uPlot} plot */
  decorate(plot) {
    const { ctx, bbox } = plot;
    const ratio = uPlot.pxRatio;
    const font = this.font * ratio;
    /** @type {{run: number, value: number}[]} each run's last finite loss */
    const ends = [];
    this.columns.ys.forEach((column, run) => {
      let i = column.length - 1;
      while (i > 0 && column[i] === null) i -= 1;
      const value = column[i];
      if (typeof value === 'number') ends.push({ run, value });
    });
    const ys = nudgeLabels(ends.map((end) => plot.valToPos(end.value, 'y', true)),
      font + 2 * ratio, bbox.top, bbox.top + bbox.height);
    ctx.save();
    ctx.font = `600 ${font}px ${FONT}`;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    ends.forEach(({ run }, i) => {
      ctx.fillStyle = runColor(run);
      ctx.fillText(String(plot.series[run + 1].label ?? ''), bbox.left + bbox.width + 6 * ratio, ys[i]);
    });
    ctx.restore();
  }
}
