// How many frames a second the page asks for (frontend/frame_pace.js).
//   node --test tests/frontend/frame_pace.test.mjs   (also run by test_frame_pace_js.py)
import test from 'node:test';
import assert from 'node:assert/strict';

import { HOLD, LEAST, LONGEST_HOLD, STEP_DOWN, UNPACED, nextPace } from '../../frontend/frame_pace.js';

/** A pace asked for a while ago, with no figures at it yet. @param {number | null} pace */
const at = (pace) => ({ pace, calm: HOLD, since: { seconds: 0, received: 0, rendered: 0 }, hold: HOLD,
  probing: false });

test('a page that draws 10 of 24 frames comes down to 10, by STEP_DOWN at a time', () => {
  let pace = nextPace(UNPACED, 30, 10, 1, 60);
  assert.equal(pace.pace, Math.floor(30 * STEP_DOWN));
  pace = nextPace(pace, pace.pace ?? 0, 10, 1, 60);
  assert.equal(pace.pace, 10);
  assert.equal(nextPace(UNPACED, 24, 10, 1, 60).pace, 12);
  assert.equal(nextPace(at(30), 12, 9, 0.5, 60).pace, 18);  // figures over half a second
  pace = nextPace({ ...at(11), calm: 0 }, 11, 10, 1, 60);  // one short: maybe still being drawn
  assert.equal(pace.pace, 11);
  assert.equal(nextPace(pace, 11, 10, 1, 60).pace, 10);  // two short over two seconds
});

test('a page that keeps up without a pace asks for none', () => {
  assert.equal(nextPace(UNPACED, 60, 59, 1, 60).pace, null);
  assert.equal(nextPace(UNPACED, 30, 30, 1, 60).pace, null);
});

test('a page that drew every paced frame for a second asks for GROWTH more, at least one', () => {
  assert.equal(nextPace(at(6), 6, 6, 1, 60).pace, 7);
  assert.equal(nextPace(at(10), 10, 10, 1, 60).pace, 12);
  assert.equal(nextPace(at(40), 40, 40, 1, 60).pace, 46);
  assert.equal(nextPace(at(56), 56, 56, 1, 60).pace, null);  // at the server's own rate: no pace
  const half = nextPace(at(10), 5, 5, 0.5, 60);  // half a second is not enough to go on
  assert.equal(half.pace, 10);
  assert.equal(nextPace(half, 5, 5, 0.5, 60).pace, 12);
});

test('after coming down the pace holds for HOLD seconds before it goes up', () => {
  let pace = nextPace(at(16), 16, 13, 1, 60);
  assert.equal(pace.pace, 13);
  for (let second = 1; second < HOLD; second += 1) {
    pace = nextPace(pace, 13, 13, 1, 60);
    assert.equal(pace.pace, 13);
  }
  assert.equal(nextPace(pace, 13, 13, 1, 60).pace, 15);
});

test('each probe that fails doubles the hold, up to LONGEST_HOLD; a pace that lasts keeps it', () => {
  let pace = at(14);
  /** @param {number} drawn  frames the page draws a second */
  const second = (drawn) => { pace = nextPace(pace, pace.pace ?? 0, Math.min(drawn, pace.pace ?? 0), 1, 60); };
  const holds = [];
  for (let t = 0; t < 120; t += 1) {
    const before = pace.pace;
    second(14);
    if (before !== null && pace.pace !== null && pace.pace < before) holds.push(pace.hold);
  }
  assert.deepEqual(holds.slice(0, 3), [2 * HOLD, 4 * HOLD, LONGEST_HOLD]);
  assert.ok(holds.length <= 10, String(holds));  // 120 s: a probe every 16 s at most, at the end
  const settled = pace.pace;
  second(30);  // the page got faster: once the hold is over, the pace goes up again
  for (let t = 0; t < LONGEST_HOLD; t += 1) second(30);
  assert.ok((pace.pace ?? 99) > (settled ?? 0), `${pace.pace} after ${settled}`);
});

test('a pace the run does not reach, or a paused run, is kept', () => {
  assert.equal(nextPace(at(40), 30, 30, 1, 60).pace, 40);  // a presented class makes 30 a second
  const paused = nextPace(at(12), 1, 0, 1, 60);
  assert.deepEqual(paused, at(12));  // nothing to judge
});

test('one frame fewer drawn than received is a frame still being drawn, not a loss', () => {
  assert.equal(nextPace(at(20), 20, 19, 1, 60).pace, 23);
  assert.equal(nextPace(at(20), 20, 17, 1, 60).pace, 17);
});

test('losses add up over the seconds at one pace', () => {
  let pace = at(20);
  pace = nextPace(pace, 10, 9, 0.5, 60);  // one short: no loss yet
  assert.equal(pace.pace, 20);
  pace = nextPace(pace, 10, 8, 0.5, 60);  // three short of 20
  assert.equal(pace.pace, 17);
});

test('the pace never goes below LEAST (a page that drew nothing)', () => {
  let pace = at(20);
  for (let second = 0; second < 10; second += 1) pace = nextPace(pace, pace.pace ?? 0, 0, 1, 60);
  assert.equal(pace.pace, LEAST);
});

test('from far too many frames the pace settles where the page draws them all', () => {
  // a page that can draw 12 a second, and one more for each four frames it need not decode
  const drawable = (/** @type {number} */ received) => Math.min(received, 12 + Math.max(0, 24 - received) / 4);
  let pace = UNPACED;
  const seen = [];
  for (let tick = 0; tick < 80; tick += 1) {
    const received = (pace.pace ?? 24) / 2;
    pace = nextPace(pace, received, drawable(received * 2) / 2, 0.5, 60);
    seen.push(received * 2);
  }
  const late = seen.slice(20);
  const drawn = late.reduce((sum, r) => sum + drawable(r), 0);
  const got = late.reduce((sum, r) => sum + r, 0);
  assert.ok(drawn / got >= 0.95, `${drawn} of ${got}`);
  assert.ok(Math.min(...late) >= 12, String(late));
});
