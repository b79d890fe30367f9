// The phase pictures' pure helpers (frontend/render/phase_scales.js, the magnification of
// render/phase_picture.js, the animation state of state.js), no DOM:
//   node --test tests/frontend/phase_scales.test.mjs   (also run by tests/frontend/test_phase_pictures_js.py)
import test from 'node:test';
import assert from 'node:assert/strict';

import {
  formatFactor, logScaleOf, logWidth, magnification, maxAbs, placeLabels, slotProgress, weightScaleOf, weightWidth,
  WEIGHT_WIDTH_SPAN,
} from '../../frontend/render/phase_scales.js';
import { updateMagnification } from '../../frontend/render/phase_picture.js';
import {
  DEFAULT_PACE, acceptFrame, animationPending, animationProgress, replayAnimation, setPace,
} from '../../frontend/state.js';

test('logWidth: width grows with log10(|g| / g_min) over the decades, from minWidth to maxWidth', () => {
  const scale = logScaleOf([[0.1, -0.001], Float32Array.of(NaN)], { decades: 3, minWidth: 4, maxWidth: 13 });
  assert.equal(scale.max, 0.1);
  assert.equal(logWidth(0.1, scale), 13);
  assert.equal(logWidth(-0.1, scale), 13, 'the sign does not change the width');
  assert.equal(logWidth(1e-4, scale), 4, 'g_min = max · 10^-3 draws as minWidth');
  assert.ok(Math.abs(logWidth(1e-3, scale) - (4 + 9 / 3)) < 1e-9, 'one decade up: a third of the span');
  assert.ok(Math.abs(logWidth(1e-2, scale) - (4 + 18 / 3)) < 1e-9);
});

test('logWidth: every nonzero finite gradient gets at least minWidth; zero and NaN get no mark', () => {
  const scale = logScaleOf([Float32Array.of(2.5)], { decades: 3, minWidth: 4, maxWidth: 11 });
  for (const g of [1e-30, -1e-12, 2.5e-3, 1e-3]) assert.equal(logWidth(g, scale), 4, String(g));
  assert.equal(logWidth(0, scale), null);
  assert.equal(logWidth(NaN, scale), null);
  assert.equal(logWidth(Infinity, scale), null);
  assert.equal(logWidth(1, logScaleOf([Float32Array.of(NaN, 0)])), null, 'no gradient at all: no scale');
  for (let g = 1e-6; g < 10; g *= 1.7) {
    const width = /** @type {number} */ (logWidth(g, scale));
    assert.ok(width >= 4 && width <= 11, `${g} → ${width}`);
  }
});

test('magnification: a nice factor (1, 2, 5 × 10^n) that shows the largest change at 40–100 % of the target', () => {
  assert.equal(magnification(0.002, 5.5, 8), 500);   // exact 727 → 500: 5.5 px
  assert.equal(magnification(0.01, 5.5, 8), 100);    // exact 145 → 100
  assert.equal(magnification(0.001, 1, 8), 5000);    // exact 8000 → 5000
  assert.equal(magnification(0.004, 1, 8), 2000);    // exact 2000 exactly
  assert.equal(magnification(0.5, 5.5, 8), 2);       // exact 2.9 → 2
  for (let largest = 1e-7; largest < 1; largest *= 1.37) {
    const factor = magnification(largest, 5.5, 8);
    const shown = factor * largest * 5.5;
    const mantissa = factor / 10 ** Math.floor(Math.log10(factor) + 1e-9);
    assert.ok([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6), `${factor} is not nice`);
    assert.ok(shown <= 8 * (1 + 1e-9) && (shown >= 8 * 0.4 || factor === 1), `${largest}: ${shown} px`);
  }
});

test('magnification: 1 when the changes are visible as they are, or when there are none', () => {
  assert.equal(magnification(3, 5.5, 8), 1);
  assert.equal(magnification(0, 5.5, 8), 1);
  assert.equal(magnification(NaN, 5.5, 8), 1);
  assert.equal(magnification(Infinity, 5.5, 8), 1);
});

test('updateMagnification reads the frame: its largest ΔW against the thickest weight', () => {
  const frame = /** @type {any} */ ({
    layers: [
      { weights: Float32Array.of(0.5, -2), updateWeights: Float32Array.of(1e-3, -4e-3) },
      { weights: Float32Array.of(0.1), updateWeights: Float32Array.of(NaN) },
    ],
  });
  assert.equal(weightScaleOf(frame.layers), 2);
  // one unit of w is WEIGHT_WIDTH_SPAN / 2 px; 8 px for 0.004 needs ×727 → 500
  assert.equal(updateMagnification(frame), magnification(4e-3, WEIGHT_WIDTH_SPAN / 2, 8));
  assert.equal(updateMagnification(frame), 500);
  assert.equal(formatFactor(500), '500');
  assert.equal(formatFactor(2e6), '2e6');
});

test('weightWidth: 0.6 px to 0.6 + span px as |w| grows to the scale, times the line scale', () => {
  assert.equal(weightWidth(0, 1, 1), 0.6);
  assert.equal(weightWidth(-1, 1, 1), 0.6 + WEIGHT_WIDTH_SPAN);
  assert.equal(weightWidth(5, 1, 2), 2 * (0.6 + WEIGHT_WIDTH_SPAN));
  assert.equal(weightWidth(NaN, 1, 1), 0.6);
});

test('slotProgress: each layer takes its slot in turn; the backward pass starts at the last layer', () => {
  assert.equal(slotProgress(0, 0, 3), 0);
  assert.ok(Math.abs(slotProgress(1 / 6, 0, 3) - 0.5) < 1e-12);
  assert.equal(slotProgress(0.5, 0, 3), 1);
  assert.equal(slotProgress(0.5, 2, 3), 0);
  assert.equal(slotProgress(1, 2, 3), 1);
  assert.ok(Math.abs(slotProgress(1 / 6, 2, 3, true) - 0.5) < 1e-12, 'reverse: the output layer first');
  assert.equal(slotProgress(0.5, 0, 3, true), 0);
});

test('placeLabels: labels never overlap while a clear spot exists; the first request gets its best spot', () => {
  const spots = [[50, 50], [50, 80], [50, 110]];
  const requests = [0, 1, 2].map((id) => ({ id, width: 40, height: 20, spots }));
  const placed = placeLabels(requests, [], { width: 200, height: 200 });
  assert.deepEqual(placed.map((b) => [b.x, b.y]), [[50, 50], [50, 80], [50, 110]]);
  assert.ok(placed.every((b) => b.clear));
  const crowded = placeLabels([...requests, { id: 3, width: 40, height: 20, spots }], [], { width: 200, height: 200 });
  assert.equal(crowded[3].clear, false, 'no spot left: it is marked as overlapping');
  const blocked = placeLabels([{ id: 0, width: 40, height: 20, spots }], [{ x: 50, y: 50, width: 60, height: 30 }]);
  assert.deepEqual([blocked[0].x, blocked[0].y], [50, 80], 'obstacles (nodes) are avoided');
  const outside = placeLabels([{ id: 0, width: 40, height: 20, spots: [[5, 5], [60, 60]] }], [], { width: 100, height: 100 });
  assert.deepEqual([outside[0].x, outside[0].y], [60, 60], 'labels stay inside the canvas');
});

test('maxAbs skips NaN and infinities', () => {
  assert.equal(maxAbs([Float32Array.of(NaN, -3, Infinity), [2]]), 3);
  assert.equal(maxAbs([]), 0);
});

/** A store with the fields acceptFrame and the animation helpers read (createStore needs a page). */
function bareStore() {
  return /** @type {any} */ ({
    frame: null, history: [], gradHistory: [], updateRatioHistory: [], framesReceived: 0, dirty: false,
    ui: { pace: DEFAULT_PACE },
    animation: { phase: null, started: 0, seconds: DEFAULT_PACE, replays: 0, settled: true, focus: 0 },
  });
}

/** @param {string} phase @param {number} step @param {object} [extra] */
const frameAt = (phase, step, extra = {}) => /** @type {any} */ ({
  phase, step, running: false, focus: 0, sequence: step, epochProgress: 0, trainLoss: 1, testLoss: 1,
  trainAccuracy: 0.5, testAccuracy: 0.5, batchLoss: 1, gradientNorms: [], updateRatios: [], sweep: null, ...extra,
});

test('a new phase starts its animation at the pace; the same phase again does not restart it', () => {
  const store = bareStore();
  store.ui.pace = 3;
  acceptFrame(store, frameAt('forward', 0));
  const { started } = store.animation;
  assert.equal(store.animation.phase, 'forward');
  assert.equal(store.animation.seconds, 3);
  assert.equal(store.animation.settled, false);
  acceptFrame(store, frameAt('forward', 0, { sequence: 9 }));   // e.g. a selection's frame
  assert.equal(store.animation.started, started);
  acceptFrame(store, frameAt('forward', 0, { focus: 4 }));      // a new focus point flows again
  assert.equal(store.animation.focus, 4);
  acceptFrame(store, frameAt('loss', 0));
  assert.equal(store.animation.phase, 'loss');
  acceptFrame(store, frameAt('update', 5, { running: true }));  // training: no phase animation
  assert.equal(store.animation.phase, 'loss');
});

test('animation progress runs 0 → 1 over the pace; replay restarts it, pace sets its length', () => {
  const store = bareStore();
  acceptFrame(store, frameAt('backward', 0));
  const start = store.animation.started;
  assert.equal(animationProgress(store.animation, start), 0);
  assert.equal(animationProgress(store.animation, start + 750), 0.5);
  assert.equal(animationProgress(store.animation, start + 60_000), 1, 'the picture stays at its end');
  assert.equal(animationPending(store, start + 100), true);
  assert.equal(animationPending(store, start + 2000), true, 'the last picture is drawn once more');
  assert.equal(animationPending(store, start + 2100), false, 'then nothing is redrawn');
  replayAnimation(store, start + 5000);
  assert.equal(store.animation.replays, 1);
  assert.equal(animationProgress(store.animation, start + 5000), 0);
  assert.equal(animationPending(store, start + 5001), true);
  setPace(store, 6, start + 10_000);
  assert.equal(store.animation.seconds, 6);
  assert.equal(animationProgress(store.animation, start + 13_000), 0.5);
  assert.equal(store.animation.replays, 2);
});

test('the focus command names the batch point by its index', async () => {
  const { focus } = await import('../../frontend/protocol.js');
  assert.deepEqual(JSON.parse(focus(3, 7)), { v: JSON.parse(focus(0)).v, type: 'focus', id: 7, index: 3 });
  assert.throws(() => focus(NaN), RangeError);
});
