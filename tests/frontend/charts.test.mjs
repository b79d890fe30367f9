// The charts' pure parts (frontend/render/charts.js, uplot_chart.js, sweep.js), no DOM: the in-place history
// columns uPlot draws from, the learning-rate label rows, the sweep's label nudging, the
// layer colours and the log range.
//   node --test tests/frontend/charts.test.mjs   (also run by tests/frontend/test_views_js.py)
import test from 'node:test';
import assert from 'node:assert/strict';

import { layerColors, stackLabels } from '../../frontend/render/charts.js';
import { Columns, logRange } from '../../frontend/render/uplot_chart.js';
import { nudgeLabels } from '../../frontend/render/sweep.js';
import { usePalette } from '../../frontend/render/palette.js';

const rows = (n, from = 0) => Array.from({ length: n }, (_, i) => [from + i, 0, 1 / (i + 1), NaN]);

test('Columns grow in place: the arrays uPlot holds are extended, not copied', () => {
  const history = rows(3);
  const columns = new Columns(2);
  const [x, train, test] = columns.data;
  assert.equal(columns.sync(history, (r) => r[0], (r, k) => r[2 + k], false), true);
  history.push(...rows(2, 3));
  assert.equal(columns.sync(history, (r) => r[0], (r, k) => r[2 + k], false), true);
  assert.equal(columns.sync(history, (r) => r[0], (r, k) => r[2 + k], false), false, 'nothing new');
  assert.deepEqual(x, [0, 1, 2, 3, 4]);
  assert.equal(train.length, 5);
  assert.deepEqual(test, [null, null, null, null, null], 'NaN is a gap');
  assert.equal(columns.data[0], x, 'same array');
  assert.equal(columns.data[1], train);
});

test('Columns start over when the history is replaced or trimmed', () => {
  const columns = new Columns(1);
  const history = rows(6);
  columns.sync(history, (r) => r[0], (r) => r[2], false);
  const kept = history.filter((_, i) => i % 2 === 0);  // state.js trims in place like this
  history.length = 0;
  history.push(...kept);
  columns.sync(history, (r) => r[0], (r) => r[2], false);
  assert.deepEqual(columns.data[0], [0, 2, 4]);
  columns.sync(rows(2, 10), (r) => r[0], (r) => r[2], false);
  assert.deepEqual(columns.data[0], [10, 11], 'a new array (welcome, config) replaces the columns');
});

test('Columns on a log scale keep only positive finite values', () => {
  const columns = new Columns(1);
  const values = [0.5, 0, -1, Infinity, 1e-9];
  columns.sync(values.map((v, step) => ({ step, v })), (r) => r.step, (r) => r.v, true);
  assert.deepEqual(columns.data[1], [0.5, null, null, null, 1e-9]);
});

test('stackLabels moves a label that would overlap to the next free row', () => {
  const labels = [{ left: 0, right: 40 }, { left: 30, right: 70 }, { left: 50, right: 90 }, { left: 80, right: 120 }];
  assert.deepEqual(stackLabels(labels, 3), [0, 1, 0, 1]);
  assert.deepEqual(stackLabels(labels, 1), [0, -1, 0, -1], 'no room: the label is left out');
  assert.deepEqual(stackLabels([{ left: 0, right: 10 }, { left: 5, right: 15 }, { left: 8, right: 20 }], 3), [0, 1, 2]);
});

test('nudgeLabels keeps the sweep labels apart and inside the plot', () => {
  const size = 12;
  const wanted = [50, 52, 51, 200, 95];
  const placed = nudgeLabels(wanted, size, 0, 100);
  const sorted = [...placed].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i += 1) assert.ok(sorted[i] - sorted[i - 1] >= size - 1e-9, `${sorted}`);
  for (const y of placed) assert.ok(y >= size / 2 && y <= 100 - size / 2, `${y} inside`);
  assert.deepEqual(nudgeLabels([10, 60], size, 0, 100), [10, 60], 'far apart: where wanted');
  const order = nudgeLabels([30, 30.5, 29.5], size, 0, 100);
  assert.ok(order[2] < order[0] && order[0] < order[1], 'the order of the curves is kept');
});

test('layerColors run from light (layer 1) to dark (output)', () => {
  usePalette(false);
  const colors = layerColors(4);
  assert.equal(colors.length, 4);
  const lightness = colors.map((c) => c.match(/\d+/g).map(Number).reduce((a, b) => a + b, 0));
  for (let i = 1; i < lightness.length; i += 1) assert.ok(lightness[i] < lightness[i - 1], `${colors}`);
  assert.equal(layerColors(1).length, 1);
});

test('logRange: whole decades, at most twelve, a fallback without positive data', () => {
  assert.deepEqual(logRange(0.03, 0.7, [0.01, 1]), [0.01, 1]);
  assert.deepEqual(logRange(2e-5, 3, [0.01, 1]), [1e-5, 10]);
  assert.deepEqual(logRange(null, null, [0.001, 1]), [0.001, 1]);
  const [low, high] = logRange(1e-30, 5e3, [0.01, 1]);
  assert.equal(high, 1e4);
  assert.ok(Math.abs(Math.log10(high / low) - 12) < 1e-9, 'the top twelve decades');
});
