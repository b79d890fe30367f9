// @ts-check
/**
 * A learning-rate sweep as small multiples: one tile per run with its output map, its rate
 * and its loss (or "diverged"), and one chart with every run's training loss, labelled by
 * rate, on a log scale — slow convergence at small rates, overshoot or divergence at large
 * ones. Clicking a tile shows that run in the main view.
 */

import { formatNumber } from './format.js';
import { fitCanvas } from './canvas.js';
import { paintMap, palette } from './palette.js';

/**
 * @param {HTMLElement} container  holds `.sweep-tiles` and a canvas `.sweep-chart`
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
      tile.innerHTML = '<canvas></canvas><span class="rate"></span><span class="loss"></span>';
      tile.addEventListener('click', () => onPromote(run));
      return tile;
    }));
  }
  const mainRun = store.serverState?.sweep?.main_run ?? 0;
  const scale = mapScale(store);
  sweep.runs.forEach((run, index) => {
    const tile = /** @type {HTMLElement} */ (tiles.children[index]);
    tile.classList.toggle('main', index === mainRun);
    tile.classList.toggle('diverged', run.diverged);
    paintMap(/** @type {HTMLCanvasElement} */ (tile.querySelector('canvas')), run.map, sweep.resolution, scale);
    /** @type {HTMLElement} */ (tile.querySelector('.rate')).textContent = `η ${formatNumber(run.learningRate)}`;
    /** @type {HTMLElement} */ (tile.querySelector('.loss')).textContent = run.diverged ? 'diverged'
      : `loss ${formatNumber(run.trainLoss)}`;
    tile.style.setProperty('--run-color', runColor(index));
  });
  drawLossCurves(/** @type {HTMLCanvasElement} */ (container.querySelector('.sweep-chart')), store);
}

/** @param {number} index */
export function runColor(index) {
  const colors = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#7b3fe4', '#1d2430'];
  return colors[index % colors.length];
}

/** @param {import('../state.js').Store} store */
function mapScale(store) {
  const loss = store.config?.network?.loss;
  if (loss === 'bce') return (/** @type {number} */ v) => 2 * v - 1;
  if (loss === 'cross_entropy') {
    const classes = Math.max(2, store.data?.n_classes ?? 3);
    return (/** @type {number} */ v) => (2 * v) / (classes - 1) - 1;
  }
  return (/** @type {number} */ v) => Math.max(-1, Math.min(1, v));
}

/**
 * Every run's training loss over the steps (log scale), labelled by rate.
 * @param {HTMLCanvasElement} canvas
 * @param {import('../state.js').Store} store
 */
function drawLossCurves(canvas, store) {
  const fitted = fitCanvas(canvas);
  if (!fitted) return;
  const { ctx } = fitted;
  ctx.clearRect(0, 0, fitted.width, fitted.height);
  const history = store.sweepHistory ?? [];
  const p = palette();
  const font = store.ui.projector ? 16 : 12;
  ctx.font = `${font}px system-ui, sans-serif`;
  const left = 44;
  const right = 8;
  const top = 8;
  const bottom = 20;
  const width = fitted.width - left - right;
  const height = fitted.height - top - bottom;
  ctx.strokeStyle = p.grid;
  ctx.strokeRect(left, top, width, height);
  const values = history.flatMap((row) => row.losses).filter((v) => Number.isFinite(v) && v > 0);
  if (!values.length || width <= 0 || height <= 0) {
    ctx.fillStyle = p.muted;
    ctx.fillText('press play: one loss curve per learning rate', left + 8, top + height / 2);
    return;
  }
  const low = Math.log10(Math.min(...values));
  const high = Math.log10(Math.max(...values));
  const span = Math.max(high - low, 0.5);
  const lastStep = history[history.length - 1].step;
  const firstStep = history[0].step;
  const x = (/** @type {number} */ step) => left + ((step - firstStep) / Math.max(1, lastStep - firstStep)) * width;
  const y = (/** @type {number} */ v) => top + height - ((Math.log10(v) - low) / span) * height;
  ctx.fillStyle = p.muted;
  ctx.textAlign = 'right';
  ctx.fillText(formatNumber(10 ** high, 2), left - 4, top + font);
  ctx.fillText(formatNumber(10 ** low, 2), left - 4, top + height);
  ctx.textAlign = 'left';
  ctx.fillText('step', left + width - 28, top + height + font + 4);
  const runs = history[history.length - 1].losses.length;
  for (let run = 0; run < runs; run++) {
    ctx.beginPath();
    let drawing = false;
    for (const row of history) {
      const v = row.losses[run];
      if (!Number.isFinite(v) || v <= 0) { drawing = false; continue; }
      if (drawing) ctx.lineTo(x(row.step), y(v)); else ctx.moveTo(x(row.step), y(v));
      drawing = true;
    }
    ctx.strokeStyle = runColor(run);
    ctx.lineWidth = 2 * p.lineScale;
    ctx.stroke();
  }
  labelCurves(ctx, history, runs, store, { x, y, right: left + width, font });
}

/**
 * Each curve's rate written at its last point, nudged apart so labels never overlap.
 * @param {CanvasRenderingContext2D} ctx
 * @param {{step: number, losses: number[]}[]} history
 * @param {number} runs
 * @param {import('../state.js').Store} store
 * @param {{x: (s: number) => number, y: (v: number) => number, right: number, font: number}} axes
 */
function labelCurves(ctx, history, runs, store, { y, right, font }) {
  const last = history[history.length - 1];
  const rates = store.frame?.sweep?.runs.map((r) => r.learningRate) ?? [];
  const labels = [];
  for (let run = 0; run < runs; run++) {
    const v = last.losses[run];
    if (Number.isFinite(v) && v > 0) labels.push({ run, at: y(v) });
  }
  labels.sort((a, b) => a.at - b.at);
  for (let i = 1; i < labels.length; i++) {
    labels[i].at = Math.max(labels[i].at, labels[i - 1].at + font + 1);
  }
  ctx.textAlign = 'right';
  ctx.font = `600 ${font}px system-ui, sans-serif`;
  for (const { run, at } of labels) {
    const text = `η ${formatNumber(rates[run] ?? NaN)}`;
    const width = ctx.measureText(text).width;
    ctx.fillStyle = 'rgba(255,255,255,0.85)';
    ctx.fillRect(right - width - 6, at - font + 2, width + 4, font + 2);
    ctx.fillStyle = runColor(run);
    ctx.fillText(text, right - 4, at);
  }
}
