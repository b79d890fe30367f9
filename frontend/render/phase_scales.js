// @ts-check
/**
 * Pure helpers for the phase pictures (render/network_animation.js): log-scaled widths for
 * gradients, the magnification that makes tiny updates visible, each layer's slot in a
 * phase's animation, and where the per-edge numbers go so they do not overlap. No DOM, so
 * node's test runner imports this module directly (tests/frontend/phase_scales.test.mjs).
 *
 * @module render/phase_scales
 */

import { formatNumber } from './format.js';

/** Gradient marks span this many decades below the largest |dL/dθ|. */
export const GRADIENT_DECADES = 3;

/** Pixels (before the palette's line scale) between the thinnest and the thickest edge. */
export const WEIGHT_WIDTH_SPAN = 5.5;

/**
 * An edge's width for weight w: 0.6 px plus up to WEIGHT_WIDTH_SPAN px as |w| grows to
 * `scale` (the largest |w|), times the palette's line scale.
 * @param {number} weight @param {number} scale @param {number} lineScale
 */
export function weightWidth(weight, scale, lineScale) {
  const size = Math.min(1, Math.abs(weight) / scale);
  return (0.6 + WEIGHT_WIDTH_SPAN * (Number.isFinite(size) ? size : 0)) * lineScale;
}

/**
 * The |w| drawn as the thickest edge: the largest weight, at least 1.
 * @param {{weights: ArrayLike<number>}[]} layers
 */
export function weightScaleOf(layers) {
  return Math.max(1, maxAbs(layers.map((l) => l.weights)));
}

/**
 * How |dL/dθ| maps to a width: `decades` decades below the largest gradient `max`, from
 * `minWidth` (at max · 10^−decades and below) to `maxWidth` (at max).
 * @typedef {{max: number, decades: number, minWidth: number, maxWidth: number}} LogScale
 */

/**
 * The log scale for a set of gradient arrays: its top is the largest finite |value|.
 * @param {ArrayLike<number>[]} arrays
 * @param {{decades?: number, minWidth?: number, maxWidth?: number}} [options]
 * @returns {LogScale}
 */
export function logScaleOf(arrays, { decades = 3, minWidth = 4, maxWidth = 13 } = {}) {
  return { max: maxAbs(arrays), decades, minWidth, maxWidth };
}

/**
 * The width of a mark for |value| on a log scale: width ∝ log₁₀(|value| / g_min) with
 * g_min = max · 10^−decades, clamped to [minWidth, maxWidth]; every nonzero finite value
 * gets at least minWidth (small gradients still show). Zero or non-finite: null (no mark).
 * @param {number} value
 * @param {LogScale} scale
 * @returns {number | null}
 */
export function logWidth(value, scale) {
  const magnitude = Math.abs(value);
  if (!Number.isFinite(magnitude) || magnitude === 0 || !(scale.max > 0)) return null;
  const position = Math.log10(magnitude / scale.max) / scale.decades + 1;  // 0 at g_min, 1 at max
  const t = Math.max(0, Math.min(1, position));
  return scale.minWidth + (scale.maxWidth - scale.minWidth) * t;
}

/**
 * The "nice" factor (1, 2 or 5 × 10ⁿ, at least 1) by which changes of at most `largest`
 * are multiplied so that the largest shows as about `targetPixels` (between 0.4× and 1×
 * of it: the nice factor at or below the exact one) when one unit is `pixelsPerUnit`
 * pixels wide; 1 when the changes are visible as they are.
 * @param {number} largest        the largest |Δ| to show
 * @param {number} pixelsPerUnit  pixels one unit of the quantity draws as
 * @param {number} targetPixels   how large the largest change should look at most
 * @returns {number}
 */
export function magnification(largest, pixelsPerUnit, targetPixels) {
  if (!(largest > 0) || !Number.isFinite(largest) || !(pixelsPerUnit > 0)) return 1;
  const exact = targetPixels / (largest * pixelsPerUnit);
  if (exact <= 1) return 1;
  // a hair of tolerance: 1.9999999999 × 10ⁿ is 2 × 10ⁿ
  const power = 10 ** Math.floor(Math.log10(exact * (1 + 1e-9)));
  for (const step of [5, 2, 1]) {
    if (step * power <= exact * (1 + 1e-9)) return Math.max(1, step * power);
  }
  return Math.max(1, power);
}

/**
 * Where layer `layer` of `layers` is in a phase that sweeps the layers one after another:
 * 0 before its slot, rising to 1 across it, 1 after. `reverse`: the last layer goes first
 * (the backward pass).
 * @param {number} progress  0 … 1 through the whole animation
 * @param {number} layer
 * @param {number} layers
 * @param {boolean} [reverse]
 */
export function slotProgress(progress, layer, layers, reverse = false) {
  const order = reverse ? layers - 1 - layer : layer;
  return Math.max(0, Math.min(1, progress * layers - order));
}

/**
 * @typedef {{x: number, y: number, width: number, height: number}} Box  centre and size
 * @typedef {{id: number, width: number, height: number, spots: number[][]}} LabelRequest
 *   a label of this size that may go at any of its candidate centres (best first)
 */

/** @param {Box} a @param {Box} b  overlap area of two centred boxes */
function overlap(a, b) {
  const w = Math.min(a.x + a.width / 2, b.x + b.width / 2) - Math.max(a.x - a.width / 2, b.x - b.width / 2);
  const h = Math.min(a.y + a.height / 2, b.y + b.height / 2) - Math.max(a.y - a.height / 2, b.y - b.height / 2);
  return w > 0 && h > 0 ? w * h : 0;
}

/**
 * Greedy label placement: each request in turn takes its first candidate spot that
 * overlaps no obstacle and no label placed before it, else the spot that overlaps least
 * (`clear` false). Put the most important labels first.
 * @param {LabelRequest[]} requests
 * @param {Box[]} obstacles  e.g. the nodes
 * @param {{width: number, height: number}} [bounds]  labels stay inside [0, width] × [0, height]
 * @returns {(Box & {id: number, clear: boolean})[]}
 */
export function placeLabels(requests, obstacles, bounds) {
  /** @type {(Box & {id: number, clear: boolean})[]} */
  const placed = [];
  for (const request of requests) {
    /** @type {Box | null} */
    let best = null;
    let bestCost = Infinity;
    for (const [x, y] of request.spots) {
      const box = { x, y, width: request.width, height: request.height };
      if (bounds && (x - box.width / 2 < 0 || x + box.width / 2 > bounds.width
          || y - box.height / 2 < 0 || y + box.height / 2 > bounds.height)) continue;
      let cost = 0;
      for (const other of obstacles) cost += overlap(box, other);
      for (const other of placed) cost += overlap(box, other);
      if (cost < bestCost) { bestCost = cost; best = box; }
      if (cost === 0) break;
    }
    if (best) placed.push({ ...best, id: request.id, clear: bestCost === 0 });
  }
  return placed;
}

/**
 * The largest finite |value| of some arrays (0 when there is none).
 * @param {ArrayLike<number>[]} arrays
 */
export function maxAbs(arrays) {
  let best = 0;
  for (const array of arrays) {
    for (let i = 0; i < array.length; i += 1) {
      const v = Math.abs(array[i]);
      if (v > best && Number.isFinite(v)) best = v;
    }
  }
  return best;
}

/** A magnification factor as text: 50, 2000, 1e5. @param {number} factor */
export function formatFactor(factor) {
  return factor >= 1e5 ? formatNumber(factor, 1) : String(Math.round(factor));
}
