// @ts-check
/**
 * The batch: ∂L/∂θ = Σ_b (1/B)·∂ℓ_b/∂θ, one share per point. The strip draws each listed
 * point's own gradient ∂ℓ_b/∂θ (= B × its share) as a dot on a line and marks their
 * average, which is the sum of the shares: the reported gradient minus the L1/L2 penalty.
 *
 * @module render/inspector/batch_strip
 */

import { formatNumber } from '../format.js';
import { gradientColor } from '../palette.js';
import { chainRuleNumbers, sumMatches } from './chain.js';
import { check, dd, escapeHtml, factor, heading, line, math, note, num, section, share, testId, v } from './html.js';

/** @typedef {import('../../protocol.js').FrameSelection} FrameSelection */
/** @typedef {import('./context.js').InspectorContext} InspectorContext */

/**
 * @typedef {object} BatchShares
 * @property {number[]} shares  each listed point's share (1/B)·∂ℓ_b/∂θ (NaN before its phase)
 * @property {number[]} own     each listed point's own gradient ∂ℓ_b/∂θ = B · share
 * @property {number} listed    S: points listed
 * @property {number} total     B: points in the batch
 * @property {number} sum       Σ of the listed shares
 * @property {number} absSum    Σ |share|
 * @property {number} penalty   the L1/L2 term of the gradient (0 for none or a bias)
 * @property {number} average   the reported gradient minus the penalty: Σ over all B shares
 *   = the mean of the B points' own gradients
 * @property {boolean} agrees   S = B and Σ shares + penalty equals the reported gradient
 */

/**
 * @param {FrameSelection} sel @param {number} batchSize  B @param {number} penalty  rule.penalty
 * @returns {BatchShares}
 */
export function batchShares(sel, batchSize, penalty) {
  const numbers = chainRuleNumbers(sel);
  const shares = numbers.perSample.map((s) => s.delta * s.aSource);
  const total = batchSize > 0 ? batchSize : shares.length;
  const extra = Number.isFinite(penalty) ? penalty : 0;
  const complete = shares.length > 0 && shares.length >= total;
  return {
    shares, own: shares.map((s) => s * total), listed: shares.length, total,
    sum: numbers.sum, absSum: numbers.absSum, penalty: extra,
    average: sel.gradient - extra,
    agrees: complete && sumMatches(numbers.sum + extra, sel.gradient, numbers.absSum + Math.abs(extra)),
  };
}

/**
 * Pixel positions of values on a strip `width` wide (margins `pad`), over a range that
 * holds every value and 0.
 * @param {number[]} values @param {number} width @param {number} pad
 * @returns {(x: number) => number}
 */
export function stripScale(values, width, pad) {
  const finite = values.filter(Number.isFinite);
  let low = Math.min(0, ...finite);
  let high = Math.max(0, ...finite);
  if (high - low < 1e-12) { low -= 1e-12; high += 1e-12; }
  const margin = 0.06 * (high - low);
  low -= margin;
  high += margin;
  return (x) => pad + ((x - low) / (high - low)) * (width - 2 * pad);
}

/**
 * The strip as SVG: dots at each listed point's own gradient, the focus point ringed, the
 * average as a diamond on a tick, 0 marked.
 * @param {BatchShares} batch @param {number} focus  index of the chain rule's point
 * @param {number} width  of the view box (text: 11 units)
 */
export function stripSvg(batch, focus, width) {
  const height = 52;
  const axis = 30;
  const x = stripScale([...batch.own, batch.average], width, 14);
  const dots = batch.own.map((g, i) => (Number.isFinite(g)
    ? `<circle class="strip-dot${i === focus ? ' focus' : ''}" cx="${x(g).toFixed(1)}" cy="${axis}" r="${i === focus ? 5.5 : 4}"`
      + ` fill="${gradientColor(g, 0.55)}" data-share="${batch.shares[i]}"><title>point ${i + 1}: ${escapeHtml(formatNumber(g, 4))}</title></circle>`
    : '')).join('');
  const mean = x(batch.average);
  const zero = x(0);
  const label = `mean ${formatNumber(batch.average, 3)}`;
  const anchor = mean > width - 70 ? 'end' : mean < 70 ? 'start' : 'middle';
  return `<svg class="insp-strip" viewBox="0 0 ${width} ${height}" role="img"`
    + ` aria-label="each point's gradient and their average" data-testid="inspector-strip" data-count="${batch.listed}">`
    + `<line class="strip-axis" x1="8" x2="${width - 8}" y1="${axis}" y2="${axis}"/>`
    + `<line class="strip-zero" x1="${zero.toFixed(1)}" x2="${zero.toFixed(1)}" y1="${axis - 6}" y2="${axis + 6}"/>`
    + `<text class="strip-text" x="${zero.toFixed(1)}" y="${height - 2}" text-anchor="middle">0</text>`
    + dots
    + `<line class="strip-mean" data-testid="inspector-strip-mean" data-value="${batch.average}"`
    + ` x1="${mean.toFixed(1)}" x2="${mean.toFixed(1)}" y1="${axis - 16}" y2="${axis + 10}"/>`
    + `<path class="strip-diamond" d="M${mean.toFixed(1)} ${axis - 6}l6 6l-6 6l-6 -6z"/>`
    + `<text class="strip-text strong" x="${mean.toFixed(1)}" y="10" text-anchor="${anchor}">${escapeHtml(label)}</text>`
    + '</svg>';
}

/** The penalty's name: λ·w (L2) or λ·sign(w) (L1). @param {InspectorContext} ctx */
function penaltyName(ctx) {
  return ctx.hyper?.regularization === 'l1' ? `${v('λ')}·sign(${v('w')})` : `${v('λ')}·${v('w')}`;
}

/** The sum of the shares, checked against the reported gradient. @param {InspectorContext} ctx @param {BatchShares} batch */
function sumLines(ctx, batch) {
  const { sel, param } = ctx;
  const gradient = sel.gradient;
  const complete = batch.listed >= batch.total;
  const lhs = `Σ<sub>${v('b')}</sub> ${share('b', param)}`;
  if (!complete) {
    return [line(`${math(`${lhs} = ${num(batch.sum)}`)} <span class="insp-warn">(first ${batch.listed} of ${batch.total} points)</span>`,
      testId('sum', batch.sum)),
    note(`All ${batch.total} points: the reported ${math(dd(v('L'), v(param)))} ${Number.isFinite(gradient) ? math(`= ${num(batch.average)}`) : ctx.later('backward')}.`)];
  }
  if (!Number.isFinite(gradient)) {
    return [line(math(`${lhs} = ${num(batch.sum)}`), testId('sum', batch.sum)), note(`The reported gradient: ${ctx.later('backward')}.`)];
  }
  if (batch.penalty === 0) {
    return [line(`${math(`${lhs} = ${num(batch.sum)}`)} ${check(batch.agrees, `≠ the reported ${formatNumber(gradient, 4)}`)}`
      + (batch.agrees ? ' <span class="insp-aside">the reported gradient</span>' : ''), testId('sum', batch.sum))];
  }
  return [line(math(`${lhs} = ${num(batch.sum)}`), testId('sum', batch.sum)),
    line(`${math(`${v('g')} = Σ + ${penaltyName(ctx)} = ${num(batch.sum)} + ${factor(batch.penalty)} = ${num(batch.sum + batch.penalty)}`)}`
      + ` ${check(batch.agrees, `≠ the reported ${formatNumber(gradient, 4)}`)}`
      + (batch.agrees ? ' <span class="insp-aside">the reported gradient</span>' : ''))];
}

/**
 * The batch section: the sum of the shares, the strip and its caption.
 * @param {InspectorContext} ctx @param {number} penalty @param {number} width  the strip's view box
 * @returns {string}
 */
export function batchHtml(ctx, penalty, width) {
  const { sel, param } = ctx;
  const batch = batchShares(sel, ctx.batchSize, penalty);
  const parts = [heading(`Batch of ${batch.total} · ${math(`${dd(v('L'), v(param))} = Σ<sub>${v('b')}</sub> ${share('b', param)}`)}`)];
  const mean = `${math(`${v('L')} = 1/${v('B')}·Σ ${v('ℓ')}<sub>${v('b')}</sub>`)} is a mean: each share already carries 1/${math(v('B'))}.`;
  const known = batch.listed > 0 && Number.isFinite(batch.sum);
  if (!known) {
    parts.push(line(ctx.later(batch.listed === 0 ? 'forward' : ctx.isOutput ? 'loss' : 'backward')), note(mean));
    return section('batch', parts);
  }
  parts.push(...sumLines(ctx, batch));
  if (Number.isFinite(batch.average)) {
    parts.push(stripSvg(batch, ctx.point, width));
    parts.push(note(`<b>each example wants its own nudge; the step follows their average</b><span class="insp-detail"> (dots: each point's `
      + `${math(dd(`${v('ℓ')}<sub>${v('b')}</sub>`, v(param)))}, ◆ their mean${batch.penalty !== 0 ? ' without the penalty' : ''})</span>. ${mean}`));
  } else parts.push(note(mean));
  return section('batch', parts);
}
