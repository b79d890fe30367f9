// @ts-check
/**
 * One requestAnimationFrame loop draws whatever changed: the network while it animates,
 * everything else only when the store is dirty (setters mark it; nothing here computes).
 */

import { syncControls } from '../controls.js';
import { formatNumber } from '../render/format.js';
import { renderPhases } from '../render/phases.js';
import { animationPending } from '../state.js';
import { renderClassroom, renderFocus } from './classroom.js';
import { renderSidePanel } from './inspector.js';
import { syncPointClasses } from './own_data.js';
import { renderSweepPanel } from './sweep.js';

/** @typedef {import('./app.js').App} App */

/** @param {App} app */
export function startRenderLoop(app) {
  const { store, network } = app;
  let lastDrawnSequence = -1;
  /** @param {number} now */
  const render = (now) => {
    const frame = store.frame;
    // a paused run's phase picture animates at its pace, then stays without being redrawn
    const animating = frame && (frame.running || animationPending(store, now));
    if (store.dirty || animating) {
      network.draw(store, now);
    }
    if (store.dirty) {
      store.dirty = false;
      if (frame && frame.sequence !== lastDrawnSequence) {
        lastDrawnSequence = frame.sequence;
        store.framesRendered += 1;
      }
      renderViews(app);
    }
    requestAnimationFrame(render);
  };
  requestAnimationFrame(render);
}

/** Everything but the network view, in a fixed order. @param {App} app */
function renderViews(app) {
  const { store, $ } = app;
  app.outputPlot.draw(store);
  for (const chart of Object.values(app.charts)) chart.draw(store);
  renderPhases(/** @type {HTMLElement} */ ($('phase')), $('phase-caption'), store);
  renderSidePanel(app);
  renderCounters(app);
  renderClassroom(app);
  renderFocus(app);
  renderSweepPanel(app);
  syncPointClasses(app);
  syncControls(document, store);
}

/** Step, epoch (and epochs per second), losses, the play button's state, the banners. @param {App} app */
function renderCounters(app) {
  const { store, $ } = app;
  const frame = store.frame;
  if (!frame) return;
  $('step-count').textContent = String(frame.step);
  $('epoch-count').textContent = String(frame.epoch);
  const rate = store.trainingPace.rate;
  $('epoch-rate').textContent = frame.running && rate > 0 ? `${formatNumber(rate, rate < 10 ? 2 : 3)}/s` : '';
  $('loss-train').textContent = formatNumber(frame.trainLoss);
  $('loss-test').textContent = formatNumber(frame.testLoss);
  const play = $('play');
  play.classList.toggle('running', frame.running);
  play.setAttribute('aria-label', frame.running ? 'Pause' : 'Play');
  renderDivergence(app);
  renderSaturation(app);
  document.body.classList.toggle('viewer', store.role === 'viewer');
}

/** @param {App} app */
function renderDivergence(app) {
  const banner = app.$('divergence-banner');
  const divergence = app.store.divergence;
  banner.hidden = !divergence;
  if (divergence) {
    /** @type {HTMLElement} */ (banner.querySelector('.message')).textContent = divergenceText(divergence);
  }
}

/**
 * The divergence banner's words: the step (the step counter's number) and the rate.
 * @param {{step: number, learning_rate: number}} divergence
 */
export function divergenceText(divergence) {
  return `Diverged at step ${divergence.step}: with η = ${formatNumber(divergence.learning_rate)} the steps`
    + ' (η × gradient) were too long — each step overshot the valley until the loss exploded.';
}

/**
 * The saturation banner's words from the frame: the gradient's size and, per layer, the
 * share of units stuck in their flat zone.
 * @param {ArrayLike<number>} gradientNorms  per layer @param {ArrayLike<number> | null} saturation  per layer, 0 … 1
 * @param {number} learningRate
 */
export function saturationText(gradientNorms, saturation, learningRate) {
  const gradient = Math.sqrt(Array.from(gradientNorms).reduce((sum, g) => sum + (Number.isFinite(g) ? g * g : 0), 0));
  const layers = Array.from(saturation ?? []).map((share, l, all) =>
    `${l === all.length - 1 ? 'output' : `layer ${l + 1}`} ${Math.round(100 * share)} %`);
  return `Not learning: units saturated${layers.length ? ` (${layers.join(', ')})` : ''}, gradient ‖g‖ ≈ ${formatNumber(gradient, 2)},`
    + ` so each step η × ‖g‖ ≈ ${formatNumber(learningRate * gradient, 2)} moves almost nothing.`
    + ' A too-large η pushed the units into their flat zones.';
}

/** The last frame that said the run is saturated, and when (ms): the banner stays for a while. */
let saturatedSeen = { time: -Infinity, text: '', step: -1 };
/** How long the saturation banner outlives the last saturated frame, in ms (batches differ). */
const SATURATION_HOLD = 2000;

/** @param {App} app */
function renderSaturation(app) {
  const banner = app.$('saturation-banner');
  const { frame } = app.store;
  const now = performance.now();
  // the frame carries the saturated shares while the run is saturated
  if (frame?.saturation) {
    const gradient = frame.landscape ? [frame.landscape.info.gradient_norm] : frame.gradientNorms;
    saturatedSeen = { time: now, step: frame.step,
      text: saturationText(gradient, frame.saturation, frame.learningRate) };
  }
  const reset = frame && frame.step < saturatedSeen.step;
  const saturated = !reset && !app.store.divergence
    && (now - saturatedSeen.time < SATURATION_HOLD || (frame?.running === false && saturatedSeen.step === frame.step));
  banner.hidden = !saturated;
  if (saturated) /** @type {HTMLElement} */ (banner.querySelector('.message')).textContent = saturatedSeen.text;
  else if (reset) saturatedSeen.step = -1;
}
