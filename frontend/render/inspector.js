// @ts-check
/**
 * The inspector: for the selected weight (edge) or neuron (bias), the live numbers of the
 * current step and how they are computed, in sections (render/inspector/):
 *
 *   chain.js        one point's share (1/B)·∂ℓ_b/∂w = (1/B)·∂ℓ_b/∂a · ∂a/∂z · ∂z/∂w
 *   fan_in.js       a neuron's δ_j = f′(z_j)·Σ_k w_kj δ_k for the focus point (or δ from the loss)
 *   batch_strip.js  ∂L/∂w = Σ_b shares (+ the L1/L2 term = the reported gradient), as a strip
 *   update_rule.js  the optimizer's rule that ran, with its memory, giving the applied Δw
 *
 * `renderInspector(element, store)` fills two children of the element, `.insp-head` (title
 * and value chips) and `.insp-body` (the sections), creating them when missing; anything
 * else in the element (the weight editor, wiring/inspector.js) is left alone. It touches
 * the DOM only when the text changed, and keeps the "all points" <details> open.
 *
 * Test hooks (data-testid, the exact number in data-value; "NaN" while its phase has not
 * run): inspector-weight, inspector-gradient, inspector-applied (the frame's Δθ),
 * inspector-learning-rate, inspector-batch-size (chips); inspector-product (one point's
 * share, data-point = its number), inspector-sum (Σ of the listed shares), inspector-strip
 * (its dots carry data-share), inspector-fan-in (f′·Σ_k w_kj δ_k, data-delta = the frame's
 * δ), inspector-update (the Δθ the shown rule computes, data-optimizer), inspector-applied-check.
 *
 * CSS: render/inspector.css.
 *
 * @module render/inspector
 */

import { batchHtml, batchShares } from './inspector/batch_strip.js';
import { chainHtml, pointsTableHtml } from './inspector/chain.js';
import { inspectorContext, titleHtml } from './inspector/context.js';
import { fanInHtml } from './inspector/fan_in.js';
import { dd, math, num, testId, v } from './inspector/html.js';
import { applyRule, changeAgrees, ranOptimizer, updateHtml, withExactConstants } from './inspector/update_rule.js';

export { chainRuleNumbers, sumMatches } from './inspector/chain.js';
export { featureHtml, formulaHtml } from './inspector/html.js';

/** @typedef {import('../protocol.js').Frame} Frame */
/** @typedef {import('../protocol.js').FrameSelection} FrameSelection */
/** @typedef {import('../catalogue.js').Catalogue} Catalogue */
/** @typedef {import('./inspector/context.js').InspectorContext} InspectorContext */
/** @typedef {import('./inspector/update_rule.js').UpdateInput} UpdateInput */
/**
 * @typedef {{frame?: Frame | null, config?: any, options?: Catalogue | null, serverState?: any,
 *   ui?: {projector?: boolean}}} InspectorStore
 */

const HINT = '<p class="insp-hint">Click a weight (edge) or a neuron in the network to see how its '
  + 'gradient and its update are computed.</p>';

/**
 * The last rule record that reproduced the applied change, by step and parameter: a live
 * change of the optimizer or η between two steps makes the next frames carry the new
 * settings' record while Δθ is still the last step's.
 * @type {{key: string, rule: Record<string, number>, weight: number} | null}
 */
let remembered = null;

/**
 * The update rule record to show, and whether it is the one that ran.
 * @param {InspectorContext} ctx @returns {UpdateInput}
 */
export function updateInput(ctx) {
  const { sel, frame } = ctx;
  const rule = withExactConstants(sel.rule, ctx.hyper);
  const base = { gradient: sel.gradient, applied: sel.update, weight: sel.weight };
  if (!Number.isFinite(sel.update)) return { ...base, rule, state: 'pending' };
  const key = [frame.step, sel.layer, sel.neuron, sel.source, sel.update, sel.gradient].join('|');
  const same = remembered?.key === key ? remembered : null;
  if (reproduces(rule, ctx)) {
    if (!same) remembered = { key, rule, weight: sel.weight };
    return { ...base, rule, state: 'ran', weight: same?.weight ?? sel.weight };
  }
  if (same) return { ...base, rule: same.rule, state: 'stale', weight: same.weight };
  return { ...base, rule, state: 'mismatch' };
}

/**
 * Whether a record gives the frame's Δθ and (all points listed) its penalty the gradient.
 * @param {Record<string, number>} rule @param {InspectorContext} ctx
 */
function reproduces(rule, ctx) {
  const { sel } = ctx;
  if (ranOptimizer(rule) === 'adam' && !(rule.t >= 1)) return false;
  if (!changeAgrees(applyRule(rule, sel.gradient), sel.update)) return false;
  const batch = batchShares(sel, ctx.batchSize, rule.penalty);
  return batch.listed < batch.total || !Number.isFinite(batch.sum) || batch.agrees;
}

/** The title and the value chips. @param {InspectorContext} ctx @param {UpdateInput} input */
function headHtml(ctx, input) {
  const { sel, frame, param: p } = ctx;
  const penalty = input.rule.penalty;
  const gradientLabel = Number.isFinite(penalty) && penalty !== 0 ? `${v('g')} = ${dd(v('L'), v(p))} + penalty` : dd(v('L'), v(p));
  /** @param {string} label @param {string} value @param {string} id @param {number} raw @param {string} [kind] */
  const chip = (label, value, id, raw, kind = '') => `<span class="insp-chip ${kind}"${testId(id, raw)}>${math(label)} = ${value}</span>`;
  const chips = [
    chip(v(p), num(sel.weight), 'weight', sel.weight, 'value'),
    chip(gradientLabel, Number.isFinite(sel.gradient) ? num(sel.gradient) : ctx.later('backward'), 'gradient', sel.gradient),
    chip(`Δ${v(p)}`, Number.isFinite(sel.update) ? num(sel.update, { signed: true }) : ctx.later('update'), 'applied', sel.update),
    chip(v('η'), num(frame.learningRate, { digits: 3 }), 'learning-rate', frame.learningRate, 'optional'),
  ];
  if (ctx.batchSize > 0) chips.push(chip(v('B'), `<span class="num">${ctx.batchSize}</span>`, 'batch-size', ctx.batchSize, 'optional'));
  return `<div class="insp-title">${titleHtml(ctx)}</div><div class="insp-values">${chips.join('')}</div>`;
}

/**
 * The sections for a selection.
 * @param {InspectorContext} ctx @param {UpdateInput} input @param {boolean} detailsOpen
 * @param {number} width  the figures' view box width
 */
function bodyHtml(ctx, input, detailsOpen, width) {
  // a bias's share is its δ: for the focus point, the fan-in is its chain rule
  const sections = ctx.isEdge ? [chainHtml(ctx)] : ctx.pointIsFocus ? [fanInHtml(ctx, true)] : [chainHtml(ctx), fanInHtml(ctx)];
  sections.push(batchHtml(ctx, input.rule.penalty, width), updateHtml(ctx, input), pointsTableHtml(ctx, detailsOpen));
  return sections.join('');
}

/** Last HTML written per element, to skip identical updates. @type {WeakMap<Element, string>} */
const lastHtml = new WeakMap();

/** @param {Element} element @param {string} html */
function setHtml(element, html) {
  if (lastHtml.get(element) === html) return;
  lastHtml.set(element, html);
  element.innerHTML = html;
}

/**
 * The element's head and body children (created when missing).
 * @param {HTMLElement} element @returns {{head: HTMLElement, body: HTMLElement}}
 */
function containers(element) {
  /** @param {string} name */
  const find = (name) => {
    const found = element.querySelector(`:scope > .${name}`);
    if (found) return /** @type {HTMLElement} */ (found);
    const created = Object.assign(document.createElement('div'), { className: name });
    element.append(created);
    return created;
  };
  return { head: find('insp-head'), body: find('insp-body') };
}

/**
 * Fill `element` with the inspector for store.frame.selection.
 * @param {HTMLElement} element @param {InspectorStore} store
 */
export function renderInspector(element, store) {
  const { head, body } = containers(element);
  const frame = store.frame ?? null;
  const selection = frame?.selection ?? null;
  element.classList.toggle('has-selection', Boolean(selection));
  if (!frame || !selection) {
    setHtml(head, HINT);
    setHtml(body, '');
    return;
  }
  const ctx = inspectorContext(frame, selection, store);
  const input = updateInput(ctx);
  const open = body.querySelector('details.insp-details')?.hasAttribute('open') ?? false;
  setHtml(head, headHtml(ctx, input));
  const available = body.clientWidth > 0 ? body.clientWidth : 440;
  setHtml(body, bodyHtml(ctx, input, open, Math.round(store.ui?.projector ? available / 1.55 : available)));
}
