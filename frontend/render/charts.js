// @ts-check
/**
 * Time-series charts over training steps, drawn on Canvas 2D:
 * - {@link LossChart}: train (solid) and test (dashed) loss, optional log scale, dashed marks
 *   where the learning rate changed ("η 0.3"), current values top right.
 * - {@link AccuracyChart}: train and test accuracy in percent (a note for regression).
 * - {@link GradientNormChart}: per-layer gradient norm, log scale, one line per layer from
 *   light (layer 1) to dark (output): vanishing and exploding gradients at a glance.
 *
 * Every chart: `new Chart(canvas)`, then `chart.draw(store)` whenever the store changed. The
 * canvas backing store follows the CSS size × devicePixelRatio; long histories are
 * decimated to a min/max envelope of about one column per pixel.
 *
 * @module render/charts
 */

import { palette } from './palette.js';
import { fitCanvas, roundRect } from './canvas.js';
import {
  formatNumber, formatPercent, formatTick, formatLogTick, niceStep, niceTicks, logTicks,
} from './format.js';

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

/** History row columns (see state.js / protocol.md "history"). */
const STEP = 0;
const TRAIN_LOSS = 2;
const TEST_LOSS = 3;
const TRAIN_ACCURACY = 4;
const TEST_ACCURACY = 5;

/**
 * The minimal store the charts read (see state.js for the whole store).
 * @typedef {object} ChartStore
 * @property {any} [config]
 * @property {{problem?: string} | null} [data]
 * @property {number[][]} [history]
 * @property {{step: number, norms: number[]}[]} [gradHistory]
 * @property {number[][]} [lrChanges]
 * @property {{projector?: boolean, logScale?: boolean}} [ui]
 */

/**
 * @typedef {object} Env  everything a draw needs, in CSS pixels
 * @property {CanvasRenderingContext2D} ctx
 * @property {number} width
 * @property {number} height
 * @property {import('./palette.js').Palette} p
 * @property {number} font   px
 * @property {number} lw     line scale
 * @property {number} pad
 * @property {boolean} projector
 */

/**
 * @typedef {object} LegendEntry
 * @property {string} label
 * @property {string} color
 * @property {number[]} dash   [] for solid
 * @property {string} [value]  the current value, printed top right
 */

/**
 * @typedef {object} Plot  the plot rectangle and its scales
 * @property {number} left @property {number} top @property {number} right @property {number} bottom
 * @property {(v: number) => number} x  step → px
 * @property {(v: number) => number} y  value → px (NaN for values the scale cannot show)
 */

/** @param {string} hex @returns {number[]} */
function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** @param {number[]} a @param {number[]} b @param {number} t */
function mixCss(a, b, t) {
  const c = [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

class Chart {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
  }

  /**
   * Size the backing store, clear, and return the drawing environment (null when hidden).
   * @param {ChartStore} store
   * @returns {Env | null}
   */
  begin(store) {
    const fitted = fitCanvas(this.canvas);
    if (!fitted) return null;
    const { ctx, width, height } = fitted;
    const p = palette();
    ctx.fillStyle = p.background;
    ctx.fillRect(0, 0, width, height);
    const projector = Boolean(store.ui?.projector);
    const font = projector ? 18 : 11;
    ctx.font = `${font}px ${FONT}`;
    ctx.lineJoin = 'round';
    ctx.lineCap = 'butt';
    return { ctx, width, height, p, font, lw: p.lineScale, pad: projector ? 6 : 4, projector };
  }

  /**
   * Header row: legend on the left and current values on the right when both fit; else a
   * merged "— train 0.12  - - test 0.15" (right aligned), else swatches and values only.
   * Entries without values (gradient chart) fall back to a light → dark ramp legend.
   * @param {Env} env @param {LegendEntry[]} entries @param {number} left  plot left edge
   * @returns {number}  the header's bottom edge
   */
  header(env, entries, left) {
    const { ctx, width, font, p, pad } = env;
    const rowHeight = Math.round(font * 1.5);
    const y = pad + rowHeight / 2;
    const swatch = Math.round(font * 1.7);
    const gap = Math.round(font * 0.4);
    const itemGap = Math.round(font * 1.1);
    const right = width - pad;
    ctx.textBaseline = 'middle';
    const plain = `${font}px ${FONT}`;
    const bold = `600 ${font}px ${FONT}`;
    const measure = (/** @type {string} */ text, /** @type {string} */ f) => {
      ctx.font = f; return ctx.measureText(text).width;
    };
    const hasValues = entries.some((e) => e.value !== undefined);
    const legendWidth = entries.reduce((sum, e) => sum + swatch + gap + measure(e.label, plain), 0)
      + itemGap * Math.max(0, entries.length - 1);
    const dot = ' · ';
    const valueParts = entries.map((e) => [`${e.label} `, e.value ?? '']);
    const valuesWidth = hasValues
      ? valueParts.reduce((s, [l, v]) => s + measure(l, plain) + measure(v, bold), 0)
        + measure(dot, plain) * (entries.length - 1)
      : 0;
    const space = right - left;

    /** @param {LegendEntry} e @param {number} x @param {number} [length] */
    const drawSwatch = (e, x, length = swatch) => {
      ctx.save();
      ctx.strokeStyle = e.color;
      ctx.lineWidth = 2.2 * env.lw;
      ctx.setLineDash(e.dash);
      ctx.beginPath();
      ctx.moveTo(x, y); ctx.lineTo(x + length, y);
      ctx.stroke();
      ctx.restore();
    };
    /** @param {string} text @param {number} x @param {string} f @param {string} color */
    const text = (text, x, f, color) => {
      ctx.font = f; ctx.fillStyle = color; ctx.textAlign = 'left';
      ctx.fillText(text, x, y);
      return x + ctx.measureText(text).width;
    };

    if (legendWidth + (hasValues ? valuesWidth + itemGap : 0) <= space
        || (!hasValues && entries.length <= 2)) {
      let x = left;
      for (const e of entries) {
        drawSwatch(e, x);
        x = text(e.label, x + swatch + gap, plain, p.muted) + itemGap;
      }
      if (hasValues) {
        x = right - valuesWidth;
        valueParts.forEach(([label, value], i) => {
          if (i > 0) x = text(dot, x, plain, p.muted);
          x = text(label, x, plain, p.muted);
          x = text(value, x, bold, p.ink);
        });
      }
      return pad + rowHeight;
    }
    if (hasValues) {
      // merged "— train 0.12  - - test 0.15": one row with labels; else one entry per row
      // when the chart is tall enough; else one row of swatches and values only
      const twoRowsFit = env.height >= font * 11;
      for (const mode of ['labels', 'rows', 'bare', 'first']) {
        const bare = mode === 'bare' || mode === 'first';
        const shown = mode === 'first' ? entries.slice(0, 1) : entries;
        const short = bare ? Math.round(font * 1.1) : swatch;
        const parts = shown.map((e) => ({ e, label: bare ? '' : `${e.label} `, value: e.value ?? '' }));
        const widths = parts.map((q) => short + gap + measure(q.label, plain) + measure(q.value, bold));
        const total = widths.reduce((s, v) => s + v, 0) + itemGap * (parts.length - 1);
        const rows = mode === 'rows';
        if ((mode === 'labels' || mode === 'bare') && total > width - 2 * pad) continue;
        if (rows && !twoRowsFit) continue;
        let x = Math.max(pad, right - total);
        parts.forEach((q, i) => {
          if (rows) x = Math.max(pad, right - widths[i]);
          ctx.save();
          ctx.translate(0, rows ? i * rowHeight : 0);
          drawSwatch(q.e, x, short);
          x = text(q.label, x + short + gap, plain, p.muted);
          x = text(q.value, x, bold, p.ink) + itemGap;
          ctx.restore();
        });
        return pad + rowHeight * (rows ? parts.length : 1);
      }
    }
    // ramp legend: "layer 1 ▬▬▬ output" with the entries' colours
    if (entries.length > 0) {
      const first = entries[0].label;
      const last = entries[entries.length - 1].label;
      const rampWidth = Math.max(swatch, Math.min(font * 5, space - measure(first, plain)
        - measure(last, plain) - 2 * gap));
      let x = left;
      x = text(first, x, plain, p.muted) + gap;
      const segment = rampWidth / entries.length;
      entries.forEach((e, i) => {
        ctx.fillStyle = e.color;
        ctx.fillRect(x + i * segment, y - font * 0.22, segment + 0.5, font * 0.44);
      });
      text(last, x + rampWidth + gap, plain, p.muted);
    }
    return pad + rowHeight;
  }

  /**
   * Axes, grid and tick labels; returns the plot rectangle and its scales.
   * @param {Env} env
   * @param {number} headerBottom
   * @param {{min: number, max: number}} xDomain
   * @param {{min: number, max: number, log: boolean, percent?: boolean}} yDomain
   * @returns {Plot}
   */
  axes(env, headerBottom, xDomain, yDomain) {
    const { ctx, width, height, font, p, pad, lw } = env;
    const tick = Math.round(3 * lw);
    const top = headerBottom + Math.round(font * 0.5);
    const bottom = height - pad - font - tick - 3;
    const plotHeight = Math.max(4, bottom - top);

    // y ticks, then the left margin from their labels
    const wanted = Math.max(2, Math.floor(plotHeight / (font * 2.4)) + 1);
    /** @type {number[]} */
    let yTicks = [];
    /** @type {(v: number) => string} */
    let yLabel;
    if (yDomain.log) {
      yTicks = logTicks(yDomain.min, yDomain.max);
      const hasMultiples = yTicks.some((v) => !isPower(v));
      const decades = Math.log10(yDomain.max / yDomain.min) || 1;
      const decadePx = plotHeight / decades;
      if (hasMultiples && (yTicks.length > wanted || 0.3 * decadePx < font * 1.4)) {
        yTicks = yTicks.filter(isPower);
      }
      let stride = 1;
      while ((yTicks.length / stride > wanted || stride * decadePx < font * 1.4) && stride < yTicks.length) {
        stride += 1;
      }
      if (stride > 1) yTicks = yTicks.filter((v) => Math.round(Math.log10(v)) % stride === 0);
      const powers = yTicks.some((v) => v < 0.01 || v > 1000);
      yLabel = (v) => formatLogTick(v, powers);
    } else {
      // the most ticks (up to 6) whose labels stay at least 1.4 lines apart
      for (let count = Math.min(wanted, 6); count >= 1; count -= 1) {
        yTicks = niceTicks(yDomain.min, yDomain.max, count);
        if ((yTicks.length - 1) * font * 1.4 <= plotHeight) break;
      }
      if ((yTicks.length - 1) * font * 1.4 > plotHeight) yTicks = [yTicks[0], yTicks[yTicks.length - 1]];
      if (plotHeight < font * 1.6) yTicks = yTicks.slice(-1);
      const step = yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1;
      yLabel = yDomain.percent ? (v) => `${formatTick(v, step)}%` : (v) => formatTick(v, step);
    }
    ctx.font = `${font}px ${FONT}`;
    const labelWidth = Math.max(ctx.measureText('0').width, ...yTicks.map((v) => ctx.measureText(yLabel(v)).width));
    const left = Math.round(pad + labelWidth + tick + 4);
    const right = Math.round(width - pad - Math.max(4, font * 0.6));

    const logMin = Math.log10(yDomain.min);
    const logSpan = Math.log10(yDomain.max) - logMin || 1;
    const linSpan = yDomain.max - yDomain.min || 1;
    const xSpan = xDomain.max - xDomain.min || 1;
    /** @param {number} v */
    const x = (v) => left + ((v - xDomain.min) / xSpan) * (right - left);
    /** @type {(v: number) => number} */
    const y = yDomain.log
      ? (v) => (v > 0 && Number.isFinite(v) ? bottom - ((Math.log10(v) - logMin) / logSpan) * (bottom - top) : NaN)
      : (v) => (Number.isFinite(v) ? bottom - ((v - yDomain.min) / linSpan) * (bottom - top) : NaN);

    // horizontal grid + y labels
    ctx.lineWidth = 1;
    ctx.strokeStyle = p.grid;
    ctx.beginPath();
    for (const v of yTicks) {
      const py = Math.round(y(v)) + 0.5;
      ctx.moveTo(left, py); ctx.lineTo(right, py);
    }
    ctx.stroke();
    ctx.fillStyle = p.muted;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const v of yTicks) {
      const py = Math.min(bottom, Math.max(top + font * 0.3, y(v)));
      ctx.fillText(yLabel(v), left - tick - 3, py);
    }

    // x axis: baseline, ticks, labels, and "step" at the right end
    ctx.strokeStyle = p.muted;
    ctx.globalAlpha = 0.7;
    ctx.lineWidth = Math.max(1, lw * 0.8);
    ctx.beginPath();
    ctx.moveTo(left, Math.round(bottom) + 0.5); ctx.lineTo(right, Math.round(bottom) + 0.5);
    ctx.stroke();
    ctx.globalAlpha = 1;
    const axisName = 'step';
    const nameWidth = ctx.measureText(axisName).width;
    const nameLeft = right - nameWidth;
    const sampleWidth = ctx.measureText(formatTick(xDomain.max, niceStep(xSpan, 4))).width;
    const xCount = Math.max(2, Math.floor((right - left) / (sampleWidth + font * 3)));
    const xTicks = niceTicks(xDomain.min, xDomain.max, xCount);
    const xStep = xTicks.length > 1 ? xTicks[1] - xTicks[0] : 1;
    ctx.textBaseline = 'top';
    ctx.textAlign = 'center';
    let lastRight = -Infinity;
    ctx.beginPath();
    for (const v of xTicks) {
      const px = Math.round(x(v)) + 0.5;
      ctx.moveTo(px, bottom); ctx.lineTo(px, bottom + tick);
    }
    ctx.stroke();
    ctx.fillStyle = p.muted;
    for (const v of xTicks) {
      const label = formatTick(v, xStep);
      const w = ctx.measureText(label).width;
      const px = Math.max(left + w / 2, x(v));
      if (px - w / 2 < lastRight + font * 0.6 || px + w / 2 > nameLeft - font * 0.6) continue;
      ctx.fillText(label, px, bottom + tick + 2);
      lastRight = px + w / 2;
    }
    ctx.textAlign = 'right';
    ctx.font = `italic ${font}px ${FONT}`;
    ctx.fillText(axisName, right, bottom + tick + 2);
    ctx.font = `${font}px ${FONT}`;
    return { left, top, right, bottom, x, y };
  }

  /**
   * A centred muted note inside the plot ("press play", "no accuracy for regression").
   * @param {Env} env @param {Plot} plot @param {string} message
   * @param {string} [short]  used instead when the wrapped message is taller than the plot
   */
  note(env, plot, message, short = message) {
    const { ctx, p, font } = env;
    ctx.font = `${font + (env.projector ? 0 : 1)}px ${FONT}`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    const lineHeight = font * 1.3;
    // wrap into lines that fit the plot; the short message when they would not fit
    const room = Math.max(font * 4, plot.right - plot.left - font);
    /** @param {string} text */
    const wrap = (text) => {
      /** @type {string[]} */
      const result = [];
      for (const word of text.split(' ')) {
        const line = result.length > 0 ? `${result[result.length - 1]} ${word}` : word;
        if (result.length > 0 && ctx.measureText(line).width <= room) result[result.length - 1] = line;
        else result.push(word);
      }
      return result;
    };
    let lines = wrap(message);
    if (lines.length > 1 && lines.length * lineHeight > plot.bottom - plot.top) lines = wrap(short);
    const cx = (plot.left + plot.right) / 2;
    const cy = (plot.top + plot.bottom) / 2;
    const w = Math.min(plot.right - plot.left, Math.max(...lines.map((l) => ctx.measureText(l).width)) + font * 1.2);
    const h = lines.length * lineHeight + font * 0.6;
    ctx.fillStyle = p.background;
    ctx.globalAlpha = 0.9;
    roundRect(ctx, cx - w / 2, cy - h / 2, w, h, font * 0.5);
    ctx.fill();
    ctx.globalAlpha = 1;
    ctx.fillStyle = p.muted;
    lines.forEach((line, i) => ctx.fillText(line, cx, cy + (i - (lines.length - 1) / 2) * lineHeight));
  }

  /**
   * Stroke one series, decimated to a min/max envelope per pixel column; NaN (or values the
   * scale cannot show) break the line; a lone point becomes a dot.
   * @param {Env} env @param {Plot} plot @param {number} n
   * @param {(i: number) => number} getX  step of point i
   * @param {(i: number) => number} getY  value of point i
   * @param {string} color @param {number[]} dash @param {number} width
   */
  series(env, plot, n, getX, getY, color, dash, width) {
    const { ctx } = env;
    ctx.save();
    ctx.beginPath();
    ctx.rect(plot.left - width, plot.top - width, plot.right - plot.left + 2 * width,
      plot.bottom - plot.top + 2 * width);
    ctx.clip();
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = width;
    ctx.setLineDash(dash);
    ctx.beginPath();
    /** @type {number[][]} */
    const dots = [];
    let column = NaN; let firstX = 0; let firstY = 0; let lastX = 0; let lastY = 0;
    let minY = 0; let maxY = 0; let count = 0; let segmentBuckets = 0; let penDown = false;
    const flush = () => {
      if (count === 0) return;
      if (!penDown) { ctx.moveTo(firstX, firstY); penDown = true; } else ctx.lineTo(firstX, firstY);
      if (count > 1) {
        const mid = (firstX + lastX) / 2;
        ctx.lineTo(mid, minY); ctx.lineTo(mid, maxY); ctx.lineTo(lastX, lastY);
      }
      segmentBuckets += 1;
      count = 0;
    };
    const breakLine = () => {
      const lone = count === 1 && segmentBuckets === 0;
      if (lone) dots.push([firstX, firstY]);
      flush();
      penDown = false; segmentBuckets = 0; column = NaN;
    };
    for (let i = 0; i < n; i += 1) {
      const px = plot.x(getX(i));
      const py = plot.y(getY(i));
      if (!Number.isFinite(px) || !Number.isFinite(py)) { breakLine(); continue; }
      const c = Math.floor(px);
      if (c !== column) { flush(); column = c; }
      if (count === 0) { firstX = px; firstY = py; minY = py; maxY = py; }
      minY = Math.min(minY, py); maxY = Math.max(maxY, py);
      lastX = px; lastY = py;
      count += 1;
    }
    breakLine();
    ctx.stroke();
    ctx.setLineDash([]);
    for (const [dx, dy] of dots) {
      ctx.beginPath();
      ctx.arc(dx, dy, width * 1.1, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.restore();
  }
}

/** @param {number} v */
function isPower(v) {
  const k = Math.round(Math.log10(v));
  return Math.abs(v / Number(`1e${k}`) - 1) < 1e-9;
}

/**
 * The x domain of a list of steps: [first, last], at least one step wide; [0, 100] if empty.
 * @param {number} n @param {(i: number) => number} stepAt
 */
function stepDomain(n, stepAt) {
  if (n === 0) return { min: 0, max: 100 };
  const min = stepAt(0);
  const max = stepAt(n - 1);
  return max > min ? { min, max } : { min, max: min + 1 };
}

/**
 * A log domain in whole decades around the positive finite values; `fallback` if none.
 * @param {number} lo smallest positive value (Infinity if none) @param {number} hi largest
 * @param {{min: number, max: number}} fallback
 */
function decadeDomain(lo, hi, fallback) {
  if (!(lo > 0) || !Number.isFinite(lo) || !Number.isFinite(hi)) return { ...fallback, log: true };
  let min = Number(`1e${Math.floor(Math.log10(lo) + 1e-9)}`);
  let max = Number(`1e${Math.ceil(Math.log10(hi) - 1e-9)}`);
  if (max <= min) { max = min * 10; }
  // very long ranges: keep at most 12 decades, the top ones (exploding is what matters)
  if (Math.log10(max) - Math.log10(min) > 12) min = max / 1e12;
  return { min, max, log: true };
}

/** @param {number} v */
const isFiniteNumber = (v) => typeof v === 'number' && Number.isFinite(v);

/** The problem from the data set (authoritative) or the config. @param {ChartStore} store */
function problemOf(store) {
  return store.data?.problem ?? store.config?.network?.problem ?? 'binary';
}

export class LossChart extends Chart {
  /** @param {ChartStore} store */
  draw(store) {
    const env = this.begin(store);
    if (!env) return;
    const { p, lw, ctx } = env;
    const history = store.history ?? [];
    const n = history.length;
    const log = Boolean(store.ui?.logScale);
    const last = n > 0 ? history[n - 1] : null;

    let lo = Infinity; let hi = -Infinity;
    for (const row of history) {
      for (const v of [row[TRAIN_LOSS], row[TEST_LOSS]]) {
        if (!isFiniteNumber(v) || (log && v <= 0)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    /** @type {{min: number, max: number, log: boolean}} */
    let yDomain;
    if (log) {
      yDomain = decadeDomain(lo, hi, { min: 0.01, max: 1 });
    } else {
      const top = Number.isFinite(hi) && hi > 0 ? hi : 1;
      const step = niceStep(top, 4);
      yDomain = { min: 0, max: Math.max(step, Math.ceil(top / step - 1e-9) * step), log: false };
    }
    const entries = [
      { label: 'train', color: p.train, dash: [], value: last ? formatNumber(last[TRAIN_LOSS]) : undefined },
      { label: 'test', color: p.test, dash: [5 * lw, 3.5 * lw], value: last ? formatNumber(last[TEST_LOSS]) : undefined },
    ];
    const xDomain = stepDomain(n, (i) => history[i][STEP]);
    const headerBottom = this.header(env, entries, env.pad);
    const plot = this.axes(env, headerBottom, xDomain, yDomain);

    // learning-rate marks (behind the lines), labelled "η 0.3", stacked if they collide
    const changes = (store.lrChanges ?? []).slice(1);
    if (n > 0 && changes.length > 0) {
      ctx.save();
      const labelFont = env.projector ? 18 : 10.5;
      ctx.font = `${labelFont}px ${FONT}`;
      ctx.textBaseline = 'top';
      /** @type {number[]} right edge of the last label in each row */
      const rows = [];
      for (const [step, rate] of changes) {
        if (!(step >= xDomain.min && step <= xDomain.max)) continue;
        const px = Math.round(plot.x(step)) + 0.5;
        ctx.strokeStyle = p.accent;
        ctx.globalAlpha = 0.75;
        ctx.lineWidth = Math.max(1, lw);
        ctx.setLineDash([3 * lw, 3 * lw]);
        ctx.beginPath();
        ctx.moveTo(px, plot.top); ctx.lineTo(px, plot.bottom);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.globalAlpha = 1;
        const label = `η ${formatNumber(rate, 2)}`;
        const w = ctx.measureText(label).width + 6;
        let lx = px + 3;
        if (lx + w > plot.right) lx = px - 3 - w;
        let row = rows.findIndex((edge) => lx > edge + 2);
        if (row === -1) row = rows.length;
        const plotHeight = plot.bottom - plot.top;
        const maxRows = plotHeight >= 7 * labelFont ? 3 : plotHeight >= 3 * labelFont ? 1 : 0;
        if (row >= maxRows || plot.top + (row + 1) * (labelFont + 4) > plot.bottom) continue;
        rows[row] = lx + w;
        const ly = plot.top + 1 + row * (labelFont + 4);
        ctx.fillStyle = p.background;
        ctx.globalAlpha = 0.85;
        ctx.fillRect(lx, ly, w, labelFont + 3);
        ctx.globalAlpha = 1;
        ctx.fillStyle = p.accent;
        ctx.textAlign = 'left';
        ctx.fillText(label, lx + 3, ly + 1.5);
      }
      ctx.restore();
    }

    const width = 1.7 * lw;
    this.series(env, plot, n, (i) => history[i][STEP], (i) => history[i][TEST_LOSS], p.test,
      [5 * lw, 3.5 * lw], width);
    this.series(env, plot, n, (i) => history[i][STEP], (i) => history[i][TRAIN_LOSS], p.train, [],
      width);
    if (n === 0) this.note(env, plot, 'press play to start training', 'press play');
  }
}

export class AccuracyChart extends Chart {
  /** @param {ChartStore} store */
  draw(store) {
    const env = this.begin(store);
    if (!env) return;
    const { p, lw } = env;
    const history = store.history ?? [];
    const regression = problemOf(store) === 'regression';
    const n = regression ? 0 : history.length;
    const last = n > 0 ? history[n - 1] : null;
    const entries = [
      { label: 'train', color: p.train, dash: [], value: last ? formatPercent(last[TRAIN_ACCURACY]) : undefined },
      { label: 'test', color: p.test, dash: [5 * lw, 3.5 * lw], value: last ? formatPercent(last[TEST_ACCURACY]) : undefined },
    ];
    const headerBottom = this.header(env, regression ? [] : entries, env.pad);
    const xDomain = stepDomain(n, (i) => history[i][STEP]);
    const plot = this.axes(env, headerBottom, xDomain, { min: 0, max: 100, log: false, percent: true });
    if (regression) {
      this.note(env, plot, 'no accuracy for regression', 'no accuracy');
      return;
    }
    const width = 1.7 * lw;
    const percent = (/** @type {number} */ v) => (isFiniteNumber(v) ? v * 100 : NaN);
    this.series(env, plot, n, (i) => history[i][STEP], (i) => percent(history[i][TEST_ACCURACY]),
      p.test, [5 * lw, 3.5 * lw], width);
    this.series(env, plot, n, (i) => history[i][STEP], (i) => percent(history[i][TRAIN_ACCURACY]),
      p.train, [], width);
    if (n === 0) this.note(env, plot, 'press play to start training', 'press play');
  }
}

export class GradientNormChart extends Chart {
  /** @param {ChartStore} store */
  draw(store) {
    const env = this.begin(store);
    if (!env) return;
    const { lw } = env;
    const history = store.gradHistory ?? [];
    const n = history.length;
    const layers = n > 0 ? history[n - 1].norms.length : 0;

    let lo = Infinity; let hi = -Infinity;
    for (const entry of history) {
      for (const v of entry.norms) {
        if (!isFiniteNumber(v) || v <= 0) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    const yDomain = decadeDomain(lo, hi, { min: 0.001, max: 1 });
    const colours = layerColors(layers);
    /** @type {LegendEntry[]} */
    const entries = colours.map((color, l) => ({
      label: l === layers - 1 ? 'output' : `layer ${l + 1}`, color, dash: [],
    }));
    const headerBottom = this.header(env, entries, env.pad);
    const xDomain = stepDomain(n, (i) => history[i].step);
    const plot = this.axes(env, headerBottom, xDomain, yDomain);
    for (let l = 0; l < layers; l += 1) {
      this.series(env, plot, n, (i) => history[i].step, (i) => history[i].norms[l] ?? NaN,
        colours[l], [], 1.6 * lw);
    }
    if (n === 0) this.note(env, plot, 'press play to start training', 'press play');
    else if (!(hi > 0)) this.note(env, plot, 'computed in the backward phase', 'backward phase');
  }
}

/**
 * Sequential colours for `count` layers, light (first hidden layer) to dark (output), from
 * the palette's accent.
 * @param {number} count
 * @returns {string[]}
 */
export function layerColors(count) {
  const p = palette();
  const accent = hexToRgb(p.accent);
  const light = [0, 1, 2].map((i) => accent[i] + (255 - accent[i]) * 0.6);
  const dark = [0, 1, 2].map((i) => accent[i] * 0.55);
  return Array.from({ length: count }, (_, l) => mixCss(light, dark, count === 1 ? 0.75 : l / (count - 1)));
}
