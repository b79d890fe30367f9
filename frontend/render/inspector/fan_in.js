// @ts-check
/**
 * A neuron's δ for the focus point, the paths the gradient arrives by:
 *
 *   hidden neuron j of layer l:  δ_j = f′(z_j) · Σ_k w_kj δ_k      (k: the neurons of layer l+1)
 *   output neuron:               δ comes from the loss (the catalogue's delta formula)
 *
 * δ = (1/B)·∂ℓ/∂z, the point's share, as the frame's focus block carries it. The weights
 * w_kj are the ones the backward pass used (before this step's update), exact as the
 * selection's fan-out block carries them (a running frame's weights are only 8-bit codes).
 *
 * @module render/inspector/fan_in
 */

import { lossOf } from '../../catalogue.js';
import { derivativeNote } from './chain.js';
import { pointName } from './context.js';
import { check, escapeHtml, factor, formulaHtml, heading, line, math, note, num, section, share, testId, v } from './html.js';

/** @typedef {import('../../protocol.js').Frame} Frame */
/** @typedef {import('./context.js').InspectorContext} InspectorContext */

/**
 * @typedef {object} FanIn
 * @property {{k: number, weight: number, delta: number, product: number}[]} terms  w_kj · δ_k
 * @property {number} sum    Σ_k w_kj δ_k
 * @property {number} slope  f′(z_j) for the focus point (NaN when not known)
 * @property {number} value  f′(z_j) · Σ
 * @property {number} delta  the frame's δ_j for the focus point
 * @property {number} z @property {number} a  the focus point's z_j and a_j
 */

/**
 * The fan-in sum of hidden neuron `neuron` of `layer` for the focus point.
 * @param {Frame} frame @param {number} layer @param {number} neuron
 * @param {number} slope  f′(z_j) for the focus point (its selection sample's da/dz)
 * @returns {FanIn | null}  null without a focus point, for the output layer, or when the
 *   frame's selection is not this neuron (no fan-out block for it)
 */
export function fanIn(frame, layer, neuron, slope) {
  const focus = frame.focusPoint;
  const next = frame.layers[layer + 1];
  if (!focus || !next) return null;
  const sel = frame.selection;
  const used = sel && sel.layer === layer && sel.neuron === neuron ? sel.fanOut : null;
  if (!used || used.length !== next.nOut) return null;
  const terms = Array.from({ length: next.nOut }, (_, k) => {
    const weight = used[k];
    const delta = focus.delta[layer + 1][k];
    return { k, weight, delta, product: weight * delta };
  });
  const sum = terms.reduce((total, t) => total + t.product, 0);
  return {
    terms, sum, slope, value: slope * sum,
    delta: focus.delta[layer][neuron], z: focus.z[layer][neuron], a: focus.a[layer][neuron],
  };
}

/** Whether f′·Σ reproduces δ (float32 inputs). @param {FanIn} f */
export function fanInAgrees(f) {
  const scale = Math.abs(f.slope) * f.terms.reduce((total, t) => total + Math.abs(t.product), 0);
  return Number.isFinite(f.value) && Math.abs(f.value - f.delta) <= 2e-5 * Math.max(scale, Math.abs(f.delta)) + 1e-12;
}

/** The most terms written out; the rest are summed as "…". */
const SHOWN_TERMS = 6;

/** @param {FanIn} f */
function termsHtml(f) {
  const shown = f.terms.slice(0, SHOWN_TERMS).map((t) => `${factor(t.weight, 3)}·${factor(t.delta, 3)}`);
  const rest = f.terms.length > SHOWN_TERMS ? ` + … (${f.terms.length - SHOWN_TERMS} more)` : '';
  return `Σ<sub>${v('k')}</sub> ${v('w')}<sub>${v('k')}${v('j')}</sub>${v('δ')}<sub>${v('k')}</sub>`
    + ` = ${shown.join(' + ')}${rest} = ${num(f.sum)}`;
}

/** δ_j, δ_k, w_kj as math. @param {string} name @param {string} index */
const sub = (name, index) => `${v(name)}<sub>${index}</sub>`;

/**
 * The section's first lines: its heading and the symbolic rule; as the chain rule of the
 * bias (`asChain`: the chain rule's point is the focus point), the share is δ itself.
 * @param {InspectorContext} ctx @param {boolean} asChain @param {string} title @param {string} rule
 */
function opening(ctx, asChain, title, rule) {
  const b = ctx.frame.focus + 1;
  if (!asChain) return [heading(`${title} · point ${b} (the focus point)`), line(math(rule))];
  return [heading(`Chain rule · ${pointName(ctx)}'s share, ${title.toLowerCase()}`),
    line(math(`${share(b, 'b')} = ${sub('δ', v('j'))} = ${rule.replace(/^[^=]*= /, '')}`))];
}

/** A hidden neuron: δ_j = f′(z_j)·Σ_k w_kj δ_k term by term. @param {InspectorContext} ctx @param {boolean} asChain */
function hiddenHtml(ctx, asChain) {
  const { frame, sel } = ctx;
  const sample = sel.samples[frame.focus];
  const f = fanIn(frame, sel.layer, sel.neuron, sample?.dadz ?? NaN);
  const rule = `${sub('δ', v('j'))} = ${v('f')}′(${sub('z', v('j'))}) · Σ<sub>${v('k')}</sub> ${sub('w', v('k') + v('j'))}${sub('δ', v('k'))}`;
  const parts = opening(ctx, asChain, 'By its fan-in', rule);
  if (!f || !Number.isFinite(f.delta) || !Number.isFinite(f.sum)) {
    parts.push(line(ctx.later('backward')));
    return section('fan-in', parts);
  }
  parts.push(line(math(termsHtml(f))));
  const point = { delta: f.delta, point: frame.focus + 1 };
  if (Number.isFinite(f.slope)) {
    const value = `<span${testId('fan-in', f.value, point)}>${num(f.value)}</span>`;
    const agrees = check(fanInAgrees(f), `the frame's δ is ${num(f.delta)}`);
    parts.push(line(`${math(`${sub('δ', v('j'))} = ${factor(f.slope)} · ${factor(f.sum)} = ${value}`)} ${agrees}`,
      asChain ? testId('product', f.value, { point: frame.focus + 1 }) : ''));
  } else {
    parts.push(line(math(`${sub('δ', v('j'))} = <span${testId('fan-in', f.delta, point)}>${num(f.delta)}</span>`)));
  }
  const slope = asChain && sample ? `${derivativeNote(ctx, sample.z)}. ` : '';
  const count = f.terms.length;
  parts.push(note(`${slope}Each term is one path back, from neuron ${v('k')} of layer ${sel.layer + 2}`
    + ` (${count} neuron${count === 1 ? '' : 's'}): its weight times its δ`
    + `${slope ? '' : `; ${math(`${v('f')}′`)} at ${math(`${v('z')} = ${num(f.z)}`)} scales their sum`}.`));
  return section('fan-in', parts);
}

/** The output neuron: δ from the loss. @param {InspectorContext} ctx @param {boolean} asChain */
function outputHtml(ctx, asChain) {
  const { frame, sel } = ctx;
  const loss = lossOf(ctx.catalogue, ctx.config);
  const parts = opening(ctx, asChain, `${v('δ')} from the loss`, formulaHtml(loss?.delta ?? 'dL/dz'));
  const focus = frame.focusPoint;
  const point = frame.batch?.[frame.focus];
  const delta = focus?.delta[sel.layer]?.[sel.neuron] ?? NaN;
  if (!focus || !point || !Number.isFinite(delta)) {
    parts.push(line(ctx.later('loss')));
    return section('fan-in', parts);
  }
  const sample = sel.samples[frame.focus];
  if (asChain && sample && Number.isFinite(sample.dadz)) {
    parts.push(line(math(`= ${factor(sample.gradA)} · ${factor(sample.dadz)} = ${num(sample.gradA * sample.dadz)}`),
      testId('product', sample.gradA * sample.dadz, { point: frame.focus + 1 })));
  }
  const a = focus.a[sel.layer][sel.neuron];
  const y = targetOf(ctx, point);
  parts.push(line(math(`${v('a')} = ${num(a)}, ${v('y')} = ${num(y)}, ${v('B')} = ${ctx.batchSize}: `
    + `${v('δ')} = <span${testId('fan-in', delta, { delta, point: frame.focus + 1 })}>${num(delta)}</span>`)));
  parts.push(note(`The output layer has no fan-in: its δ starts the backward pass (${escapeHtml(loss?.title ?? 'the loss')}).`));
  return section('fan-in', parts);
}

/** y of the selected output unit for the focus point. @param {InspectorContext} ctx @param {import('../../protocol.js').BatchPoint} point */
function targetOf(ctx, point) {
  const outputs = ctx.frame.layerSizes[ctx.frame.layerSizes.length - 1] ?? 1;
  if (outputs > 1) return point.label === ctx.sel.neuron ? 1 : 0;
  return point.target;
}

/**
 * The neuron's fan-in section (hidden) or its δ from the loss (output), for the focus
 * point; `asChain`: it is also the bias's chain rule (no separate chain section).
 * @param {InspectorContext} ctx @param {boolean} [asChain] @returns {string}
 */
export function fanInHtml(ctx, asChain = false) {
  return ctx.isOutput ? outputHtml(ctx, asChain) : hiddenHtml(ctx, asChain);
}
