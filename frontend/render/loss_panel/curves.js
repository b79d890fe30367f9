// @ts-check
/**
 * Classification: cross-entropy and squared error as functions of p, the predicted
 * probability of a point's own class (the catalogue's loss_curves, one point, B = 1), with
 * the batch's predictions on the axis, the focus point's p marked on both curves with a
 * short tangent (each curve's slope there), and the sentence that says what it shows.
 *
 * @module render/loss_panel/curves
 */

import { curveAt } from '../../catalogue.js';
import { formatNumber } from '../format.js';
import { palette } from '../palette.js';
import { escapeHtml } from '../inspector/html.js';

/** @typedef {import('../../catalogue.js').LossCurves} LossCurves */
/** @typedef {import('../../protocol.js').BatchPoint} BatchPoint */

/** The two curves: catalogue name, label, dashed. */
export const CURVES = [
  { name: 'bce', label: 'cross-entropy', dashed: false },
  { name: 'squared_error', label: 'squared error', dashed: true },
];

/** @param {string} name  the curve's colour */
function curveColour(name) {
  const p = palette();
  return name === 'bce' ? p.accent : p.classes[2];
}

/**
 * Which curve is the loss in use: cross-entropy for bce and softmax cross-entropy,
 * squared error for the tanh one.
 * @param {string | null | undefined} loss
 */
export function curveOfLoss(loss) {
  return loss === 'squared_error' ? 'squared_error' : 'bce';
}

/**
 * Both curves' loss, slope and δ at p (clamped to the grid).
 * @param {LossCurves} curves @param {number} p
 */
export function curvesAt(curves, p) {
  return Object.fromEntries(CURVES.map(({ name }) => [name, {
    loss: curveAt(curves, name, 'loss', p), slope: curveAt(curves, name, 'slope', p),
    delta: curveAt(curves, name, 'delta', p),
  }]));
}

/**
 * A segment of `length` px through (px, py) along a slope given in data units.
 * @param {number} px @param {number} py @param {number} slope @param {number} sx @param {number} sy  px per unit
 * @param {number} length
 */
function tangent(px, py, slope, sx, sy, length) {
  const dx = sx;
  const dy = -slope * sy;
  const norm = Math.hypot(dx, dy) || 1;
  const [ux, uy] = [(dx / norm) * (length / 2), (dy / norm) * (length / 2)];
  return `M${(px - ux).toFixed(1)} ${(py - uy).toFixed(1)}L${(px + ux).toFixed(1)} ${(py + uy).toFixed(1)}`;
}

/**
 * The plot's frame: p ∈ [0, 1] across, ℓ ∈ [0, yMax] up, `sx`, `sy` units per unit.
 * @typedef {{x: (v: number) => number, y: (v: number) => number, sx: number, sy: number, yMax: number,
 *   width: number, height: number, left: number, right: number, bottom: number, top: number}} Plot
 */

/** @param {LossCurves} curves @param {number} width @param {number} height @returns {Plot} */
function plotFrame(curves, width, height) {
  const [left, right, top, bottom] = [30, 10, 10, 28];
  const yMax = Math.ceil(Math.max(...CURVES.flatMap(({ name }) => curves.losses[name]?.loss ?? [0])));
  const sx = width - left - right;
  const sy = (height - top - bottom) / yMax;
  return {
    x: (v) => left + v * sx, y: (v) => height - bottom - Math.min(yMax, v) * sy,
    sx, sy, yMax, width, height, left, right, bottom, top,
  };
}

/** Both curves; the loss in use thicker. @param {LossCurves} curves @param {Plot} f @param {string} used */
function curvePaths(curves, f, used) {
  return CURVES.map(({ name, dashed }) => {
    const values = curves.losses[name]?.loss ?? [];
    const d = curves.p.map((q, i) => `${i === 0 ? 'M' : 'L'}${f.x(q).toFixed(1)} ${f.y(values[i]).toFixed(1)}`).join('');
    return `<path class="lp-curve${name === used ? ' used' : ''}" data-testid="loss-curve-${name}" d="${d}"`
      + ` stroke="${curveColour(name)}"${dashed ? ' stroke-dasharray="6 4"' : ''}/>`;
  }).join('');
}

/** Ticks (ℓ every 1 or 2, p at 0, ½, 1), the axis names and the legend. @param {Plot} f @param {string} used */
function axes(f, used) {
  const every = f.sy < 22 ? 2 : 1;  // ticks at least 22 units apart
  const levels = Array.from({ length: Math.floor(f.yMax / every) + 1 }, (_, i) => i * every);
  const ticks = levels.map((k) => `<text class="lp-text" x="${f.left - 4}" y="${(f.y(k) + 3.5).toFixed(1)}" text-anchor="end">${k}</text>`
    + `<line class="lp-grid" x1="${f.left}" x2="${f.width - f.right}" y1="${f.y(k).toFixed(1)}" y2="${f.y(k).toFixed(1)}"/>`).join('');
  const xTicks = [0, 0.5, 1].map((q) => `<text class="lp-text" x="${f.x(q).toFixed(1)}" y="${f.height - f.bottom + 13}"`
    + ` text-anchor="middle">${q}</text>`).join('');
  const names = `<text class="lp-text" x="${f.x(0.5).toFixed(1)}" y="${f.height - 3}" text-anchor="middle">`
    + 'p(own class): ← confidently wrong · right →</text>'
    + `<text class="lp-text" x="${f.left + 4}" y="${f.top + 8}">ℓ</text>`;
  const legend = CURVES.map(({ name, label }, k) => `<text class="lp-text strong" x="${f.width - f.right - 4}"`
    + ` y="${f.top + 10 + 13 * k}" text-anchor="end" style="fill:${curveColour(name)}">`
    + `${escapeHtml(label)}${name === used ? ' (in use)' : ''}</text>`).join('');
  return ticks + xTicks + names + legend;
}

/** Each batch point's p(own class) as a tick on the axis, in its class's colour. @param {BatchPoint[]} batch @param {number} focus @param {Plot} f */
function rug(batch, focus, f) {
  const classes = palette().classes;
  return batch.map((point, i) => (Number.isFinite(point.pTrue)
    ? `<line class="lp-rug${i === focus ? ' focus' : ''}" x1="${f.x(point.pTrue).toFixed(1)}" x2="${f.x(point.pTrue).toFixed(1)}"`
      + ` y1="${f.height - f.bottom}" y2="${f.height - f.bottom - 7}" stroke="${classes[Math.round(point.label)] ?? palette().ink}"/>`
    : '')).join('');
}

/**
 * @param {LossCurves} curves @param {BatchPoint[]} batch @param {number} focus
 * @param {{loss: string | null | undefined, width: number, height: number}} options  the view box
 * @returns {string}
 */
export function curvesSvg(curves, batch, focus, options) {
  const f = plotFrame(curves, options.width, options.height);
  const used = curveOfLoss(options.loss);
  const point = batch[focus];
  const marker = point && Number.isFinite(point.pTrue) ? focusMarker(curves, point.pTrue, f) : '';
  return `<svg class="lp-svg" viewBox="0 0 ${f.width} ${f.height}" role="img" aria-label="cross-entropy and squared error against p"`
    + ` data-testid="loss-curves">${axes(f, used)}${curvePaths(curves, f, used)}${rug(batch, focus, f)}${marker}</svg>`;
}

/**
 * The focus point's p on both curves: a dot, a short tangent and δ.
 * @param {LossCurves} curves @param {number} pTrue @param {Plot} frame
 */
function focusMarker(curves, pTrue, frame) {
  const at = curvesAt(curves, pTrue);
  const px = frame.x(Math.max(curves.p[0], Math.min(curves.p[curves.p.length - 1], pTrue)));
  const guide = `<line class="lp-guide" data-testid="loss-focus-marker" data-p="${pTrue}" x1="${px.toFixed(1)}" x2="${px.toFixed(1)}"`
    + ` y1="${frame.top}" y2="${frame.height - frame.bottom}"/>`;
  const right = px < frame.width * 0.6;
  const ys = CURVES.map(({ name }) => frame.y(at[name].loss));
  // cross-entropy's δ above its dot, squared error's below its own, unless that meets the
  // axis: then both above, one line apart
  const below = ys[1] + 16 < frame.height - frame.bottom - 3;
  const labelY = below ? [ys[0] - 8, ys[1] + 16] : [ys[0] - 8, ys[1] - 8];
  if (!below && Math.abs(labelY[0] - labelY[1]) < 13) labelY[0] = labelY[1] - 13;
  const marks = CURVES.map(({ name }, k) => {
    const { loss, slope, delta } = at[name];
    const py = frame.y(loss);
    const label = `δ = ${formatNumber(delta, 2)}`;
    const ty = labelY[k];
    return `<path class="lp-tangent" d="${tangent(px, py, slope, frame.sx, frame.sy, 52)}" stroke="${curveColour(name)}"/>`
      + `<circle class="lp-dot" cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="4.5" fill="${curveColour(name)}"/>`
      + `<text class="lp-text strong" data-testid="loss-delta-${name}" data-value="${delta}" x="${(px + (right ? 10 : -10)).toFixed(1)}"`
      + ` y="${ty.toFixed(1)}" text-anchor="${right ? 'start' : 'end'}" style="fill:${curveColour(name)}">${escapeHtml(label)}</text>`;
  }).join('');
  return guide + marks;
}

/**
 * What the curves show at the focus point's p, in one sentence with both δ = dℓ/dz there
 * (one point's, without the 1/B). Cross-entropy's δ = p − 1 stays near −1 as p → 0;
 * squared error's, through tanh's slope, fades there (it is the larger one only in the
 * middle, 0.15 < p < 0.85).
 * @param {LossCurves} curves @param {BatchPoint} point @param {number} number  its number in the batch
 */
export function curvesSentence(curves, point, number) {
  const p = point.pTrue;
  const at = curvesAt(curves, p);
  const [ce, se] = [at.bce.delta, at.squared_error.delta];
  const f = (/** @type {number} */ x) => `<b>${formatNumber(x, 2)}</b>`;
  const where = `Point ${number} gives its own class p = ${f(p)}`;
  if (p >= 0.5) {
    return `${where}: right. Cross-entropy's δ = dℓ/dz is ${f(ce)} there, squared error's ${f(se)} (one point, without 1/B);`
      + ' both shrink as p → 1, so the points still wrong steer the step.';
  }
  if (Math.abs(ce) > Math.abs(se)) {
    return `${where}: ${p < 0.15 ? 'confidently ' : ''}wrong. Cross-entropy's δ = dℓ/dz is ${f(ce)} there, squared error's only`
      + ` ${f(se)} (one point, without 1/B): cross-entropy keeps a large gradient when the prediction is confidently wrong,`
      + ' while squared error\'s fades where tanh saturates.';
  }
  return `${where}: wrong, but not confidently. Here squared error's δ = dℓ/dz (${f(se)}) is even larger than cross-entropy's`
    + ` (${f(ce)}); further left, as p → 0, squared error's fades with tanh's slope while cross-entropy's stays near −1:`
    + ' only cross-entropy keeps a large gradient when the prediction is confidently wrong.';
}
