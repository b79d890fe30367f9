// @ts-check
/**
 * The uPlot adapter every chart builds on (render/charts.js, render/sweep.js): a chart over
 * training steps in a container that it fills, following its size (ResizeObserver) and the
 * palette; the history columns it draws from grow in place; a draw hook for extras.
 *
 * `chart.draw(store)` once per animation frame in which the store changed: the subclass's
 * `spec(store)` says what to show (a change of its `key` rebuilds the uPlot instance), its
 * `sync` extends the columns, and one `setData` lets uPlot redraw. The legend shows the
 * latest values, or the hovered step's.
 *
 * @module render/uplot_chart
 */

import uPlot from '../vendor/uplot/uPlot.esm.js';
import { palette } from './palette.js';
import { formatLogTick, formatTick } from './format.js';

export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
/** Tick steps of the step axis: whole steps only. */
const STEP_INCREMENTS = Array.from({ length: 24 }, (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3));

/** @typedef {import('../state.js').Store} Store */
/** @typedef {(number | null | undefined)[]} Column  null: a gap; undefined: no point at this x (the line joins across) */
/**
 * What a chart shows now. A change of `key` rebuilds the uPlot instance; a change of
 * `decorations` (what the draw hook shows besides the data) redraws it.
 * @typedef {object} Spec
 * @property {string} key
 * @property {{label: string, color: string, dashed?: boolean, faded?: boolean}[]} series  `faded`: a
 *   thin, pale, dotted reference line
 * @property {'log' | 'linear' | 'percent'} scale
 * @property {(v: number | null) => string} format  legend values
 * @property {string} [note]  shown over the plot (default: "press play…" while empty)
 * @property {string} [decorations]
 * @property {[number, number]} [fallback]  the y range of an empty log chart
 * @property {number} [padRight]  room right of the plot (CSS px), e.g. for curve labels
 * @property {'values' | 'ramp' | 'none'} [legend]  series with their values (default), a
 *   light → dark ramp (one line per layer), or none
 */

/** Columns (x first) of a growing history, extended in place; rebuilt when it was replaced. */
export class Columns {
  /** @param {number} width  number of y columns */
  constructor(width) {
    /** @type {number[]} */
    this.x = [];
    this.ys = Array.from({ length: width }, () => /** @type {Column} */ ([]));
    /** @type {[number[], ...Column[]]} uPlot's data: the same arrays */
    this.data = [this.x, ...this.ys];
    /** @type {readonly unknown[] | null} */
    this.source = null;
    this.count = 0;
    this.lastX = NaN;
  }

  /**
   * Catch up with `rows`; values that are not finite (or not > 0 when `positive`) become
   * gaps (null). Returns whether anything changed.
   * @template T
   * @param {readonly T[]} rows  ascending in x; appended to, or else replaced or trimmed
   * @param {(row: T) => number} x
   * @param {(row: T, column: number) => number} y
   * @param {boolean} positive
   */
  sync(rows, x, y, positive) {
    const replaced = rows !== this.source || rows.length < this.count
      || (this.count > 0 && x(rows[this.count - 1]) !== this.lastX);
    if (!replaced && rows.length === this.count) return false;
    if (replaced) {
      for (const column of this.data) column.length = 0;
      this.source = rows;
      this.count = 0;
    }
    for (let i = this.count; i < rows.length; i += 1) {
      this.x.push(x(rows[i]));
      this.ys.forEach((column, k) => {
        const v = y(rows[i], k);
        column.push(Number.isFinite(v) && (!positive || v > 0) ? v : null);
      });
    }
    this.count = rows.length;
    this.lastX = rows.length > 0 ? x(rows[rows.length - 1]) : NaN;
    return true;
  }
}

/** @type {CanvasRenderingContext2D | null} */
let measurer = null;
/** Width of `text` in CSS px. @param {string} text @param {string} font */
export function textWidth(text, font) {
  measurer ??= /** @type {CanvasRenderingContext2D} */ (document.createElement('canvas').getContext('2d'));
  measurer.font = font;
  return measurer.measureText(text).width;
}

/** A lone point is drawn as a dot (a line needs two). @param {uPlot} plot */
const lone = (plot) => plot.data[0].length === 1;

/**
 * The last entry of a column (null for a gap or an empty column); entries without a point
 * at their x (undefined: a reference line's) are passed over.
 * @param {Column} column @returns {number | null}
 */
export function latest(column) {
  for (let i = column.length - 1; i >= 0; i -= 1) if (column[i] !== undefined) return column[i] ?? null;
  return null;
}

/**
 * Log-axis ticks: powers of ten, every `stride`-th so that ticks stay `gap` px apart, plus
 * 2× and 5× when a decade is tall enough. (uPlot proposes 1 … 9 × 10^k.)
 * @param {number} gap
 * @returns {uPlot.Axis.Filter}
 */
const decadeTicks = (gap) => (plot, splits) => {
  const decade = Math.abs(plot.valToPos(1, 'y') - plot.valToPos(10, 'y'));
  const stride = Math.max(1, Math.ceil(gap / decade));
  return splits.map((v) => {
    const exponent = Math.floor(Math.log10(v) + 1e-9);
    const mantissa = Math.round(v / 10 ** exponent);
    const shown = mantissa === 1 ? exponent % stride === 0 : (mantissa === 2 || mantissa === 5) && decade > 4 * gap;
    return shown ? v : null;
  });
};

/**
 * A light → dark legend for one line per layer: "L1 ▬▬▬ out".
 * @param {{label: string, color: string}[]} series
 */
function rampLegend(series) {
  const ramp = Object.assign(document.createElement('span'), { className: 'chart-ramp' });
  if (series.length === 0) return ramp;
  const bar = document.createElement('i');
  const stop = (/** @type {number} */ l) => `${(100 * l) / series.length}%`;
  bar.style.background = `linear-gradient(90deg, ${series.map((s, l) => `${s.color} ${stop(l)} ${stop(l + 1)}`).join(', ')})`;
  ramp.append(series[0].label, bar, series.length > 1 ? series[series.length - 1].label : '');
  return ramp;
}

/**
 * A log range in whole decades around [min, max] (at most 12, the top ones), or `fallback`.
 * @param {number | null} min @param {number | null} max @param {[number, number]} fallback
 * @returns {uPlot.Range.MinMax}
 */
export function logRange(min, max, fallback) {
  if (min === null || max === null || !(min > 0) || !(max >= min)) return fallback;
  const [low, high] = uPlot.rangeLog(min, max, 10, true);
  return [low !== null && high !== null && high / low > 1e12 ? high / 1e12 : low, high];
}

/** A uPlot chart in a container: build, resize, data, note and a draw hook for extras. */
export class Chart {
  /**
   * @param {HTMLElement} container  the chart fills it
   * @param {HTMLElement} [legendHost]  where the legend goes (default: above the plot)
   */
  constructor(container, legendHost) {
    this.container = container;
    this.legendHost = legendHost ?? container;
    this.host = Object.assign(document.createElement('div'), { className: 'chart-plot' });
    this.noteBox = Object.assign(document.createElement('div'), { className: 'chart-note' });
    this.noteElement = this.noteBox.appendChild(document.createElement('span'));
    container.append(this.host, this.noteBox);
    /** @type {uPlot | null} */
    this.plot = null;
    /** @type {HTMLElement | null} */
    this.ramp = null;
    this.key = '';
    this.decorations = '';
    this.columns = new Columns(0);
    /** @type {Store | null} */
    this.store = null;
    /** The axes' and marks' font size (CSS px): the plot's CSS font size (charts.css). */
    this.font = 12;
    new ResizeObserver(() => this.fit()).observe(this.host);
  }

  /** The plot's canvas (for the PNG export), or null before the first draw. */
  get canvas() { return this.plot?.ctx.canvas ?? null; }

  /** What to show (each chart says). @param {Store} store @returns {Spec} */
  spec(store) { throw new Error(`${this.constructor.name} has no spec (step ${store.frame?.step})`); }

  /** Bring `this.columns` up to date; true when they changed. @param {Store} store @param {Spec} spec */
  sync(store, spec) { return false; }

  /** Extra drawing after the series, in canvas pixels. @param {uPlot} plot */
  decorate(plot) {}

  /** @param {Store} store */
  draw(store) {
    this.store = store;
    const spec = this.spec(store);
    if (spec.key !== this.key) this.build(spec, store.ui.projector);
    const plot = /** @type {uPlot} */ (this.plot);
    if (this.sync(store, spec)) plot.setData(this.columns.data);
    else if ((spec.decorations ?? '') !== this.decorations) plot.redraw(false, true);
    this.decorations = spec.decorations ?? '';
    const note = spec.note ?? (this.columns.count === 0 ? 'press play to start training' : '');
    if (this.noteElement.textContent !== note) this.noteElement.textContent = note;
    this.noteBox.hidden = note === '';
  }

  /** Put the legend in its host (above the plot when that is the container). @param {HTMLElement} legend */
  placeLegend(legend) {
    if (this.legendHost === this.container) this.container.prepend(legend); else this.legendHost.append(legend);
  }

  /** @param {Spec} spec @param {boolean} projector */
  build(spec, projector) {
    this.plot?.destroy();
    this.ramp?.remove();
    this.ramp = spec.legend === 'ramp' ? rampLegend(spec.series) : null;
    if (this.ramp) this.placeLegend(this.ramp);
    this.key = spec.key;
    this.columns = new Columns(spec.series.length);
    const p = palette();
    const lw = p.lineScale;
    const font = (this.font = this.cssFont());
    const axisFont = `${font}px ${FONT}`;
    const log = spec.scale === 'log';
    const common = {
      font: axisFont, stroke: p.muted, gap: 3, grid: { stroke: p.grid, width: 1 },
      ticks: { stroke: p.grid, width: 1, size: Math.round(3 * lw) },
    };
    let ySize = 0;
    /** @type {uPlot.Options} */
    const options = {
      width: Math.max(1, this.host.clientWidth),
      height: Math.max(1, this.host.clientHeight),
      // right: half the last x label ("1000" centred on the plot's right edge)
      padding: [Math.round(font * 0.7), spec.padRight ?? Math.round(font * 1.5), 0, 0],
      cursor: { drag: { x: false, y: false, setScale: false }, points: { size: 6 * lw } },
      legend: {
        show: (spec.legend ?? 'values') === 'values', mount: (_, table) => this.placeLegend(table),
        markers: { width: Math.max(2, 2 * lw), fill: 'transparent', dash: (u, i) => (u.series[i].dash ? 'dashed' : 'solid') },
      },
      scales: {
        x: { time: false, range: (_, min, max) => (max === null ? [0, 100] : [min, max > min ? max : min + 1]) },
        y: log ? { distr: 3, log: 10, range: (_, min, max) => logRange(min, max, spec.fallback ?? [0.01, 1]) }
          : spec.scale === 'percent' ? { range: [0, 100] }
            : { range: (_, __, max) => [0, max !== null && max > 0 ? max * 1.05 : 1] },
      },
      axes: [
        {
          ...common, space: font * 5, incrs: STEP_INCREMENTS, size: Math.round(font * 1.6 + 3 * lw),
          values: (_, splits, __, ___, increment) => splits.map((v) => formatTick(v, increment)),
        },
        {
          ...common, space: font * 1.8,
          ...(log && {
            filter: decadeTicks(font * 1.6),
            grid: { ...common.grid, filter: decadeTicks(font * 1.6) },
            ticks: { ...common.ticks, filter: decadeTicks(font * 1.6) },
          }),
          values: (_, splits, __, ___, increment) => {
            if (!log) return splits.map((v) => `${formatTick(v, increment)}${spec.scale === 'percent' ? '%' : ''}`);
            const powers = splits.some((v) => v !== null && (v < 0.01 || v > 1000));
            return splits.map((v) => (v === null ? '' : formatLogTick(v, powers)));
          },
          // as wide as the longest tick label (which depend on the size: settle after one pass)
          size: (_, values, __, cycle) => {
            if (cycle > 1) return ySize;
            const widest = Math.max(0, ...(values ?? []).map((v) => textWidth(v, axisFont)));
            return (ySize = Math.ceil(widest + 3 * lw + 3 + font * 0.4));
          },
        },
      ],
      series: [
        { label: 'step', value: (_, v) => String(v ?? (this.columns.count > 0 ? this.columns.lastX : '—')) },
        ...spec.series.map((s, index) => ({
          label: s.label, stroke: s.color, width: (s.faded ? 1.3 : 1.7) * lw, points: { show: lone, size: 5 * lw },
          ...(s.faded && { alpha: 0.45 }),
          dash: s.faded ? [1.5 * lw, 3 * lw] : s.dashed ? [5 * lw, 3.5 * lw] : undefined,
          /** @type {(u: uPlot, v: number | null, si: number, idx: number | null) => string} */
          value: (_, v, __, idx) => spec.format(idx === null ? latest(this.columns.ys[index]) : v),
        })),
      ],
      hooks: { draw: [(plot) => this.decorate(plot)] },
    };
    this.plot = new uPlot(options, this.columns.data, this.host);
  }

  /** The font size the page's styles give the plot (follows the screen and projector mode). */
  cssFont() { return parseFloat(getComputedStyle(this.host).fontSize) || 12; }

  fit() {
    const { clientWidth: width, clientHeight: height } = this.host;
    if (!this.plot || width <= 0 || height <= 0) return;
    if (this.cssFont() !== this.font) this.key = '';  // another screen size: rebuilt at the next draw
    if (width !== this.plot.width || height !== this.plot.height) this.plot.setSize({ width, height });
  }
}
