// @ts-check
/**
 * Time-series charts over training steps, drawn by uPlot (vendor/uplot, pinned):
 * - {@link LossChart}: train (solid) and test (dashed) loss, optional log scale, dashed marks
 *   where the learning rate changed ("η 0.03 → 0.3"; one mark per slider drag:
 *   {@link rateMarks}), a strip under the plot shaded by how many steps overshot (their batch
 *   loss went up) per pixel column, and after a switch of the loss the previous run's loss
 *   as a faded reference ("previous: sigmoid · cross-entropy", state.js).
 * - {@link AccuracyChart}: train and test accuracy in percent (a note for regression).
 * - {@link GradientNormChart}, {@link UpdateRatioChart}: per layer ‖dL/dθ_l‖ and ‖Δθ_l‖/‖θ_l‖,
 *   log scale, one line per layer from light (layer 1) to dark (output).
 *
 * Every chart: `new LossChart(container, legendHost?)`, then `chart.draw(store)` once per
 * animation frame in which the store changed (the shared part: render/uplot_chart.js).
 *
 * @module render/charts
 */

import uPlot from '../vendor/uplot/uPlot.esm.js';
import { palette } from './palette.js';
import { formatNumber, formatPercent } from './format.js';
import { Chart, FONT, latest } from './uplot_chart.js';

/** History row columns (see state.js / protocol.md "history"). */
const [STEP, TRAIN_LOSS, TEST_LOSS, TRAIN_ACCURACY, TEST_ACCURACY] = [0, 2, 3, 4, 5];

/** @typedef {import('../state.js').Store} Store */
/** @typedef {import('./uplot_chart.js').Spec} Spec */

/**
 * Rows (0, 1, …) for labels laid out left to right so that none overlaps an earlier one in
 * its row; -1 for a label that would need a row beyond `maxRows`.
 * @param {{left: number, right: number}[]} labels
 * @param {number} maxRows
 */
export function stackLabels(labels, maxRows) {
  /** @type {number[]} right edge of the last label in each row */
  const edges = [];
  return labels.map(({ left, right }) => {
    let row = edges.findIndex((edge) => left > edge);
    if (row === -1) row = edges.length;
    if (row >= maxRows) return -1;
    edges[row] = right;
    return row;
  });
}

/**
 * Sequential colours for `count` layers, light (first hidden layer) to dark (output), from
 * the palette's accent.
 * @param {number} count
 * @returns {string[]}
 */
export function layerColors(count) {
  const accent = [1, 3, 5].map((i) => parseInt(palette().accent.slice(i, i + 2), 16));
  return Array.from({ length: count }, (_, l) => {
    const t = count === 1 ? 0.75 : l / (count - 1);  // light: 30 % towards white (3:1 on white); dark: 55 % of it
    return `rgb(${accent.map((c) => Math.round((c + (255 - c) * 0.3) * (1 - t) + c * 0.55 * t)).join(',')})`;
  });
}

/**
 * The loss chart's η marks from the state's learning_rate_changes ([step, rate, gesture]
 * rows, the first one the starting rate): consecutive changes with the same gesture (one
 * slider drag) merge into one mark at the drag's first step with its final rate; changes
 * without a gesture are one mark each.
 * @param {readonly (number | null)[][]} changes
 * @returns {{step: number, from: number, rate: number}[]}
 */
export function rateMarks(changes) {
  /** @type {{step: number, from: number, rate: number, gesture: number | null}[]} */
  const marks = [];
  for (let i = 1; i < changes.length; i += 1) {
    const [step, rate, gesture = null] = /** @type {[number, number, number | null]} */ (changes[i]);
    const last = marks[marks.length - 1];
    if (last && gesture !== null && last.gesture === gesture) { last.rate = rate; continue; }
    marks.push({ step, from: /** @type {number} */ (changes[i - 1][1]), rate, gesture });
  }
  return marks.filter((m) => m.rate !== m.from).map(({ step, from, rate }) => ({ step, from, rate }));
}

/**
 * How many of the steps in each pixel column overshot: [column, overshot, steps] for
 * columns with a step in them, from [step, overshot 0/1] rows and a step → pixel map.
 * @param {readonly number[][]} rows @param {(step: number) => number} toColumn @param {number} [width]  columns per bin
 * @returns {number[][]}
 */
export function overshootDensity(rows, toColumn, width = 1) {
  /** @type {Map<number, number[]>} */
  const bins = new Map();
  for (const [step, overshot] of rows) {
    const column = Math.floor(toColumn(step) / width) * width;
    const bin = bins.get(column) ?? [column, 0, 0];
    bin[1] += overshot;
    bin[2] += 1;
    bins.set(column, bin);
  }
  return [...bins.values()];
}

/** The problem from the data set (authoritative) or the config. @param {Store} store */
const problemOf = (store) => store.data?.problem ?? store.config?.network?.problem ?? 'binary';

/**
 * The history's train and test losses and a reference run's loss on one step axis: every
 * step of either, each line undefined (no point, joined across) at the other's steps.
 * @param {readonly number[][]} history  rows as in state.js, ascending steps
 * @param {readonly number[][]} reference  [step, loss] rows, ascending steps
 * @param {boolean} positive  only values > 0 (log scale); others are gaps (null)
 * @returns {{x: number[], ys: import('./uplot_chart.js').Column[]}}
 */
export function mergeByStep(history, reference, positive) {
  const value = (/** @type {number} */ v) => (Number.isFinite(v) && (!positive || v > 0) ? v : null);
  /** @type {number[]} */
  const x = [];
  /** @type {import('./uplot_chart.js').Column[]} */
  const ys = [[], [], []];
  let [i, j] = [0, 0];
  while (i < history.length || j < reference.length) {
    const own = i < history.length ? history[i][STEP] : Infinity;
    const other = j < reference.length ? reference[j][0] : Infinity;
    const step = Math.min(own, other);
    x.push(step);
    const row = own === step ? history[i++] : null;
    ys[0].push(row ? value(row[TRAIN_LOSS]) : undefined);
    ys[1].push(row ? value(row[TEST_LOSS]) : undefined);
    ys[2].push(other === step ? value(reference[j++][1]) : undefined);
  }
  return { x, ys };
}

export class LossChart extends Chart {
  /** What the merged columns were built from (with a reference run). @type {{history: unknown, reference: unknown, stamp: string} | null} */
  merged = null;
  /** The η marks drawn last (for tests and readers): step, label. @type {{step: number, text: string}[]} */
  marks = [];
  /** The overshoot strip drawn last: pixel columns with an overshoot, steps that overshot. */
  overshootStrip = { columns: 0, overshot: 0 };

  /** @param {Store} store @returns {Spec} */
  spec(store) {
    const { train, test } = palette();
    const log = store.ui.logScale;
    const reference = store.referenceLoss ?? null;
    return {
      key: `loss:${log}:${store.ui.projector}:${reference?.label ?? ''}`, scale: log ? 'log' : 'linear',
      format: (v) => formatNumber(v),
      series: [{ label: 'train', color: train }, { label: 'test', color: test, dashed: true },
        ...(reference ? [{ label: reference.label, color: train, faded: true }] : [])],
      decorations: `${JSON.stringify(store.lrChanges)}:${store.serverState?.data_changes ?? ''}:${store.overshotHistory?.length ?? 0}`,
    };
  }

  /** @param {Store} store @param {Spec} spec */
  sync(store, spec) {
    this.container.dataset.reference = store.referenceLoss?.label ?? '';
    if (store.referenceLoss) return this.syncWithReference(store, spec.scale === 'log');
    this.merged = null;
    return this.columns.sync(store.history, (row) => row[STEP],
      (row, k) => row[k === 0 ? TRAIN_LOSS : TEST_LOSS], spec.scale === 'log');
  }

  /**
   * Rebuild the columns from the history and the reference when either changed (the
   * reference's steps interleave with the history's, so they cannot grow in place).
   * @param {Store} store @param {boolean} log
   */
  syncWithReference(store, log) {
    const { history } = store;
    const reference = /** @type {import('../state.js').ReferenceLoss} */ (store.referenceLoss);
    const last = history.length > 0 ? history[history.length - 1][STEP] : NaN;
    const stamp = `${history.length}:${last}:${log}`;
    const m = this.merged;
    if (m && m.history === history && m.reference === reference && m.stamp === stamp) return false;
    this.merged = { history, reference, stamp };
    const merged = mergeByStep(history, reference.rows, log);
    const columns = this.columns;
    columns.x.length = 0;
    columns.x.push(...merged.x);
    columns.ys.forEach((column, k) => { column.length = 0; column.push(...merged.ys[k]); });
    columns.source = null;  // the plain path starts over when the reference goes
    columns.count = history.length;
    columns.lastX = last;
    return true;
  }

  /** Learning-rate changes: a dashed line and "η 0.3", labels stacked when they collide. @param {uPlot} plot */
  decorate(plot) {
    const { ctx, bbox } = plot;
    const [ratio, p] = [uPlot.pxRatio, palette()];
    const font = this.font * ratio;
    const [first, last] = [plot.scales.x.min ?? 0, plot.scales.x.max ?? 0];
    const marks = this.columns.count > 0 ? rateMarks(this.store?.lrChanges ?? []) : [];
    const dataMarks = this.columns.count > 0 ? this.store?.serverState?.data_changes ?? [] : [];
    this.drawOvershoot(plot);
    ctx.save();
    ctx.font = `${font}px ${FONT}`;
    const labels = marks.filter(({ step }) => step >= first && step <= last).map(({ step, from, rate }) => {
      const x = Math.round(plot.valToPos(step, 'x', true)) + 0.5;
      const text = `η ${formatNumber(from, 2)} → ${formatNumber(rate, 2)}`;
      const width = ctx.measureText(text).width + 6 * ratio;
      const left = x + 3 * ratio + width > bbox.left + bbox.width ? x - 3 * ratio - width : x + 3 * ratio;
      return { x, text, left, right: left + width + 2 * ratio, step };
    });
    // Point edits (edit_points): the same dashed mark, labelled "data".
    for (const step of /** @type {number[]} */ (dataMarks)) {
      if (step < first || step > last) continue;
      const x = Math.round(plot.valToPos(step, 'x', true)) + 0.5;
      const width = ctx.measureText('data').width + 6 * ratio;
      const left = x + 3 * ratio + width > bbox.left + bbox.width ? x - 3 * ratio - width : x + 3 * ratio;
      labels.push({ x, text: 'data', left, right: left + width + 2 * ratio, step });
    }
    labels.sort((a, b) => a.x - b.x);
    this.marks = labels.map(({ step, text }) => ({ step, text }));
    const rowHeight = font + 4 * ratio;
    const rows = stackLabels(labels, Math.min(3, Math.floor(bbox.height / (2.2 * rowHeight))));
    ctx.strokeStyle = p.accent;
    ctx.globalAlpha = 0.75;
    ctx.lineWidth = Math.max(1, p.lineScale) * ratio;
    ctx.setLineDash([3 * p.lineScale * ratio, 3 * p.lineScale * ratio]);
    ctx.beginPath();
    for (const { x } of labels) { ctx.moveTo(x, bbox.top); ctx.lineTo(x, bbox.top + bbox.height); }
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left';
    labels.forEach(({ text, left, right }, i) => {
      if (rows[i] < 0) return;
      const top = bbox.top + 1 + rows[i] * rowHeight;
      ctx.globalAlpha = 0.85;
      ctx.fillStyle = p.background;
      ctx.fillRect(left, top, right - left - 2 * ratio, font + 3 * ratio);
      ctx.globalAlpha = 1;
      ctx.fillStyle = p.accent;
      ctx.fillText(text, left + 3 * ratio, top + 1.5 * ratio);
    });
    ctx.restore();
    const reference = this.store?.referenceLoss;
    if (reference) this.labelReference(plot, reference.label);
  }

  /**
   * A thin band along the plot's bottom: each pixel column shaded by the share of its steps
   * that overshot (raised their own batch's loss), "overshot" written at its left end.
   * @param {uPlot} plot
   */
  drawOvershoot(plot) {
    const rows = this.store?.overshotHistory ?? [];
    const { ctx, bbox } = plot;
    const ratio = uPlot.pxRatio;
    const [first, last] = [plot.scales.x.min ?? 0, plot.scales.x.max ?? 0];
    const visible = rows.filter(([step]) => step >= first && step <= last);
    const bins = overshootDensity(visible, (step) => plot.valToPos(step, 'x', true), 2 * ratio);
    const hit = bins.filter(([, overshot]) => overshot > 0);
    this.overshootStrip = { columns: hit.length, overshot: visible.reduce((n, [, o]) => n + o, 0) };
    if (hit.length === 0) return;
    const height = Math.max(4, 5 * palette().lineScale) * ratio;
    const top = bbox.top + bbox.height - height;
    ctx.save();
    for (const [column, overshot, steps] of hit) {
      ctx.globalAlpha = 0.25 + 0.75 * (overshot / steps);
      ctx.fillStyle = palette().overshoot;
      ctx.fillRect(column, top, 2 * ratio, height);
    }
    ctx.globalAlpha = 1;
    ctx.fillStyle = palette().overshoot;
    ctx.font = `${Math.round(this.font * ratio)}px ${FONT}`;
    ctx.textBaseline = 'bottom';
    ctx.textAlign = 'left';
    ctx.fillText('▲ overshot', bbox.left + 3 * ratio, top - ratio);
    ctx.restore();
  }

  /**
   * The reference curve's name in the plot's bottom left (the legend drops series names in a
   * narrow chart): "previous:" over its loss, in the reference's colour, smaller if need be.
   * @param {uPlot} plot @param {string} label
   */
  labelReference(plot, label) {
    const { ctx, bbox } = plot;
    const [ratio, p] = [uPlot.pxRatio, palette()];
    const [first, second] = label.startsWith('previous: ') ? ['previous:', label.slice(10)] : [label, ''];
    let font = this.font * ratio;
    ctx.save();
    ctx.font = `${font}px ${FONT}`;
    const widest = Math.max(ctx.measureText(first).width, ctx.measureText(second).width);
    const room = bbox.width - 8 * ratio;
    if (widest > room) font = Math.max(7 * ratio, (font * room) / widest);
    ctx.font = `${font}px ${FONT}`;
    const lines = second ? [first, second] : [first];
    const height = lines.length * (font + 2 * ratio);
    const [left, top] = [bbox.left + 4 * ratio, bbox.top + bbox.height - height - 4 * ratio];
    ctx.globalAlpha = 0.8;
    ctx.fillStyle = p.background;
    ctx.fillRect(left - 2 * ratio, top - ratio, Math.min(widest * (font / (this.font * ratio)), room) + 4 * ratio, height + 2 * ratio);
    ctx.globalAlpha = 1;
    ctx.fillStyle = p.train;
    ctx.globalAlpha = 0.6;
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left';
    lines.forEach((text, i) => ctx.fillText(text, left, top + i * (font + 2 * ratio)));
    ctx.restore();
  }
}

export class AccuracyChart extends Chart {
  /** @param {Store} store @returns {Spec} */
  spec(store) {
    const { train, test } = palette();
    const regression = problemOf(store) === 'regression';
    return {
      key: `accuracy:${regression}:${store.ui.projector}`, scale: 'percent', legend: regression ? 'none' : 'values',
      format: (v) => (v === null ? '—' : formatPercent(v / 100)),
      series: [{ label: 'train', color: train }, { label: 'test', color: test, dashed: true }],
      note: regression ? 'no accuracy for regression' : undefined,
    };
  }

  /** @param {Store} store */
  sync(store) {
    const rows = problemOf(store) === 'regression' ? [] : store.history;
    return this.columns.sync(rows, (row) => row[STEP],
      (row, k) => 100 * row[k === 0 ? TRAIN_ACCURACY : TEST_ACCURACY], false);
  }
}

/** @typedef {import('../state.js').LayerHistoryEntry} LayerHistoryEntry */

/** One log-scale line per layer, light → dark, from a history of per-layer values. */
class LayerChart extends Chart {
  /** @param {Store} store @returns {LayerHistoryEntry[]} */
  entries(store) { return []; }

  /** The note while every value of the latest step is missing (NaN). */
  missing = '';

  /** @param {Store} store @returns {Spec} */
  spec(store) {
    const values = this.entries(store).at(-1)?.values;
    const layers = values?.length ?? 0;
    const empty = values !== undefined && values.every((v) => !(v > 0 && Number.isFinite(v)));
    return {
      key: `layers:${layers}:${store.ui.projector}`, scale: 'log', fallback: [0.001, 1], legend: 'ramp',
      format: (v) => formatNumber(v, 2), note: empty ? this.missing : undefined,
      series: layerColors(layers).map((color, l) => ({ label: l === layers - 1 ? 'out' : `L${l + 1}`, color })),
    };
  }

  /** @param {Store} store */
  sync(store) {
    return this.columns.sync(this.entries(store), (e) => e.step, (e, l) => e.values[l] ?? NaN, true);
  }
}

export class GradientNormChart extends LayerChart {
  missing = 'computed in the backward phase';

  /** @param {Store} store */
  entries(store) { return store.gradHistory; }
}

export class UpdateRatioChart extends LayerChart {
  missing = 'computed in the update phase';

  /** @param {Store} store */
  entries(store) { return store.updateRatioHistory; }
}

/**
 * Every chart of the page, by name. Each draws into the element with data-testid
 * `<id>-chart`, its legend into `<id>-legend`: adding a chart is a class above, a line
 * here and its two elements in index.html.
 * @param {(testid: string) => HTMLElement} find  the element with this data-testid
 */
export function createCharts(find) {
  /** @template {Chart} T @param {new (el: HTMLElement, legend: HTMLElement) => T} Kind @param {string} id */
  const make = (Kind, id) => new Kind(find(`${id}-chart`), find(`${id}-legend`));
  return {
    loss: make(LossChart, 'loss'),
    accuracy: make(AccuracyChart, 'accuracy'),
    gradient: make(GradientNormChart, 'gradient'),
    updateRatio: make(UpdateRatioChart, 'update-ratio'),
  };
}
