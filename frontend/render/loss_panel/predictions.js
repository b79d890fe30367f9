// @ts-check
/**
 * The batch's predictions against their targets, one column per listed point: the target y
 * as a bar, the output a as a dot, the gap between them drawn; below, each point's dL/da at
 * the output. The focus point's column is marked. SVG as a string (no DOM).
 *
 * @module render/loss_panel/predictions
 */

import { formatNumber } from '../format.js';
import { palette } from '../palette.js';
import { escapeHtml } from '../inspector/html.js';

/** @typedef {import('../../protocol.js').BatchPoint} BatchPoint */

/**
 * The value range the outputs are drawn on: the loss's output range, or (regression,
 * unbounded) the span of the outputs and targets.
 * @param {BatchPoint[]} batch @param {number[] | null | undefined} range
 * @returns {[number, number]}
 */
export function outputRange(batch, range) {
  if (range && Number.isFinite(range[0]) && Number.isFinite(range[1])) return [range[0], range[1]];
  const values = batch.flatMap((p) => [p.output, p.target]).filter(Number.isFinite);
  if (values.length === 0) return [-1, 1];
  const low = Math.min(...values);
  const high = Math.max(...values);
  const pad = Math.max(0.1 * (high - low), 0.1);
  return [low - pad, high + pad];
}

/**
 * Where things go: x of point i's column, y of an output value, the dL/da bars' band.
 * @typedef {{width: number, left: number, right: number, top: number, height: number, column: number,
 *   half: number, barMid: number, barHalf: number, gradScale: number,
 *   x: (i: number) => number, y: (value: number) => number}} Geometry
 */

/**
 * @param {BatchPoint[]} batch @param {{range: number[] | null | undefined, width: number, compact?: boolean}} options
 * @returns {Geometry}
 */
function geometry(batch, options) {
  const [left, right, top] = [36, 8, 15];
  const plotHeight = options.compact ? 44 : 58;
  const barHeight = options.compact ? 20 : 26;
  const barTop = top + plotHeight + 9;
  const [low, high] = outputRange(batch, options.range);
  const column = (options.width - left - right) / Math.max(1, batch.length);
  const grads = batch.map((point) => Math.abs(point.gradOutput)).filter(Number.isFinite);
  return {
    width: options.width, left, right, top, height: barTop + barHeight + 4, column,
    half: Math.min(10, column * 0.36), barMid: barTop + barHeight / 2, barHalf: barHeight / 2,
    gradScale: Math.max(1e-12, ...grads),
    x: (i) => left + (i + 0.5) * column,
    y: (value) => top + plotHeight * (1 - (Math.max(low, Math.min(high, value)) - low) / (high - low)),
  };
}

/** A number with one decimal, for coordinates. @param {number} v */
const at = (v) => v.toFixed(1);

/**
 * One point's column: its target's bar, the gap to its output's dot, its dL/da bar.
 * @param {BatchPoint} point @param {number} i @param {boolean} focus @param {Geometry} g @param {string} colour
 */
function columnMarks(point, i, focus, g, colour) {
  const [x, ty] = [g.x(i), g.y(point.target)];
  const target = `<line class="lp-target" x1="${at(x - g.half)}" x2="${at(x + g.half)}" y1="${at(ty)}" y2="${at(ty)}"/>`;
  if (!Number.isFinite(point.output)) return target;
  const oy = g.y(point.output);
  const gap = `<line class="lp-gap" x1="${at(x)}" x2="${at(x)}" y1="${at(ty)}" y2="${at(oy)}"/>`;
  const dot = `<circle class="lp-output${focus ? ' focus' : ''}" cx="${at(x)}" cy="${at(oy)}" r="${focus ? 5 : 3.6}"`
    + ` fill="${colour}"><title>point ${i + 1}: a = ${escapeHtml(formatNumber(point.output))},`
    + ` y = ${escapeHtml(formatNumber(point.target))}</title></circle>`;
  if (!Number.isFinite(point.gradOutput)) return target + gap + dot;
  const length = (point.gradOutput / g.gradScale) * g.barHalf;
  const bar = `<rect class="lp-grad-bar${focus ? ' focus' : ''}" x="${at(x - g.half)}" width="${at(2 * g.half)}"`
    + ` y="${at(Math.min(g.barMid, g.barMid - length))}" height="${at(Math.abs(length))}"/>`;
  return target + gap + dot + bar;
}

/** The focus point's column, shaded and named. @param {number} focus @param {Geometry} g */
function focusColumn(focus, g) {
  return `<rect class="lp-focus" x="${at(g.x(focus) - g.column / 2)}" width="${at(g.column)}" y="${g.top - 12}"`
    + ` height="${g.height - g.top + 10}"/>`
    + `<text class="lp-text strong" x="${at(g.x(focus))}" y="${g.top - 3}" text-anchor="middle">point ${focus + 1}</text>`;
}

/** A value on the output axis, with its grid line. @param {number} value @param {Geometry} g */
function tick(value, g) {
  return `<text class="lp-text" x="${g.left - 4}" y="${at(g.y(value) + 3.5)}" text-anchor="end">${escapeHtml(formatNumber(value, 2))}</text>`
    + `<line class="lp-grid" x1="${g.left}" x2="${g.width - g.right}" y1="${at(g.y(value))}" y2="${at(g.y(value))}"/>`;
}

/**
 * @param {BatchPoint[]} batch @param {number} focus  index of the focus point in `batch`
 * @param {{range: number[] | null | undefined, classification: boolean, width: number, compact?: boolean}} options
 *   `width`: of the view box (its units are the text's px: 11 units per line of labels);
 *   `compact`: lower (projector mode, where every unit is larger)
 * @returns {string}
 */
export function predictionsSvg(batch, focus, options) {
  const p = palette();
  const g = geometry(batch, options);
  const [low, high] = outputRange(batch, options.range);
  const colour = (/** @type {BatchPoint} */ point) => (options.classification ? p.classes[Math.round(point.label)] ?? p.ink : p.ink);
  const marks = batch.map((point, i) => columnMarks(point, i, i === focus, g, colour(point))).join('');
  const ticks = [low, high, ...(low < 0 && high > 0 ? [0] : [])].map((value) => tick(value, g)).join('');
  return `<svg class="lp-svg" viewBox="0 0 ${g.width} ${g.height}" role="img" aria-label="the batch's outputs against their targets"`
    + ` data-testid="loss-predictions" data-count="${batch.length}">`
    + `${focus >= 0 && focus < batch.length ? focusColumn(focus, g) : ''}${ticks}`
    + `<line class="lp-axis" x1="${g.left}" x2="${g.width - g.right}" y1="${g.barMid}" y2="${g.barMid}"/>`
    + `<text class="lp-text" x="${g.left - 4}" y="${g.barMid + 3.5}" text-anchor="end">dL/da</text>${marks}</svg>`;
}
