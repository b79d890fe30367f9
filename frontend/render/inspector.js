// @ts-check
/**
 * The inspector: for the selected weight (edge) or neuron (bias), the live numbers of the
 * current step and the chain rule written out with them:
 *
 *   ∂L/∂w = ∂L/∂a · ∂a/∂z · ∂z/∂w = (…) · (…) · (…) = …     for the first batch point,
 *   summed over the batch = the reported gradient, and the update w ← w − η·∂L/∂w.
 *
 * `renderInspector(element, store)` fills the element (a <div data-testid="inspector">);
 * it only touches the DOM when the text changed, and keeps the "all points" <details> open
 * across frames. `chainRuleNumbers(selection)` is the pure arithmetic (used by the tests).
 *
 * CSS class names used (this module adds no <style>; style them in styles.css):
 *   .insp            root wrapper of the whole inspector content
 *   .insp-hint       the "click a weight…" hint when nothing is selected
 *   .insp-title      title line ("Weight w from x₁ → neuron 2 of hidden layer 1")
 *   .insp-values     row of value chips (w, ∂L/∂w, Δw, η, B)
 *   .insp-chip       one chip: a label and a number
 *   .insp-section    a block (chain rule / batch sum / update)
 *   .insp-label      small caps heading of a section
 *   .insp-eq         one equation line (keep on one line where possible; wraps if narrow)
 *   .insp-note       a one-line explanation under an equation (smaller, muted)
 *   .insp-pending    "computed in the backward phase" in place of a number (muted, italic)
 *   .insp-ok         the ✓ after a verified sum
 *   .insp-warn       a caveat (partial batch, optimizer differs from plain SGD)
 *   .math            mathematical text (variables are <i>, indices <sub>/<sup>)
 *   .num             a number (monospace / tabular figures; white-space: nowrap)
 *   .num.pos/.num.neg  sign of the number (e.g. colour with --positive / --negative)
 *   .insp-details    <details> with the per-point table; .insp-table the table inside
 *
 * Test hooks: elements with data-testid="inspector-weight", "inspector-gradient",
 * "inspector-update", "inspector-learning-rate", "inspector-batch-size" (value chips),
 * "inspector-product" (point 1's chain-rule product) and "inspector-sum" (the batch sum)
 * carry the exact number in data-value ("NaN" while its phase has not run).
 *
 * Suggested CSS (see frontend/dev/views.html for a working copy):
 *   .insp-title { font-weight: 600; margin-bottom: .3em }
 *   .insp-values { display: flex; flex-wrap: wrap; gap: .3em .9em; margin-bottom: .35em }
 *   .insp-chip .num { font-weight: 600 }
 *   .insp-section { margin: .35em 0 }
 *   .insp-label { font-size: .78em; text-transform: uppercase; letter-spacing: .05em; color: var(--muted) }
 *   .insp-eq { padding-left: .8em; line-height: 1.6 }
 *   .insp-note, .insp-hint { font-size: .86em; color: var(--muted) }
 *   .insp-pending { color: var(--muted); font-style: italic; font-family: var(--font) }
 *   .insp-ok { color: #1b7f3b; font-weight: 700 }   .insp-warn { color: var(--muted) }
 *   .num { white-space: nowrap }  .num.pos { color: var(--positive) }  .num.neg { color: var(--negative) }
 *
 * @module render/inspector
 */

import { activationEntry, activationNameOf, lossOf, rightHandSide } from '../catalogue.js';
import { formatNumber, formatSigned, MINUS } from './format.js';

/** @typedef {import('../protocol.js').FrameSelection} FrameSelection */
/** @typedef {import('../protocol.js').Frame} Frame */
/** @typedef {import('../catalogue.js').Catalogue} Catalogue */

/**
 * @typedef {object} ChainSample
 * @property {number} gradA    ∂L/∂a
 * @property {number} dadz     ∂a/∂z (NaN for a softmax output)
 * @property {number} aSource  ∂z/∂w: the source's activation (1 for a bias)
 * @property {number} delta    ∂L/∂z
 * @property {number} product  ∂L/∂a · ∂a/∂z · a_source, or ∂L/∂z · a_source when ∂a/∂z is NaN
 */

/**
 * @typedef {object} ChainNumbers
 * @property {ChainSample[]} perSample  one entry per sample of the selection
 * @property {number} sum       Σ_b ∂L/∂z · a_source over the samples shown (NaN without samples)
 * @property {number} absSum    Σ_b |∂L/∂z · a_source|: the scale for comparing `sum` with `reported`
 * @property {number} reported  the server's gradient ∂L/∂θ (selection.gradient)
 */

/**
 * The chain rule's arithmetic for a selection: per batch point the product of the three
 * factors, and the sum over the points shown. Since the loss is the batch mean, ∂L/∂a
 * (and so ∂L/∂z) already contains 1/B, and the sum over all B points is the gradient.
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

// ------------------------------------------------------------------ HTML helpers

/** @param {string} text */
function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A number span; `signed` adds a leading sign to positives.
 * @param {number} x @param {{digits?: number, signed?: boolean, paren?: boolean}} [options]
 */
function num(x, options = {}) {
  const digits = options.digits ?? 4;
  const text = options.signed ? formatSigned(x, digits) : formatNumber(x, digits);
  const sign = Number.isFinite(x) && x !== 0 ? (x < 0 ? ' neg' : ' pos') : '';
  const body = `<span class="num${sign}">${text}</span>`;
  return options.paren ? `(${body})` : body;
}

/**
 * ` data-testid="inspector-<id>" data-value="<raw number>"` for tests that read the exact
 * value behind a formatted number ('' without an id).
 * @param {string} [id] @param {number} [raw]
 */
function testId(id, raw) {
  if (!id) return '';
  return ` data-testid="inspector-${id}"${raw === undefined ? '' : ` data-value="${String(raw)}"`}`;
}

/** @param {string} text */
const pending = (text) => `<span class="insp-pending">${escapeHtml(text)}</span>`;

/** ∂top/∂bottom with italic letters. @param {string} top @param {string} bottom */
const dd = (top, bottom) => `∂<i>${top}</i>/∂<i>${bottom}</i>`;

const A_SOURCE = '<i>a</i><sub>source</sub>';
const ETA = '<i>η</i>';

/** @param {string} html */
const math = (html) => `<span class="math">${html}</span>`;

/**
 * A feature name as math HTML: x1 → x₁, x1_squared → x₁², x1_times_x2 → x₁x₂, sin_x1 → sin x₁.
 * @param {string} name
 */
export function featureHtml(name) {
  /** @param {string} axis */
  const x = (axis) => `<i>x</i><sub>${axis}</sub>`;
  const match = /^(?:(sin|cos)_)?x([12])(?:_(squared)|_times_x([12]))?$/.exec(name);
  if (!match) return escapeHtml(name);
  const [, fn, axis, squared, other] = match;
  let html = x(axis);
  if (squared) html += '<sup>2</sup>';
  if (other) html += x(other);
  if (fn) html = `${fn} ${html}`;
  return math(html);
}

/** Single-letter variables of the catalogue's formulas, set in italics. */
const VARIABLE = /(?<![A-Za-z])([abwyzBL])(?![A-Za-z])/g;

/**
 * A catalogue formula (plain text such as "1 − a²") as HTML with italic variables.
 * @param {string} text @returns {string}
 */
export function formulaHtml(text) {
  return escapeHtml(text).replace(VARIABLE, '<i>$1</i>');
}

/**
 * @param {number} layer @param {number} neuron @param {number} layers @param {number} outputs
 * @param {boolean} [withArticle]
 */
function neuronName(layer, neuron, layers, outputs, withArticle = true) {
  if (layer === layers - 1) {
    if (outputs === 1) return withArticle ? 'the output neuron' : 'output neuron';
    return `output neuron ${neuron + 1}`;
  }
  return `neuron ${neuron + 1} of hidden layer ${layer + 1}`;
}

// ------------------------------------------------------------------------ render

/** Last HTML written per element, to skip identical updates. */
/** @type {WeakMap<HTMLElement, string>} */
const lastHtml = new WeakMap();

/**
 * Fill `element` with the inspector for store.frame.selection.
 * @param {HTMLElement} element
 * @param {{frame?: Frame | null, config?: any, data?: any, options?: Catalogue | null}} store
 */
export function renderInspector(element, store) {
  const frame = store.frame ?? null;
  const selection = frame?.selection ?? null;
  let html;
  if (!frame || !selection) {
    html = '<div class="insp"><p class="insp-hint">Click a weight (edge) or a neuron to see how its '
      + 'gradient is computed.</p></div>';
  } else {
    const open = element.querySelector('details.insp-details')?.hasAttribute('open') ?? false;
    html = inspectorHtml(frame, selection, store.config, store.options ?? null, open);
  }
  if (lastHtml.get(element) === html) return;
  lastHtml.set(element, html);
  element.innerHTML = html;
}

/**
 * @param {Frame} frame @param {FrameSelection} sel @param {any} config
 * @param {Catalogue | null} catalogue  GET /api/options
 * @param {boolean} detailsOpen
 * @returns {string}
 */
function inspectorHtml(frame, sel, config, catalogue, detailsOpen) {
  const layers = frame.layers.length;
  const outputs = frame.layerSizes[frame.layerSizes.length - 1] ?? 1;
  const isOutput = sel.layer === layers - 1;
  const isEdge = sel.kind === 'edge';
  const w = isEdge ? 'w' : 'b';
  const features = /** @type {string[]} */ (config?.network?.features ?? []);
  const activation = activationNameOf(catalogue, config, sel.layer, layers);
  const diverged = frame.diverged;
  const B = frame.batchSize;
  const samples = sel.samples;
  const first = samples[0];
  const numbers = chainRuleNumbers(sel);
  /** the phase that fills ∂L/∂a and ∂L/∂z of this layer */
  const deltaPhase = isOutput ? 'loss' : 'backward';
  /** @param {string} phase */
  const later = (phase) => pending(diverged ? 'not available: the run diverged' : `computed in the ${phase} phase`);

  // ---- title
  const source = sel.source ?? 0;
  const sourceName = sel.layer === 0
    ? (features[source] !== undefined ? featureHtml(features[source]) : `input ${source + 1}`)
    : `neuron ${source + 1} of hidden layer ${sel.layer}`;
  const title = isEdge
    ? `Weight ${math('<i>w</i>')} from ${sourceName} → ${neuronName(sel.layer, sel.neuron, layers, outputs, false)}`
    : `Bias ${math('<i>b</i>')} of ${isOutput ? neuronName(sel.layer, sel.neuron, layers, outputs)
      : `neuron ${sel.neuron + 1}, hidden layer ${sel.layer + 1}`}`;

  // ---- value chips
  /** @param {string} label @param {string} value @param {string} [id] @param {number} [raw] */
  const chip = (label, value, id, raw) => `<span class="insp-chip"${testId(id, raw)}>${math(label)} = ${value}</span>`;
  const chips = [
    chip(`<i>${w}</i>`, num(sel.weight), 'weight', sel.weight),
    chip(dd('L', w), Number.isFinite(sel.gradient) ? num(sel.gradient) : later('backward'), 'gradient', sel.gradient),
    chip(`Δ<i>${w}</i>`, Number.isFinite(sel.update) ? num(sel.update, { signed: true }) : later('update'),
      'update', sel.update),
    chip(ETA, num(frame.learningRate, { digits: 3 }), 'learning-rate', frame.learningRate),
  ];
  if (B > 0) chips.push(chip('<i>B</i>', `<span class="num">${B}</span>`, 'batch-size', B));

  const parts = [
    `<div class="insp-title">${title}</div>`,
    `<div class="insp-values">${chips.join('')}</div>`,
  ];

  // ---- the chain rule for one batch point
  const softmax = first !== undefined && !Number.isFinite(first.dadz) && Number.isFinite(first.delta);
  const dzdw = isEdge ? dd('z', 'w') : dd('z', 'b');
  const symbolic = softmax
    ? `${dd('L', w)} = ${dd('L', 'z')} · ${dzdw}`
    : `${dd('L', w)} = ${dd('L', 'a')} · ${dd('a', 'z')} · ${dzdw}`;
  const chain = [`<div class="insp-label">Chain rule for batch point 1</div>`,
    `<div class="insp-eq">${math(symbolic)}</div>`];
  if (first === undefined) {
    chain.push(`<div class="insp-eq">${later('forward')}</div>`);
  } else if (!Number.isFinite(first.delta)) {
    chain.push(`<div class="insp-eq">${math(`= ${dd('L', 'a')} · ${dd('a', 'z')} · `)}`
      + `${math(num(first.aSource, { paren: true }))}</div>`);
    chain.push(`<div class="insp-note">${math(`${dd('L', 'a')}, ${dd('a', 'z')}`)}: ${later(deltaPhase)}`
      + `; ${math(`${dzdw} = ${isEdge ? A_SOURCE : '1'}`)} is known from the forward pass.</div>`);
  } else {
    const s0 = numbers.perSample[0];
    const factors = softmax
      ? `${num(s0.delta, { paren: true })} · ${num(s0.aSource, { paren: true })}`
      : `${num(s0.gradA, { paren: true })} · ${num(s0.dadz, { paren: true })} · ${num(s0.aSource, { paren: true })}`;
    chain.push(`<div class="insp-eq"${testId('product', s0.product)}>${math(`= ${factors} = ${num(s0.product)}`)}</div>`);
    if (softmax) {
      const y = B > 0 ? first.a - B * first.delta : NaN;
      const yText = Number.isFinite(y) && Math.abs(y - Math.round(y)) < 1e-3 ? String(Math.round(y)) : formatNumber(y, 3);
      const fraction = B > 0
        ? ` = (${num(first.a)} ${MINUS} ${yText}) / ${B}`
        : '';
      chain.push(`<div class="insp-note">Softmax with cross-entropy: ${math(`${dd('L', 'z')} = (<i>a</i> ${MINUS} <i>y</i>) / <i>B</i>${fraction}`)}`
        + ' directly; softmax has no elementwise ∂a/∂z, so that factor is skipped.</div>');
    } else {
      const entry = isOutput ? undefined : activationEntry(catalogue, activation);
      const loss = isOutput ? lossOf(catalogue, config) : undefined;
      const derivative = formulaHtml(rightHandSide(entry?.derivative ?? loss?.output_derivative));
      const activationTitle = entry?.title ?? activation;
      const activationText = `${math(`${dd('a', 'z')} = ${escapeHtml(activationTitle)}′(<i>z</i>)`
        + `${derivative ? ` = ${derivative}` : ''}`)} at ${math(`<i>z</i> = ${num(first.z)}`)}`;
      const sourceText = isEdge
        ? `${math(`${dzdw} = ${A_SOURCE}`)}${sel.layer === 0 ? `, the value of ${sourceName} at this point` : `, the activation of ${sourceName}`}`
        : math(`${dzdw} = 1`);
      chain.push(`<div class="insp-note">${activationText}; ${sourceText}.</div>`);
    }
  }
  parts.push(`<div class="insp-section">${chain.join('')}</div>`);

  // ---- summed over the batch
  const sum = [];
  const term = softmax ? `${dd('L', 'z')} · ${isEdge ? A_SOURCE : '1'}` : `${dd('L', 'a')} · ${dd('a', 'z')} · ${isEdge ? A_SOURCE : '1'}`;
  const total = B > 0 ? B : samples.length;
  const complete = samples.length > 0 && samples.length >= total;
  sum.push(`<div class="insp-label">Summed over the batch</div>`);
  sum.push(`<div class="insp-note">The loss is the mean over the ${math(`<i>B</i> = ${total}`)} points, `
    + `so every ${math(dd('L', 'a'))} already carries the factor 1/${math('<i>B</i>')}.</div>`);
  if (samples.length === 0 || !Number.isFinite(numbers.sum)) {
    sum.push(`<div class="insp-eq">${math(`${dd('L', w)} = Σ<sub><i>b</i></sub> ${term}`)} = `
      + `${later(samples.length === 0 ? 'forward' : deltaPhase)}</div>`);
  } else {
    const penalty = penaltyTerm(config, sel, isEdge);
    const shown = complete ? '' : ` <span class="insp-warn">(first ${samples.length} of ${total} points shown)</span>`;
    sum.push(`<div class="insp-eq"${testId('sum', numbers.sum)}>${math(`${dd('L', w)} = Σ<sub><i>b</i></sub> ${term}`)}`
      + `${complete ? ` = ${math(num(numbers.sum))}` : ''}${shown}</div>`);
    if (!complete) {
      sum.push(`<div class="insp-eq">${math(`partial sum = ${num(numbers.sum)}`)}; the full sum is the `
        + `reported gradient ${Number.isFinite(sel.gradient) ? math(num(sel.gradient)) : later('backward')}</div>`);
    } else if (!Number.isFinite(sel.gradient)) {
      sum.push(`<div class="insp-note">The reported ${math(dd('L', w))}: ${later('backward')}.</div>`);
    } else if (penalty) {
      const withPenalty = numbers.sum + penalty.value;
      const ok = sumMatches(withPenalty, sel.gradient, numbers.absSum + Math.abs(penalty.value));
      sum.push(`<div class="insp-eq">${math(`+ ${penalty.html} = ${num(numbers.sum)} + ${num(penalty.value, { paren: true })}`
        + ` = ${num(withPenalty)}`)}${ok ? ' <span class="insp-ok">✓</span> reported gradient'
        : ` (reported ${math(num(sel.gradient))})`}</div>`);
    } else {
      const ok = sumMatches(numbers.sum, sel.gradient, numbers.absSum);
      sum.push(`<div class="insp-eq">${ok ? `<span class="insp-ok">✓</span> equals the reported gradient ${math(num(sel.gradient))}`
        : `reported gradient: ${math(num(sel.gradient))}`}</div>`);
    }
  }
  parts.push(`<div class="insp-section">${sum.join('')}</div>`);

  // ---- the update
  const optimizer = /** @type {string} */ (config?.hyper?.optimizer ?? 'sgd');
  const eta = frame.learningRate;
  const g = sel.gradient;
  const sgdChange = -eta * g;
  const upd = [`<div class="insp-label">Update</div>`,
    `<div class="insp-eq">${math(`<i>${w}</i> ← <i>${w}</i> ${MINUS} ${ETA} · ${dd('L', w)}`)}</div>`];
  if (Number.isFinite(sel.update)) {
    const before = sel.weight - sel.update;
    if (optimizer === 'sgd') {
      upd.push(`<div class="insp-eq">${math(`= ${num(before)} ${MINUS} ${num(eta, { digits: 3 })} · ${num(g, { paren: true })}`
        + ` = ${num(before)} ${sel.update < 0 ? MINUS : '+'} ${num(Math.abs(sel.update))} = ${num(sel.weight)}`)}</div>`);
    } else {
      const name = optimizer === 'adam' ? 'Adam' : 'momentum';
      upd.push(`<div class="insp-eq">${math(`plain SGD: ${MINUS}${ETA} · ${dd('L', w)} = ${num(sgdChange, { signed: true })}`)}</div>`);
      upd.push(`<div class="insp-eq">${math(`${name} applied Δ<i>${w}</i> = ${num(sel.update, { signed: true })}: `
        + `<i>${w}</i> = ${num(before)} ${sel.update < 0 ? MINUS : '+'} ${num(Math.abs(sel.update))} = ${num(sel.weight)}`)}</div>`);
      upd.push(`<div class="insp-note insp-warn">The ${name} optimizer's change is not ${MINUS}η·g: `
        + `${optimizer === 'adam' ? 'it divides running averages of the gradient by their scale' : 'it adds a running average of past steps'}.</div>`);
    }
  } else if (Number.isFinite(g)) {
    const verb = optimizer === 'sgd' ? 'will apply' : 'would apply';
    upd.push(`<div class="insp-eq">${math(`Δ<i>${w}</i>`)}: ${later('update')}; `
      + `plain SGD ${verb} ${math(`${MINUS}${ETA} · ${dd('L', w)} = ${num(sgdChange, { signed: true })}`)}</div>`);
  } else {
    upd.push(`<div class="insp-eq">${math(`Δ<i>${w}</i>`)}: ${later('update')}</div>`);
  }
  parts.push(`<div class="insp-section">${upd.join('')}</div>`);

  // ---- every point shown, as a table
  if (samples.length > 1) {
    const head = softmax
      ? ['#', A_SOURCE, dd('L', 'z'), 'product']
      : ['#', A_SOURCE, dd('L', 'a'), dd('a', 'z'), dd('L', 'z'), 'product'];
    const rows = numbers.perSample.map((s, i) => {
      const cells = softmax
        ? [String(i + 1), num(s.aSource), num(s.delta), num(s.product)]
        : [String(i + 1), num(s.aSource), num(s.gradA), num(s.dadz), num(s.delta), num(s.product)];
      return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
    }).join('');
    parts.push(`<details class="insp-details"${detailsOpen ? ' open' : ''}><summary>All ${samples.length} points`
      + `${complete ? '' : ` (of ${total})`}</summary><table class="insp-table"><thead><tr>`
      + `${head.map((h) => `<th>${math(h)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table></details>`);
  }
  return `<div class="insp">${parts.join('')}</div>`;
}

/**
 * The regularization part of a weight's gradient (biases are never penalized), computed at
 * the weight's value before this step's update.
 * @param {any} config @param {FrameSelection} sel @param {boolean} isEdge
 * @returns {{value: number, html: string} | null}
 */
function penaltyTerm(config, sel, isEdge) {
  const kind = config?.hyper?.regularization;
  const rate = Number(config?.hyper?.regularization_rate ?? 0);
  if (!isEdge || !(rate > 0) || (kind !== 'l1' && kind !== 'l2')) return null;
  const before = Number.isFinite(sel.update) ? sel.weight - sel.update : sel.weight;
  if (kind === 'l2') return { value: rate * before, html: '<i>λ</i>·<i>w</i>' };
  return { value: rate * Math.sign(before), html: '<i>λ</i>·sign(<i>w</i>)' };
}
