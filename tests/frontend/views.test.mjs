// Pure-function tests for the views: number formatting, axis tick labels and the inspector's
// chain-rule arithmetic (the charts' helpers: charts.test.mjs). No DOM and no frame fixtures needed:
//   node --test tests/frontend/views.test.mjs
// (also run by `node --test tests/frontend/` and by tests/frontend/test_views_js.py).
import test from 'node:test';
import assert from 'node:assert/strict';

import {
  MINUS, formatNumber, formatSigned, formatPercent, formatTick, formatLogTick, superscript, stepDecimals, softHyphens,
} from '../../frontend/render/format.js';
import { chainRuleNumbers, sumMatches, featureHtml } from '../../frontend/render/inspector.js';

test('formatNumber: compact, real minus sign, NaN and infinities', () => {
  assert.equal(formatNumber(NaN), '—');
  assert.equal(formatNumber(null), '—');
  assert.equal(formatNumber(undefined), '—');
  assert.equal(formatNumber(Infinity), '∞');
  assert.equal(formatNumber(-Infinity), `${MINUS}∞`);
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(-0), '0');
  assert.equal(formatNumber(0.123456), '0.123');
  assert.equal(formatNumber(-0.5), `${MINUS}0.5`);
  assert.equal(formatNumber(1), '1');
  assert.equal(formatNumber(12.345), '12.3');
  assert.equal(formatNumber(1234.5), '1235');
  assert.equal(formatNumber(99999), '99999');
  assert.equal(formatNumber(999.96), '1000');  // rounding must not produce '1.00e+3'
  assert.equal(formatNumber(0.001), '0.001');
  assert.equal(formatNumber(0.0000123), `1.23e${MINUS}5`);
  assert.equal(formatNumber(-0.000012), `${MINUS}1.2e${MINUS}5`);
  assert.equal(formatNumber(2.5e7), '2.5e7');
  assert.equal(formatNumber(1e5), '1e5');
  assert.equal(formatNumber(0.123456, 5), '0.12346');
  assert.equal(formatNumber(0.03218, 4), '0.03218');
  assert.ok(!formatNumber(-3.2).includes('-'), 'uses U+2212, never a hyphen');
});

test('formatSigned always shows a sign', () => {
  assert.equal(formatSigned(0.25), '+0.25');
  assert.equal(formatSigned(-0.25), `${MINUS}0.25`);
  assert.equal(formatSigned(0), '+0');
  assert.equal(formatSigned(Infinity), '+∞');
  assert.equal(formatSigned(-Infinity), `${MINUS}∞`);
  assert.equal(formatSigned(NaN), '—');
  assert.equal(formatSigned(3e-7), `+3e${MINUS}7`);
});

test('formatPercent, superscript, formatTick, formatLogTick', () => {
  assert.equal(formatPercent(0.9734), '97.3\u202f%');
  assert.equal(formatPercent(NaN), '—');
  assert.equal(superscript(-3), '⁻³');
  assert.equal(superscript(12), '¹²');
  assert.equal(formatTick(0.30000000000000004, 0.1), '0.3');
  assert.equal(formatTick(-2, 1), `${MINUS}2`);
  assert.equal(formatTick(0.25, 0.25), '0.25');
  assert.equal(formatTick(12000, 2000), '12k');
  assert.equal(formatTick(400, 100), '400');
  assert.equal(formatLogTick(0.01), '0.01');
  assert.equal(formatLogTick(1e-5), '10⁻⁵');
  assert.equal(formatLogTick(1e6), '10⁶');
  assert.equal(formatLogTick(0.1, true), '10⁻¹');
  assert.equal(formatLogTick(5e-5), `5e${MINUS}5`);
  assert.equal(stepDecimals(0.25), 2);
  assert.equal(stepDecimals(5), 0);
});

/** A selection as decodeFrame returns it (float32 values). */
function selection(samples, gradient) {
  const f = Math.fround;
  return {
    kind: 'edge', layer: 0, source: 0, neuron: 1, weight: f(0.41), gradient: f(gradient),
    update: f(-0.03 * gradient),
    samples: samples.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, f(v)]))),
  };
}

test('softHyphens: long words of tiles may break with a hyphen, nothing else changes', () => {
  const shy = '\u00ad';
  assert.equal(softHyphens('Two Gaussians'), `Two Gauss${shy}ians`);
  assert.equal(softHyphens('Regression plane'), `Regres${shy}sion plane`);
  assert.equal(softHyphens('Multi-Gaussian'), `Multi-Gauss${shy}ian`);
  assert.deepEqual(['undershoot', 'overshoot', 'divergence'].map(softHyphens),
    [`under${shy}shoot`, `over${shy}shoot`, `diver${shy}gence`]);
  assert.deepEqual(['about right', 'flat', 'Circle', '3-class spiral'].map(softHyphens),
    ['about right', 'flat', 'Circle', '3-class spiral']);
});

test('chainRuleNumbers: per-point products and their sum equal the gradient', () => {
  const B = 4;
  const points = [[0.5, 1.2], [-1.5, 0.3], [2.0, -0.7], [0.25, 0.9]].map(([aSource, g]) => {
    const a = Math.tanh(0.3 * aSource);
    const dadz = 1 - a * a;
    const gradA = g / B;
    return { aSource, z: 0.3 * aSource, a, gradA, dadz, delta: gradA * dadz };
  });
  const exact = points.reduce((s, p) => s + p.delta * p.aSource, 0);
  const sel = selection(points, exact);
  const numbers = chainRuleNumbers(sel);
  assert.equal(numbers.perSample.length, 4);
  assert.equal(numbers.reported, sel.gradient);
  numbers.perSample.forEach((s, i) => {
    const p = sel.samples[i];
    assert.equal(s.gradA, p.gradA);
    assert.equal(s.dadz, p.dadz);
    assert.equal(s.aSource, p.aSource);
    assert.ok(Math.abs(s.product - p.gradA * p.dadz * p.aSource) < 1e-12);
  });
  assert.ok(Math.abs(numbers.sum - exact) < 1e-6 * numbers.absSum);
  assert.ok(sumMatches(numbers.sum, numbers.reported, numbers.absSum));
  assert.ok(!sumMatches(numbers.sum + 0.01, numbers.reported, numbers.absSum));
});

test('chainRuleNumbers: softmax output (da/dz NaN) uses delta = dL/dz directly', () => {
  const sel = selection([{ aSource: 0.8, z: 1, a: 0.7, gradA: -0.1, dadz: NaN, delta: -0.03 }], -0.024);
  const { perSample, sum } = chainRuleNumbers(sel);
  assert.ok(Number.isNaN(perSample[0].dadz));
  assert.ok(Math.abs(perSample[0].product - Math.fround(-0.03) * Math.fround(0.8)) < 1e-12);
  assert.ok(Math.abs(sum - perSample[0].product) < 1e-12);
});

test('chainRuleNumbers: phases not run yet and empty selections give NaN, not zeros', () => {
  const early = selection([{ aSource: 1, z: 0.2, a: 0.19, gradA: NaN, dadz: NaN, delta: NaN }], NaN);
  const numbers = chainRuleNumbers(early);
  assert.ok(Number.isNaN(numbers.sum));
  assert.ok(Number.isNaN(numbers.reported));
  assert.ok(Number.isNaN(numbers.perSample[0].product));
  const none = chainRuleNumbers({ ...early, samples: [] });
  assert.deepEqual(none.perSample, []);
  assert.ok(Number.isNaN(none.sum));
  assert.ok(Number.isNaN(chainRuleNumbers(null).reported));
});

test('featureHtml names features as math', () => {
  assert.match(featureHtml('x1'), /<i>x<\/i><sub>1<\/sub>/);
  assert.match(featureHtml('x2_squared'), /<sub>2<\/sub><sup>2<\/sup>/);
  assert.match(featureHtml('x1_times_x2'), /<sub>1<\/sub><i>x<\/i><sub>2<\/sub>/);
  assert.match(featureHtml('sin_x1'), /sin <i>x<\/i>/);
  assert.equal(featureHtml('<b>'), '&#60;b&#62;');
});
