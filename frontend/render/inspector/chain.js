// @ts-check
/**
 * The chain rule for one batch point, with its numbers:
 *
 *   (1/B)·∂ℓ_b/∂w = (1/B)·∂ℓ_b/∂a · ∂a/∂z · ∂z/∂w        (softmax output: (1/B)·∂ℓ_b/∂z · ∂z/∂w)
 *
 * One point's term is its *share* of the batch gradient: L = 1/B·Σ ℓ_b is a mean, so each
 * share carries 1/B and ∂L/∂w = Σ_b (1/B)·∂ℓ_b/∂w (the batch section, batch_strip.js).
 * The selection samples' dL/da and dL/dz already hold that 1/B.
 *
 * @module render/inspector/chain
 */

import { activationEntry, lossOf, rightHandSide } from '../../catalogue.js';
import { MINUS, formatNumber } from '../format.js';
import { dd, escapeHtml, factor, formulaHtml, heading, line, math, note, num, section, share, testId, v } from './html.js';
import { pointName } from './context.js';

/** @typedef {import('../../protocol.js').FrameSelection} FrameSelection */
/** @typedef {import('./context.js').InspectorContext} InspectorContext */

/**
 * @typedef {object} ChainSample
 * @property {number} gradA    (1/B)·∂ℓ_b/∂a
 * @property {number} dadz     ∂a/∂z (NaN for a softmax output)
 * @property {number} aSource  ∂z/∂w: the source's activation (1 for a bias)
 * @property {number} delta    (1/B)·∂ℓ_b/∂z
 * @property {number} product  the point's share: gradA · dadz · aSource, or delta · aSource when dadz is NaN
 */

/**
 * @typedef {object} ChainNumbers
 * @property {ChainSample[]} perSample  one entry per sample of the selection
 * @property {number} sum       Σ_b delta · a_source over the samples shown (NaN without samples)
 * @property {number} absSum    Σ_b |delta · a_source|: the scale for comparing `sum` with `reported`
 * @property {number} reported  the server's gradient (selection.gradient, the penalty included)
 */

/**
 * The chain rule's arithmetic for a selection: per batch point the product of the three
 * factors (its share), and the sum of the shares shown.
 * @param {FrameSelection | null | undefined} selection
 * @returns {ChainNumbers}
 */
export function chainRuleNumbers(selection) {
  const samples = selection?.samples ?? [];
  const perSample = samples.map((s) => {
    const local = Number.isFinite(s.dadz) ? s.gradA * s.dadz : s.delta;
    return { gradA: s.gradA, dadz: s.dadz, aSource: s.aSource, delta: s.delta, product: local * s.aSource };
  });
  let sum = samples.length > 0 ? 0 : NaN;
  let absSum = samples.length > 0 ? 0 : NaN;
  for (const s of samples) {
    const term = s.delta * s.aSource;
    sum += term;
    absSum += Math.abs(term);
  }
  return { perSample, sum, absSum, reported: selection?.gradient ?? NaN };
}

/**
 * Whether a float64 sum of float32 terms matches a float32 reported value.
 * @param {number} sum @param {number} reported @param {number} scale  Σ|terms|
 */
export function sumMatches(sum, reported, scale) {
  if (!Number.isFinite(sum) || !Number.isFinite(reported)) return false;
  return Math.abs(sum - reported) <= 2e-5 * Math.max(Math.abs(reported), scale) + 1e-9;
}

/** The local derivative ∂a/∂z in words and formula. @param {InspectorContext} ctx @param {number} z */
export function derivativeNote(ctx, z) {
  const entry = ctx.isOutput ? undefined : activationEntry(ctx.catalogue, ctx.activation);
  const loss = ctx.isOutput ? lossOf(ctx.catalogue, ctx.config) : undefined;
  const formula = formulaHtml(rightHandSide(entry?.derivative ?? loss?.output_derivative));
  const name = escapeHtml(entry?.title ?? (ctx.isOutput ? loss?.output_activation ?? ctx.activation : ctx.activation));
  return `${math(`${dd(v('a'), v('z'))} = ${name}′(${v('z')})${formula ? ` = ${formula}` : ''}`)} at ${math(`${v('z')} = ${num(z)}`)}`;
}

/** Where ∂z/∂w comes from. @param {InspectorContext} ctx @param {number} aSource */
function sourceNote(ctx, aSource) {
  const dzdw = dd(v('z'), v(ctx.param));
  if (!ctx.isEdge) return math(`${dzdw} = 1`);
  const what = ctx.sel.layer === 0 ? `the value of ${ctx.sourceName} at this point` : `the activation of ${ctx.sourceName}`;
  return `${math(`${dzdw} = ${v('a')}<sub>source</sub> = ${num(aSource)}`)}, ${what}`;
}

/**
 * The single-point chain rule section.
 * @param {InspectorContext} ctx @returns {string}
 */
export function chainHtml(ctx) {
  const { sel, param } = ctx;
  const b = ctx.pointNumber;
  const sample = sel.samples[ctx.point];
  const softmax = sample !== undefined && !Number.isFinite(sample.dadz) && Number.isFinite(sample.delta);
  const dzdw = dd(v('z'), v(param));
  const symbolic = softmax ? `${share(b, param)} = ${share(b, 'z')} · ${dzdw}`
    : `${share(b, param)} = ${share(b, 'a')} · ${dd(v('a'), v('z'))} · ${dzdw}`;
  const parts = [heading(`Chain rule · ${pointName(ctx)}'s share`), line(math(symbolic))];
  if (sample === undefined) {
    parts.push(line(ctx.later('forward')));
  } else if (!Number.isFinite(sample.delta)) {
    parts.push(line(math(`= ${share(b, 'a')} · ${dd(v('a'), v('z'))} · ${factor(sample.aSource)}`)));
    parts.push(note(`${math(`${share(b, 'a')}, ${dd(v('a'), v('z'))}`)}: ${ctx.later(ctx.isOutput ? 'loss' : 'backward')}; `
      + `${math(`${dzdw}`)} is known from the forward pass.`));
  } else {
    const s = chainRuleNumbers(sel).perSample[ctx.point];
    const factors = softmax ? `${factor(s.delta)} · ${factor(s.aSource)}`
      : `${factor(s.gradA)} · ${factor(s.dadz)} · ${factor(s.aSource)}`;
    parts.push(line(math(`= ${factors} = ${num(s.product)}`), testId('product', s.product, { point: b })));
    if (softmax) parts.push(note(softmaxNote(ctx, sample)));
    else if (ctx.isEdge) parts.push(note(`${derivativeNote(ctx, sample.z)}; ${sourceNote(ctx, sample.aSource)}.`));
    else parts.push(note(`${derivativeNote(ctx, sample.z)}; ${sourceNote(ctx, sample.aSource)}: a bias's share is the point's δ.`));
  }
  return section('chain', parts);
}

/** Softmax with cross-entropy: (1/B)·∂ℓ/∂z = (a − y)/B directly. @param {InspectorContext} ctx @param {import('../../protocol.js').SelectionSample} sample */
function softmaxNote(ctx, sample) {
  const B = ctx.batchSize;
  const y = B > 0 ? sample.a - B * sample.delta : NaN;
  const yText = Number.isFinite(y) && Math.abs(y - Math.round(y)) < 1e-3 ? String(Math.round(y)) : formatNumber(y, 3);
  const numbers = B > 0 ? ` = (${num(sample.a)} ${MINUS} ${yText}) / ${B}` : '';
  return `Softmax with cross-entropy: ${math(`${share(ctx.pointNumber, 'z')} = (${v('a')} ${MINUS} ${v('y')}) / ${v('B')}${numbers}`)}`
    + ' directly; softmax has no elementwise ∂a/∂z, so that factor is skipped.';
}

/**
 * Every listed point's factors and share, in a <details> table (kept open across frames).
 * @param {InspectorContext} ctx @param {boolean} open @returns {string}
 */
export function pointsTableHtml(ctx, open) {
  const { sel } = ctx;
  const numbers = chainRuleNumbers(sel);
  if (numbers.perSample.length < 2) return '';
  const softmax = numbers.perSample.some((s) => !Number.isFinite(s.dadz) && Number.isFinite(s.delta));
  const source = `${v('a')}<sub>source</sub>`;
  const head = softmax ? ['#', source, share('b', 'z'), 'share']
    : ['#', source, share('b', 'a'), dd(v('a'), v('z')), share('b', 'z'), 'share'];
  const rows = numbers.perSample.map((s, i) => {
    const cells = softmax ? [String(i + 1), num(s.aSource), num(s.delta), num(s.product)]
      : [String(i + 1), num(s.aSource), num(s.gradA), num(s.dadz), num(s.delta), num(s.product)];
    return `<tr${i === ctx.point ? ' class="chosen"' : ''}>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  }).join('');
  const total = ctx.batchSize > 0 ? ctx.batchSize : numbers.perSample.length;
  const of = numbers.perSample.length < total ? ` (of ${total})` : '';
  return `<details class="insp-details insp-detail"${open ? ' open' : ''}><summary>All ${numbers.perSample.length} points${of}</summary>`
    + `<table class="insp-table"><thead><tr>${head.map((h) => `<th>${math(h)}</th>`).join('')}</tr></thead>`
    + `<tbody>${rows}</tbody></table></details>`;
}
