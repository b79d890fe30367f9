// Run through pytest (python3 -m pytest tests/frontend), which writes the server's catalogue
// (GET /api/options) into FRAME_FIXTURES: the limits below are the server's own.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { addPoint, erasePoint, parseCsv } from '../../frontend/custom_data.js';

const FIXTURES = process.env.FRAME_FIXTURES;
const limits = FIXTURES
  ? JSON.parse(readFileSync(join(FIXTURES, 'options.json'), 'utf8')).limits
  : { custom_points: [1, 2000], coordinate: [-6, 6], regression_target: [-10, 10] };
const binary = { problem: 'binary', nClasses: 2, limits };
const regression = { problem: 'regression', nClasses: 1, limits };

test('the served limits are the ones these cases were written for', () => {
  assert.ok(FIXTURES, 'FRAME_FIXTURES is not set: run through pytest tests/frontend');
  assert.deepEqual([limits.custom_points[1], limits.coordinate, limits.regression_target],
    [2000, [-6, 6], [-10, 10]]);
});

test('a good CSV file loads every row', () => {
  const parsed = parseCsv('x1,x2,label\n1,2,0\n-3.5,4,1\n', binary);
  assert.deepEqual(parsed.errors, []);
  assert.deepEqual(parsed.points, [[1, 2, 0], [-3.5, 4, 1]]);
});

test('each kind of bad row is reported with its row number and nothing is loaded', () => {
  const text = 'x1,x2,label\n1,2,0\nabc,2,1\n9,0,1\n1,1,3\n1,2\n0,0,1\n';
  const parsed = parseCsv(text, binary);
  assert.deepEqual(parsed.points, []);
  assert.equal(parsed.errors.length, 4);
  assert.match(parsed.errors[0], /^row 3: x1 “abc” is not a number/);
  assert.match(parsed.errors[1], /^row 4: x1 and x2 must lie/);
  assert.match(parsed.errors[2], /^row 5: label 3 is not a class/);
  assert.match(parsed.errors[3], /^row 6: expected 3 values/);
});

test('a missing header, an empty file and too many points are refused', () => {
  assert.match(parseCsv('1,2,0\n', binary).errors[0], /header/);
  assert.match(parseCsv('x1,x2,label\n', binary).errors[0], /no points/);
  const many = `x1,x2,label\n${'0,0,1\n'.repeat(limits.custom_points[1] + 1)}`;
  assert.match(parseCsv(many, binary).errors[0], /too many points/);
});

test('regression targets may be any value from -10 to 10', () => {
  const parsed = parseCsv('x1,x2,label\n0,0,0.25\n1,1,-9.5\n', regression);
  assert.deepEqual(parsed.points, [[0, 0, 0.25], [1, 1, -9.5]]);
  assert.match(parseCsv('x1,x2,label\n0,0,11\n', regression).errors[0], /between/);
});

test('clicks add a point (rounded, kept in the plane) and erase the nearest one', () => {
  const added = addPoint([[1, 1, 0]], 2.3456, 9, 1, limits);
  assert.deepEqual(added, [[1, 1, 0], [2.35, 6, 1]]);
  assert.deepEqual(erasePoint(added, 1.2, 0.9, 0.6), [[2.35, 6, 1]]);
  assert.deepEqual(erasePoint(added, -5, -5, 0.6), added);
});
