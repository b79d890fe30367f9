// The sweep tiles' verdict over recent steps (frontend/render/verdict_tally.js).
import assert from 'node:assert/strict';
import test from 'node:test';

import { RECENT, VerdictTally } from '../../frontend/render/verdict_tally.js';

const [UNDER, RIGHT, OVER] = [0, 1, 2];

test('a run reads the verdict most of its recent steps had, not its last one', () => {
  const tally = new VerdictTally();
  [OVER, OVER, RIGHT, OVER, RIGHT].forEach((verdict, step) => tally.add('0.3,3', step + 1, [UNDER, verdict]));
  assert.deepEqual(tally.common(1), { verdict: OVER, count: 3, counted: 5 });
  assert.deepEqual(tally.common(0), { verdict: UNDER, count: 5, counted: 5 });
});

test('each step counts once, a tie goes to the latest, and only the last RECENT count', () => {
  const tally = new VerdictTally();
  tally.add('k', 1, [OVER]);
  tally.add('k', 1, [OVER]);  // the same frame drawn again
  tally.add('k', 2, [RIGHT]);
  assert.deepEqual(tally.common(0), { verdict: RIGHT, count: 1, counted: 2 });
  for (let step = 3; step < 3 + RECENT; step += 1) tally.add('k', step, [UNDER]);
  assert.deepEqual(tally.common(0), { verdict: UNDER, count: RECENT, counted: RECENT });
});

test('no verdict yet (NaN) counts nothing; another sweep or an earlier step starts afresh', () => {
  const tally = new VerdictTally();
  tally.add('a', 5, [NaN, OVER]);
  assert.equal(tally.common(0), null);
  tally.add('b', 6, [RIGHT, RIGHT]);
  assert.deepEqual(tally.common(1), { verdict: RIGHT, count: 1, counted: 1 });
  tally.add('b', 2, [UNDER, UNDER]);  // a reset run
  assert.deepEqual(tally.common(0), { verdict: UNDER, count: 1, counted: 1 });
});
