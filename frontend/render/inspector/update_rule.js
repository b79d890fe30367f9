// @ts-check
/**
 * The update rule that actually ran, with the server's numbers for the selected parameter
 * (frame.selection.rule: η, the penalty, the optimizer's constants and its memory before
 * and after the step), giving the applied Δθ:
 *
 *   SGD        Δθ = −η·g
 *   momentum   v ← μ·v − η·g;  Δθ = v
 *   Adam       m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  m̂ = m/(1 − β₁ᵗ);
 *              v̂ = v/(1 − β₂ᵗ);  Δθ = −η·m̂/(√v̂ + ε)
 *
 * where g is the reported gradient (the L1/L2 term included). Which optimizer ran is read
 * from the record itself: Adam's fields (m, t) or momentum's (velocity) are NaN otherwise.
 *
 * @module render/inspector/update_rule
 */

import { escapeHtml, factor, formulaHtml, heading, line, math, note, num, pending, section, testId, v } from './html.js';
import { MINUS, formatNumber, formatSigned } from '../format.js';
import { optimizerEntry } from '../../catalogue.js';

/** @typedef {'sgd' | 'momentum' | 'adam'} OptimizerName */
/** @typedef {Record<string, number>} RuleRecord  frame.selection.rule */
/** @typedef {import('./context.js').InspectorContext} InspectorContext */

/**
 * @typedef {object} RuleResult
 * @property {OptimizerName} optimizer
 * @property {Record<string, number>} values  what the rule computes on the way: velocity;
 *   m, v, the bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ, m̂, v̂ and √v̂ + ε
 * @property {number} change  Δθ
 * @property {number} scale   the size of the terms Δθ is computed from (for comparing it)
 */

/** The optimizer whose inputs a rule record holds. @param {RuleRecord} rule @returns {OptimizerName} */
export function ranOptimizer(rule) {
  if (Number.isFinite(rule.t) || Number.isFinite(rule.m)) return 'adam';
  if (Number.isFinite(rule.velocity) || Number.isFinite(rule.momentum)) return 'momentum';
  return 'sgd';
}

/** Constants the rule reads that a frame carries as float32. */
const CONSTANTS = ['learning_rate', 'momentum', 'beta1', 'beta2', 'epsilon'];

/**
 * The rule record with its constants replaced by the server's exact values (the state
 * message's hyperparameters, JSON doubles) wherever these round to the frame's float32:
 * 1 − β₂ computed from float32(0.999) is off by 1e−5.
 * @param {RuleRecord} rule @param {Record<string, any> | null | undefined} hyper
 * @returns {RuleRecord}
 */
export function withExactConstants(rule, hyper) {
  const exact = { ...rule };
  for (const name of CONSTANTS) {
    const value = hyper?.[name];
    if (typeof value === 'number' && Math.fround(value) === rule[name]) exact[name] = value;
  }
  return exact;
}

/**
 * What the rule computes for a parameter with gradient `g`.
 * @param {RuleRecord} rule @param {number} g @returns {RuleResult}
 */
export function applyRule(rule, g) {
  const eta = rule.learning_rate;
  const optimizer = ranOptimizer(rule);
  if (optimizer === 'momentum') {
    const carried = rule.momentum * rule.velocity_before;
    const velocity = carried - eta * g;
    return { optimizer, values: { velocity }, change: velocity, scale: Math.abs(carried) + Math.abs(eta * g) };
  }
  if (optimizer === 'adam') {
    const { beta1, beta2, epsilon, t } = rule;
    const m = beta1 * rule.m_before + (1 - beta1) * g;
    const second = beta2 * rule.v_before + (1 - beta2) * g * g;
    const correction1 = 1 - beta1 ** t;
    const correction2 = 1 - beta2 ** t;
    const mHat = m / correction1;
    const vHat = second / correction2;
    const denominator = Math.sqrt(vHat) + epsilon;
    const scale = (eta * (Math.abs(beta1 * rule.m_before) + Math.abs((1 - beta1) * g))) / correction1 / denominator;
    return {
      optimizer, values: { m, v: second, correction1, correction2, mHat, vHat, denominator },
      change: (-eta * mHat) / denominator, scale,
    };
  }
  return { optimizer, values: {}, change: -eta * g, scale: Math.abs(eta * g) };
}

/**
 * Whether the rule's Δθ equals the applied one to float32 precision (of its inputs).
 * @param {RuleResult} result @param {number} applied
 */
export function changeAgrees(result, applied) {
  if (!Number.isFinite(result.change) || !Number.isFinite(applied)) return false;
  return Math.abs(result.change - applied) <= 1e-5 * Math.max(result.scale, Math.abs(applied)) + 1e-15;
}

/**
 * The record as the next step will read it (mid-step: the memory after the last step is
 * the next step's "before", and Adam's t goes up by one).
 * @param {RuleRecord} rule @returns {RuleRecord}
 */
export function nextStepRule(rule) {
  return { ...rule, velocity_before: rule.velocity, m_before: rule.m, v_before: rule.v, t: rule.t + 1 };
}

// ------------------------------------------------------------------------- HTML

/**
 * The catalogue's rule text split into its statements ("m ← β₁·m + (1 − β₁)·g"), each with
 * its left-hand side ("m", "m̂", "Δθ").
 * @param {string} text @returns {{lhs: string, text: string}[]}
 */
export function ruleParts(text) {
  return text.split(';').map((part) => part.trim()).filter(Boolean)
    .map((part) => ({ lhs: /^(\S+)\s*(?:←|=)/.exec(part)?.[1] ?? '', text: part }));
}

/** The statements of each rule when the catalogue is not at hand (left-hand sides only). */
const FALLBACK_PARTS = /** @type {Record<OptimizerName, string[]>} */ ({
  sgd: ['Δθ'], momentum: ['v', 'Δθ'], adam: ['t', 'm', 'v', 'm̂', 'v̂', 'Δθ'],
});

/** "0.9" for a constant. @param {number} x */
const constant = (x) => num(x, { digits: 6 });

/**
 * The numbers of one statement of a rule and its result, by left-hand side (null: none).
 * @param {string} lhs @param {RuleRecord} rule @param {RuleResult} r @param {number} gradient
 * @returns {[string, number] | null}
 */
function statementNumbers(lhs, rule, r, gradient) {
  const g = factor(gradient, 4);
  const eta = constant(rule.learning_rate);
  const x = r.values;
  const t = `<sup>${rule.t}</sup>`;
  /** @type {Record<string, () => [string, number]>} */
  const adam = {
    t: () => [`${rule.t - 1} + 1`, rule.t],
    m: () => [`${constant(rule.beta1)}·${factor(rule.m_before)} + ${num(1 - rule.beta1, { digits: 6 })}·${g}`, x.m],
    v: () => [`${constant(rule.beta2)}·${factor(rule.v_before)} + ${num(1 - rule.beta2, { digits: 6 })}·${g}²`, x.v],
    'm̂': () => [`${num(x.m)} / (1 ${MINUS} ${constant(rule.beta1)}${t})`, x.mHat],
    'v̂': () => [`${num(x.v)} / (1 ${MINUS} ${constant(rule.beta2)}${t})`, x.vHat],
    Δθ: () => [`${MINUS}${eta}·${factor(x.mHat)} / (${num(Math.sqrt(x.vHat))} + ${num(rule.epsilon, { digits: 2 })})`, r.change],
  };
  /** @type {Record<string, () => [string, number]>} */
  const momentum = {
    v: () => [`${constant(rule.momentum)}·${factor(rule.velocity_before)} ${MINUS} ${eta}·${g}`, x.velocity],
    Δθ: () => ['', r.change],
  };
  /** @type {Record<string, () => [string, number]>} */
  const sgd = { Δθ: () => [`${MINUS}${eta}·${g}`, r.change] };
  const table = { sgd, momentum, adam }[r.optimizer];
  return table[lhs]?.() ?? null;
}

/**
 * The rule's statements from the catalogue, each with its numbers, ending in Δθ (which
 * carries the test hook `hookId`).
 * @param {string | undefined} text  the catalogue's rule @param {RuleRecord} rule @param {number} gradient
 * @param {string} p  'w' or 'b' @param {string} hookId
 * @param {(result: RuleResult) => string} [check]  HTML after Δθ's value (its check against the frame)
 * @returns {{html: string[], result: RuleResult}}
 */
export function ruleLines(text, rule, gradient, p, hookId, check = () => '') {
  const r = applyRule(rule, gradient);
  const parts = text ? ruleParts(text) : FALLBACK_PARTS[r.optimizer].map((lhs) => ({ lhs, text: lhs }));
  const html = parts.map(({ lhs, text: statement }) => {
    const numbers = statementNumbers(lhs, rule, r, gradient);
    const formula = formulaHtml(statement.replace(/θ/g, p));
    const hook = lhs === 'Δθ' ? testId(hookId, r.change, { optimizer: r.optimizer }) : '';
    const middle = numbers?.[0] ? `= ${numbers[0]} ` : '';
    const after = lhs === 'Δθ' ? check(r) : '';
    const tail = numbers ? ` <span class="rule-num">${middle}= ${num(numbers[1], { signed: lhs === 'Δθ' })}${after}</span>` : '';
    return line(math(`<span class="rule-formula">${formula}</span>${tail}`), `${hook} data-rule-line="${escapeHtml(lhs)}"`);
  });
  return { html, result: r };
}

/**
 * @typedef {object} UpdateInput  what the update section shows
 * @property {RuleRecord} rule  the rule record that ran (verified against the applied Δθ), or the frame's
 * @property {'ran' | 'stale' | 'mismatch' | 'pending'} state  ran: the frame's record
 *   reproduces Δθ; stale: the frame's record changed after the step (a live change of the
 *   optimizer or η), the one that ran is shown from memory; mismatch: neither reproduces it;
 *   pending: no update in this step yet
 * @property {number} gradient  g of the step the rule ran on
 * @property {number} applied   Δθ of the frame (NaN before the update phase)
 * @property {number} weight    θ after the step
 */

/** The optimizer in use now, and from which step, if it is not the one that ran. @param {InspectorContext} ctx @param {string} ran */
function inUseNote(ctx, ran) {
  const now = ctx.hyper?.optimizer;
  if (!now || now === ran) return '';
  const title = optimizerEntry(ctx.catalogue, now)?.title ?? now;
  return note(`<b>${escapeHtml(title)}</b> is in use from step ${ctx.frame.step + 1}: it takes over with empty memory at the next step.`);
}

/**
 * The update section.
 * @param {InspectorContext} ctx @param {UpdateInput} input @returns {string}
 */
export function updateHtml(ctx, input) {
  const { param: p, frame } = ctx;
  if (input.state === 'pending') return pendingHtml(ctx, input);
  const ran = ranOptimizer(input.rule);
  const entry = optimizerEntry(ctx.catalogue, ran);
  const parts = [heading(`Update · ${escapeHtml(entry?.title ?? ran)}, the rule that ran in step ${frame.step}`)];
  if (ran === 'adam' && !(input.rule.t >= 1)) {
    parts.push(gradientLine(ctx, input));
    parts.push(note(`Adam has not run on this parameter yet (${math(`${v('t')} = 0`)}): the applied Δ${v(p)} = `
      + `${num(input.applied, { signed: true })} came from the optimizer before it.`));
    parts.push(inUseNote(ctx, ran));
    return section('update', parts);
  }
  /** ✓ (or ≠) the frame's Δθ, after the rule's. @param {RuleResult} result */
  const check = (result) => {
    const agrees = changeAgrees(result, input.applied);
    const words = `the applied Δ${p} = ${formatSigned(input.applied, 4)}: ${p} ${formatNumber(input.weight - input.applied, 4)} → ${formatNumber(input.weight, 4)}`;
    return ` <span${testId('applied-check', input.applied, { agrees })} title="${escapeHtml(words)}">`
      + `${agrees ? '<span class="insp-ok">✓</span> <span class="insp-aside">applied</span>' : '<span class="insp-warn">≠ applied</span>'}`
      + `&nbsp;${num(input.applied, { signed: true })}</span>`;
  };
  const { html, result } = ruleLines(entry?.rule, input.rule, input.gradient, p, 'update', check);
  parts.push(...pairFirst(gradientLine(ctx, input), html, result.optimizer));
  if (input.state === 'stale') parts.push(note('The settings changed after this step ran; shown is the rule as it ran.'));
  if (input.state === 'mismatch') {
    parts.push(note('These are the settings for the next step: the applied change came from the settings before the change.'));
  }
  parts.push(inUseNote(ctx, ran));
  return section('update', parts);
}

/**
 * The g line, with Adam's short first statement (t ← t + 1) beside it.
 * @param {string} g @param {string[]} lines @param {OptimizerName} optimizer
 */
function pairFirst(g, lines, optimizer) {
  if (optimizer !== 'adam' || lines.length < 2) return [g, ...lines];
  return [`<div class="insp-pair">${g}${lines[0]}</div>`, ...lines.slice(1)];
}

/** g, the gradient the rule reads. @param {InspectorContext} ctx @param {UpdateInput} input */
function gradientLine(ctx, input) {
  const penalty = input.rule.penalty;
  const named = Number.isFinite(penalty) && penalty !== 0 ? ` + ${ctx.hyper?.regularization === 'l1' ? 'λ·sign(w)' : 'λ·w'}` : '';
  return line(math(`${v('g')} = ${`∂${v('L')}/∂${v(ctx.param)}`}${named} = ${num(input.gradient)}`));
}

/** Before the update phase: the rule in use, and what it will apply once g is known. @param {InspectorContext} ctx @param {UpdateInput} input */
function pendingHtml(ctx, input) {
  const name = ctx.hyper?.optimizer ?? ranOptimizer(input.rule);
  const entry = optimizerEntry(ctx.catalogue, name);
  const parts = [heading(`Update · ${escapeHtml(entry?.title ?? name)}, in the update phase`)];
  if (!Number.isFinite(input.gradient)) {
    if (entry) parts.push(note(math(formulaHtml(entry.rule.replace(/θ/g, ctx.param)))));
    parts.push(line(`${math(`Δ${v(ctx.param)}`)}: ${ctx.later('update')}`));
    return section('update', parts);
  }
  if (ranOptimizer(input.rule) === name) {
    const { html, result } = ruleLines(entry?.rule, nextStepRule(input.rule), input.gradient, ctx.param, 'update-preview',
      () => ` ${pending('will be applied in the update phase')}`);
    parts.push(...pairFirst(gradientLine(ctx, input), html, result.optimizer));
  } else {
    parts.push(gradientLine(ctx, input), line(`${math(`Δ${v(ctx.param)}`)}: ${ctx.later('update')}`));
  }
  return section('update', parts);
}
