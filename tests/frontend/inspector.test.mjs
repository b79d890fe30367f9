// The inspector's, the loss panel's and the side panel's pure helpers (frontend/render/inspector/,
// render/loss_panel/, wiring/inspector.js, the loss chart's reference merge), on hand-made numbers.
// Run through pytest (tests/frontend/test_inspector_js.py), which writes the server's catalogue
// into FRAME_FIXTURES; real trainer frames are checked there too.
//   node --test tests/frontend/inspector.test.mjs
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';

import { curveAt } from '../../frontend/catalogue.js';
import { mergeByStep } from '../../frontend/render/charts.js';
import { batchShares, stripScale, stripSvg } from '../../frontend/render/inspector/batch_strip.js';
import { chainPoint } from '../../frontend/render/inspector/context.js';
import { fanIn, fanInAgrees } from '../../frontend/render/inspector/fan_in.js';
import {
  applyRule, changeAgrees, nextStepRule, ranOptimizer, ruleLines, ruleParts, withExactConstants,
} from '../../frontend/render/inspector/update_rule.js';
import { batchLossSum, lossesAgree } from '../../frontend/render/loss_panel.js';
import { curvesAt, curvesSentence } from '../../frontend/render/loss_panel/curves.js';
import { outputRange } from '../../frontend/render/loss_panel/predictions.js';
import { referenceAfterConfigure } from '../../frontend/wiring/messages.js';
import { chooseView, createSidePanel, nextView } from '../../frontend/wiring/inspector.js';

const FIXTURES = process.env.FRAME_FIXTURES;
const options = FIXTURES ? JSON.parse(readFileSync(join(FIXTURES, 'options.json'), 'utf8')) : null;
const NaNs = { momentum: NaN, beta1: NaN, beta2: NaN, epsilon: NaN, t: NaN, velocity_before: NaN, velocity: NaN,
  m_before: NaN, m: NaN, v_before: NaN, v: NaN };

test('the optimizer that ran is read from which fields of the rule record are set', () => {
  assert.equal(ranOptimizer({ learning_rate: 0.1, penalty: 0, ...NaNs }), 'sgd');
  assert.equal(ranOptimizer({ ...NaNs, learning_rate: 0.1, momentum: 0.9, velocity_before: 0, velocity: 1 }), 'momentum');
  assert.equal(ranOptimizer({ ...NaNs, learning_rate: 0.1, beta1: 0.9, t: 3, m: 0.2 }), 'adam');
});

test('SGD, momentum and Adam compute the change their rules say', () => {
  const sgd = applyRule({ ...NaNs, learning_rate: 0.5, penalty: 0 }, 0.2);
  assert.equal(sgd.change, -0.1);
  const momentum = applyRule({ ...NaNs, learning_rate: 0.1, momentum: 0.9, velocity_before: 0.5 }, 2);
  assert.ok(Math.abs(momentum.change - (0.9 * 0.5 - 0.1 * 2)) < 1e-15);
  assert.equal(momentum.values.velocity, momentum.change);
  const rule = { ...NaNs, learning_rate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, t: 2, m_before: 0.1, v_before: 0.01 };
  const adam = applyRule(rule, 0.3);
  const m = 0.9 * 0.1 + 0.1 * 0.3;
  const v = 0.999 * 0.01 + 0.001 * 0.09;
  const expected = (-0.01 * (m / (1 - 0.81))) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
  assert.ok(Math.abs(adam.change - expected) < 1e-15);
  assert.ok(Math.abs(adam.values.m - m) < 1e-15 && Math.abs(adam.values.v - v) < 1e-15);
  // Adam's first step moves every parameter by about η, whatever its gradient
  const first = applyRule({ ...rule, t: 1, m_before: 0, v_before: 0 }, -3e-4);
  assert.ok(Math.abs(first.change - 0.01) < 1e-6);
});

test('a change agrees with the applied one to float32 precision, not beyond', () => {
  const result = applyRule({ ...NaNs, learning_rate: 0.03 }, 0.1234567);
  assert.ok(changeAgrees(result, Math.fround(result.change)));
  assert.ok(!changeAgrees(result, result.change * 1.001));
  assert.ok(!changeAgrees(result, NaN));
});

test('the constants are the server\'s exact values where they round to the frame\'s float32', () => {
  const rule = { ...NaNs, learning_rate: Math.fround(0.03), beta2: Math.fround(0.999), beta1: Math.fround(0.9) };
  const exact = withExactConstants(rule, { learning_rate: 0.03, beta2: 0.999, beta1: 0.5 });
  assert.equal(exact.learning_rate, 0.03);
  assert.equal(exact.beta2, 0.999);
  assert.equal(exact.beta1, Math.fround(0.9), 'a changed β₁ is not what ran: the frame\'s is kept');
  assert.ok(Math.abs((1 - rule.beta2) - 0.001) > 1e-8, 'why: float32(0.999) is off in 1 − β₂');
});

test('the next step\'s rule reads the memory after this one', () => {
  const next = nextStepRule({ ...NaNs, t: 4, m: 0.2, v: 0.3, velocity: 0.4 });
  assert.deepEqual([next.t, next.m_before, next.v_before, next.velocity_before], [5, 0.2, 0.3, 0.4]);
});

test('the catalogue\'s rule text is split into its statements, each with its numbers', () => {
  const parts = ruleParts('t ← t + 1;  m ← β₁·m + (1 − β₁)·g;  m̂ = m / (1 − β₁ᵗ);  Δθ = −η·m̂ / (√v̂ + ε)');
  assert.deepEqual(parts.map((p) => p.lhs), ['t', 'm', 'm̂', 'Δθ']);
  const rule = { ...NaNs, learning_rate: 0.1, momentum: 0.9, velocity_before: 0.5 };
  const { html, result } = ruleLines('v ← μ·v − η·g;  Δθ = v', rule, 2, 'w', 'update');
  assert.equal(html.length, 2);
  assert.match(html[1], new RegExp(`data-testid="inspector-update" data-value="${result.change}" data-optimizer="momentum"`));
  assert.match(html[0], /0\.9/);
  assert.doesNotMatch(html.join('').replace(/<[^>]*>/g, ''), /θ/, 'θ is written as the parameter');
});

test('every optimizer of the served catalogue gets numbers for each statement of its rule', { skip: !options }, () => {
  const records = {
    sgd: { ...NaNs, learning_rate: 0.1 },
    momentum: { ...NaNs, learning_rate: 0.1, momentum: 0.9, velocity_before: 0.1, velocity: 0 },
    adam: { ...NaNs, learning_rate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, t: 3, m_before: 0.1, v_before: 0.01, m: 0 },
  };
  for (const entry of options.optimizers) {
    const { html } = ruleLines(entry.rule, records[entry.name], 0.2, 'w', 'update');
    assert.equal(html.length, ruleParts(entry.rule).length, entry.name);
    for (const line of html) assert.match(line, /rule-num/, `${entry.name}: ${line}`);
  }
});

test('the chain rule follows the focus point when it is listed, else point 1', () => {
  assert.equal(chainPoint(3, 10), 3);
  assert.equal(chainPoint(40, 32), 0);
  assert.equal(chainPoint(0, 0), 0);
});

/** @param {number[]} deltas @param {number[]} sources */
const selection = (deltas, sources, gradient) => ({
  kind: 'edge', layer: 0, source: 0, neuron: 0, weight: 1, gradient, update: NaN, rule: {},
  samples: deltas.map((delta, i) => ({ aSource: sources[i], z: 0, a: 0, gradA: NaN, dadz: NaN, delta })),
});

test('the shares add up to the reported gradient minus the penalty; dots are B × share', () => {
  const sel = selection([0.1, -0.05, 0.02], [1, 2, -1], 0.1 * 1 - 0.1 - 0.02 + 0.03);
  const batch = batchShares(/** @type {any} */ (sel), 3, 0.03);
  assert.deepEqual(batch.shares, [0.1, -0.1, -0.02]);
  assert.deepEqual(batch.own.map((g) => Math.round(g * 1e9) / 1e9), [0.3, -0.3, -0.06]);
  assert.ok(batch.agrees);
  assert.ok(Math.abs(batch.average - (0.1 - 0.1 - 0.02)) < 1e-12);
  assert.ok(!batchShares(/** @type {any} */ (sel), 3, 0).agrees, 'without the penalty the sum is not the gradient');
  assert.ok(!batchShares(/** @type {any} */ (sel), 10, 0.03).agrees, 'three of ten points listed: no claim');
});

test('the strip holds every dot, its average and 0', () => {
  const x = stripScale([-2, 3, 1], 200, 10);
  for (const v of [-2, 3, 1, 0]) assert.ok(x(v) >= 10 && x(v) <= 190, String(v));
  assert.ok(x(-2) < x(0) && x(0) < x(1) && x(1) < x(3));
  const sel = selection([0.1, -0.05], [1, 1], 0.05);
  const svg = stripSvg(batchShares(/** @type {any} */ (sel), 2, 0), 1, 300);
  assert.equal((svg.match(/class="strip-dot/g) ?? []).length, 2);
  assert.match(svg, /strip-dot focus/);
  assert.match(svg, /data-testid="inspector-strip-mean" data-value="0.05/);
});

/**
 * A frame with a 1 → 2 → 2 network, the focus point's δ given, neuron 0 of the first layer
 * selected; `fanOut`: the weights w_k0 its backward pass used (the selection's fan-out block).
 */
function fanInFrame(phase, fanOut = [0.5, 2]) {
  return /** @type {any} */ ({
    phase,
    layers: [
      { nIn: 1, nOut: 2, weights: new Float32Array([1, 1]), updateWeights: new Float32Array(2) },
      // a running frame's weights are 8-bit codes: the fan-in reads the exact fan-out block
      { nIn: 2, nOut: 2, weights: new Float32Array([0.52, -1, 1.98, 0.25]), updateWeights: new Float32Array(4).fill(NaN) },
    ],
    selection: { kind: 'neuron', layer: 0, neuron: 0, source: null, fanOut: new Float32Array(fanOut) },
    focusPoint: { delta: [new Float32Array([0.8 * (0.5 * 0.1 + 2 * -0.2), 0]), new Float32Array([0.1, -0.2])],
      z: [new Float32Array([0.3, 0])], a: [new Float32Array([0.29, 0])] },
  });
}

test('the fan-in sum f′·Σ_k w_kj δ_k gives the neuron\'s δ, with the weights the backward pass used', () => {
  const f = fanIn(fanInFrame('backward'), 0, 0, 0.8);
  assert.ok(f);
  assert.deepEqual(f.terms.map((t) => t.weight), [0.5, 2], 'the fan-out block: w_0j, w_1j');
  assert.ok(Math.abs(f.sum - (0.5 * 0.1 + 2 * -0.2)) < 1e-7);
  assert.ok(fanInAgrees(f));
  // other weights do not reproduce δ: the check is not vacuous
  assert.ok(!fanInAgrees(/** @type {any} */ (fanIn(fanInFrame('update', [0.75, 3]), 0, 0, 0.8))));
  assert.equal(fanIn({ ...fanInFrame('backward'), focusPoint: null }, 0, 0, 0.8), null);
  assert.equal(fanIn(fanInFrame('backward'), 0, 1, 0.8), null, 'neuron 1 is not the selection');
  assert.equal(fanIn(fanInFrame('backward', []), 0, 0, 0.8), null, 'no fan-out block');
});

test('curveAt interpolates the catalogue\'s curves and clamps to their ends', () => {
  const curves = { p: [0.1, 0.2, 0.3], losses: { bce: { loss: [3, 2, 1], slope: [0, 0, 0], delta: [-0.9, -0.8, -0.7] } } };
  assert.equal(curveAt(curves, 'bce', 'loss', 0.15), 2.5);
  assert.equal(curveAt(curves, 'bce', 'delta', 0.01), -0.9);
  assert.equal(curveAt(curves, 'bce', 'delta', 0.9), -0.7);
  assert.ok(Number.isNaN(curveAt(curves, 'mse', 'loss', 0.2)));
  assert.ok(Number.isNaN(curveAt(curves, 'bce', 'loss', NaN)));
});

test('the served curves: cross-entropy keeps its gradient when confidently wrong, squared error does not', { skip: !options }, () => {
  const curves = options.loss_curves;
  const wrong = curvesAt(curves, 0.03);
  assert.ok(Math.abs(wrong.bce.delta) > 0.9 && Math.abs(wrong.squared_error.delta) < 0.3);
  const unsure = curvesAt(curves, 0.4);
  assert.ok(Math.abs(unsure.squared_error.delta) > Math.abs(unsure.bce.delta), 'in the middle squared error pushes harder');
  const point = /** @type {any} */ ({ pTrue: 0.03 });
  assert.match(curvesSentence(curves, point, 4), /confidently wrong.*−0\.97.*−0\.2/s);
  assert.match(curvesSentence(curves, { ...point, pTrue: 0.4 }, 4), /not confidently/);
  assert.match(curvesSentence(curves, { ...point, pTrue: 0.9 }, 4), /right/);
});

test('the batch loss is the mean of the listed terms when every point is listed', () => {
  const batch = /** @type {any[]} */ ([{ loss: 1 }, { loss: 2 }, { loss: 0.5 }]);
  const whole = batchLossSum(batch, 3);
  assert.ok(whole.complete);
  assert.equal(whole.value, 3.5 / 3);
  assert.ok(lossesAgree(whole.value, Math.fround(3.5 / 3)));
  assert.ok(!batchLossSum(batch, 64).complete);
  assert.deepEqual(outputRange(/** @type {any} */ ([]), [0, 1]), [0, 1]);
  const [low, high] = outputRange(/** @type {any} */ ([{ output: -2, target: 3 }]), null);
  assert.ok(low < -2 && high > 3);
});

test('the reference merge puts both runs on one step axis without joining what is missing', () => {
  const history = [[0, 0, 0.7, 0.8], [2, 0, 0.5, NaN], [4, 0, 0.3, 0.4]];
  const reference = [[0, 0.9], [1, 0.85], [3, 0.6]];
  const { x, ys } = mergeByStep(history, reference, false);
  assert.deepEqual(x, [0, 1, 2, 3, 4]);
  assert.deepEqual(ys[0], [0.7, undefined, 0.5, undefined, 0.3]);
  assert.deepEqual(ys[1], [0.8, undefined, null, undefined, 0.4], 'NaN stays a gap (null)');
  assert.deepEqual(ys[2], [0.9, 0.85, undefined, 0.6, undefined]);
  assert.deepEqual(mergeByStep([[0, 0, 0, 1]], [], true).ys[0], [null], 'log scale: 0 is a gap');
});

test('switching the loss keeps the run so far as a labelled reference; another problem drops it', () => {
  const catalogue = { losses: [{ name: 'bce', title: 'sigmoid · cross-entropy' }, { name: 'squared_error', title: 'tanh · squared error' }] };
  const store = {
    options: catalogue, referenceLoss: null,
    config: { network: { problem: 'binary', loss: 'bce' } },
    history: [[0, 0, 0.7], [1, 0, 0.6], [2, 0, 0.5], [0, 0, 0.9]],  // a frame of the new run came first
  };
  const kept = referenceAfterConfigure(store, { network: { problem: 'binary', loss: 'squared_error' } });
  assert.deepEqual(kept, { label: 'previous: sigmoid · cross-entropy', rows: [[0, 0.7], [1, 0.6], [2, 0.5]] });
  assert.equal(referenceAfterConfigure({ ...store, referenceLoss: kept }, { network: { problem: 'binary', loss: 'bce' } }).label,
    'previous: sigmoid · cross-entropy', 'the same loss again (a reset): the reference there was');
  assert.equal(referenceAfterConfigure(store, { network: { problem: 'regression', loss: 'mse' } }), null);
  assert.equal(referenceAfterConfigure({ ...store, history: [[0, 0, 0.7]] }, { network: { problem: 'binary', loss: 'squared_error' } }),
    null, 'no run yet: nothing to compare with');
});

test('the side panel: a selection opens the inspector, a paused loss phase the loss panel', () => {
  const panel = createSidePanel();
  const at = (selectionKey, phase, step = 1, running = false) => nextView(panel, { selectionKey, phase, running, step });
  assert.equal(at('', null, 0), 'output');
  assert.equal(at('1:0:1', 'update'), 'inspector');
  assert.equal(at('1:0:1', 'forward', 2), 'inspector');
  assert.equal(at('1:0:1', 'loss', 2), 'loss');
  assert.equal(at('1:0:1', 'backward', 2), 'inspector', 'back to the view before the loss phase');
  assert.equal(at('', 'backward', 2), 'output', 'a cleared selection closes the inspector');
  assert.equal(at('', 'loss', 2, true), 'output', 'not while running');
  chooseView(panel, 'loss');
  assert.equal(at('', 'forward', 3), 'loss', 'a tab the user picked stays');
  assert.equal(at('', 'loss', 3), 'loss');
  assert.equal(at('', 'backward', 3), 'loss', 'it was open before the loss phase: it stays');
});

test('the side panel: a paused update phase opens the step panel, the next phase closes it', () => {
  const panel = createSidePanel();
  const at = (selectionKey, phase, step = 1, running = false) => nextView(panel, { selectionKey, phase, running, step });
  assert.equal(at('', null, 0), 'output');
  assert.equal(at('', 'loss', 1), 'loss');
  assert.equal(at('', 'backward', 1), 'output');
  assert.equal(at('', 'update', 1), 'step');
  assert.equal(at('', 'forward', 2), 'output', 'the view before the update phase comes back');
  assert.equal(at('', 'loss', 2), 'loss');
  assert.equal(at('', 'update', 2), 'step', 'loss → step: the view before both comes back after');
  assert.equal(at('', 'forward', 3), 'output');
  assert.equal(at('', 'update', 3, true), 'output', 'not while running');
  assert.equal(at('', 'update', 9), 'output', 'nor when a pause lands after a whole step');
  assert.equal(at('1:0:1', 'update', 4), 'inspector', 'a new selection wins');
  assert.equal(at('1:0:1', 'update', 5), 'inspector', 'a selected weight\'s update stays in the inspector');
});
