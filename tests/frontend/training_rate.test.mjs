// What the page says about the training rate the server really gets (wiring/render_loop.js).
//   node --test tests/frontend/training_rate.test.mjs   (also run by test_training_rate_js.py)
import test from 'node:test';
import assert from 'node:assert/strict';

import { trainingRateText } from '../../frontend/wiring/render_loop.js';

test('the rate reads "asked … steps/s · getting …" in whole, grouped numbers', () => {
  const rate = { type: 'rate', asked_steps_per_second: 60000, steps_per_second: 9812.4, frames_per_second: 58.2 };
  assert.equal(trainingRateText(rate), 'asked 60,000 steps/s · getting 9,812');
});

test('nothing is said before the server has reported a rate', () => {
  assert.equal(trainingRateText(null), '');
  assert.equal(trainingRateText(undefined), '');
});
