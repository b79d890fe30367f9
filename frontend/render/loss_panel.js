// @ts-check
/**
 * The loss panel (the loss phase's view, also a tab of its own): the batch's predictions
 * against their targets, the chosen loss's formula with the live numbers
 * (L = 1/B·Σ ℓ_b = the frame's batch loss), dL/da at the output for the focus point and the
 * batch, and for classification both losses drawn against p(own class) with the focus
 * point's slopes (render/loss_panel/).
 *
 * `renderLossPanel(element, store)` writes the element's HTML when it changed. Test hooks:
 * data-testid loss-result (data-value: 1/B·Σ ℓ_b of the listed terms, data-batch-loss: the
 * frame's), loss-grad-output (the focus point's dL/da), loss-predictions, loss-curves,
 * loss-curve-bce / loss-curve-squared_error, loss-focus-marker (data-p), loss-delta-<curve>.
 *
 * @module render/loss_panel
 */

import { lossOf } from '../catalogue.js';
import { formatNumber } from './format.js';
import { check, escapeHtml, formulaHtml, math, num, v } from './inspector/html.js';
import { curvesSentence, curvesSvg } from './loss_panel/curves.js';
import { predictionsSvg } from './loss_panel/predictions.js';

/** @typedef {import('../protocol.js').Frame} Frame */
/** @typedef {import('../protocol.js').BatchPoint} BatchPoint */
/** @typedef {import('../catalogue.js').Catalogue} Catalogue */
/** @typedef {import('../catalogue.js').LossEntry} LossEntry */
/**
 * @typedef {{frame?: Frame | null, config?: any, options?: Catalogue | null, data?: any,
 *   ui?: {projector?: boolean}}} LossPanelStore
 */

/** The most loss terms written out. */
const SHOWN_TERMS = 10;

/**
 * L = 1/B·Σ ℓ_b over the listed points, and whether that is the whole batch.
 * @param {BatchPoint[]} batch @param {number} batchSize
 */
export function batchLossSum(batch, batchSize) {
  const terms = batch.map((point) => point.loss);
  const sum = terms.reduce((total, term) => total + term, 0);
  const total = batchSize > 0 ? batchSize : batch.length;
  return { terms, sum, total, complete: batch.length >= total, value: sum / total };
}

/** Whether two losses agree to float32 precision. @param {number} a @param {number} b */
export function lossesAgree(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= 1e-5 * Math.max(Math.abs(a), Math.abs(b)) + 1e-9;
}

/** @param {Frame} frame @param {BatchPoint[]} batch */
function sumHtml(frame, batch) {
  const s = batchLossSum(batch, frame.batchSize);
  const lhs = `${v('L')} = 1/${v('B')}·Σ<sub>${v('b')}</sub> ${v('ℓ')}<sub>${v('b')}</sub>`;
  if (!s.terms.every(Number.isFinite)) return `<div class="lp-eq">${math(lhs)}: <span class="insp-pending">computed in the loss phase</span></div>`;
  const shown = s.terms.slice(0, SHOWN_TERMS).map((t) => formatNumber(t, 3)).join(' + ');
  const more = s.terms.length > SHOWN_TERMS ? ` + … (${s.terms.length - SHOWN_TERMS} more)` : '';
  const hook = ` data-testid="loss-result" data-value="${s.value}" data-batch-loss="${frame.batchLoss}" data-complete="${s.complete}"`;
  if (!s.complete) {
    return `<div class="lp-eq"${hook}>${math(`${lhs}: the first ${batch.length} of ${s.total} terms are ${shown}${more};`
      + ` over all of them ${v('L')} = ${num(frame.batchLoss)}`)}</div>`;
  }
  return `<div class="lp-eq"${hook}>${math(`${lhs} = 1/${s.total}·(${shown}${more}) = ${num(s.value)}`)}`
    + ` ${check(lossesAgree(s.value, frame.batchLoss), `the frame's batch loss is ${formatNumber(frame.batchLoss, 4)}`)}</div>`;
}

/** dL/da at the output: the formula, the focus point's value and the batch's spread. @param {Frame} frame @param {LossEntry | undefined} loss @param {BatchPoint[]} batch */
function gradHtml(frame, loss, batch) {
  const point = batch[frame.focus];
  const formula = loss?.grad_output ?? 'dL/da';
  if (!point || !Number.isFinite(point.gradOutput)) {
    return `<div class="lp-eq lp-grad">${math(formulaHtml(formula))}: <span class="insp-pending">computed in the loss phase</span></div>`;
  }
  const grads = batch.map((p) => p.gradOutput).filter(Number.isFinite);
  const largest = grads.reduce((best, g) => (Math.abs(g) > Math.abs(best) ? g : best), 0);
  return `<div class="lp-eq lp-grad" data-testid="loss-grad-output" data-value="${point.gradOutput}">${math(formulaHtml(formula))}:`
    + ` ${math(`point ${frame.focus + 1}: ${v('a')} = ${num(point.output)}, ${v('y')} = ${num(point.target)} → ${num(point.gradOutput)}`)};`
    + ` <span class="lp-aside">the batch's from ${num(Math.min(...grads), { digits: 3 })} to ${num(Math.max(...grads), { digits: 3 })}`
    + ` (largest |dL/da|: point ${batch.findIndex((p) => p.gradOutput === largest) + 1})</span></div>`;
}

/** @param {Frame | null} frame @param {LossEntry | undefined} loss */
function headHtml(frame, loss) {
  const title = loss ? escapeHtml(loss.title) : 'loss';
  const where = frame && frame.batchSize > 0 ? ` · step ${frame.step}${frame.phase === 'update' ? '' : ' (in progress)'}, batch of ${frame.batchSize}` : '';
  return `<div class="lp-title">Loss · ${title}<span class="lp-where">${where}</span></div>`
    + (loss ? `<div class="lp-formula">${math(formulaHtml(loss.formula))}</div>` : '');
}

/**
 * The view box width of the panel's figures: its text is 11 units high, so 1 unit = 1 px
 * normally and larger type in projector mode.
 * @param {LossPanelStore} store @param {number} available  the panel's width in CSS px
 */
export function figureWidth(store, available) {
  const width = available > 0 ? available : 440;
  return Math.round(store.ui?.projector ? width / 1.55 : width);
}

/**
 * The panel's HTML for a store.
 * @param {LossPanelStore} store @param {number} [available]  the panel's width in CSS px
 * @returns {string}
 */
export function lossPanelHtml(store, available = 0) {
  const frame = store.frame ?? null;
  const loss = lossOf(store.options, store.config);
  const batch = frame?.batch ?? null;
  const parts = [headHtml(frame, loss)];
  if (!frame || !batch || batch.length === 0) {
    parts.push('<p class="insp-hint">Step through a forward pass to see this batch\'s predictions and their loss.</p>');
    return `<div class="lp">${parts.join('')}</div>`;
  }
  const width = figureWidth(store, available);
  const classification = (store.data?.problem ?? store.config?.network?.problem) !== 'regression';
  parts.push(sumHtml(frame, batch));
  const compact = Boolean(store.ui?.projector);
  parts.push(`<div class="lp-figure lp-predictions">${predictionsSvg(batch, frame.focus, { range: loss?.output_range, classification, width, compact })}`
    + `<div class="lp-legend">per point: bar, its target ${math(v('y'))}; dot, its output ${math(v('a'))}; below, its ${math('dL/da')}`
    + ` (point ${frame.focus + 1}: the focus point)</div></div>`);
  parts.push(gradHtml(frame, loss, batch));
  const curves = store.options?.loss_curves;
  const point = batch[frame.focus];
  if (classification && curves) {
    const height = Math.round(width * (compact ? 0.24 : 0.27));
    parts.push(`<div class="lp-figure lp-curves">${curvesSvg(curves, batch, frame.focus, { loss: loss?.name, width, height })}</div>`);
    if (point && Number.isFinite(point.pTrue)) parts.push(`<p class="lp-sentence" data-testid="loss-sentence">${curvesSentence(curves, point, frame.focus + 1)}</p>`);
  }
  return `<div class="lp">${parts.join('')}</div>`;
}

/** Last HTML written per element. @type {WeakMap<Element, string>} */
const lastHtml = new WeakMap();

/**
 * Fill the loss panel.
 * @param {HTMLElement} element @param {LossPanelStore} store
 */
export function renderLossPanel(element, store) {
  const html = lossPanelHtml(store, element.clientWidth);
  if (lastHtml.get(element) === html) return;
  lastHtml.set(element, html);
  element.innerHTML = html;
}
