// @ts-check
/**
 * One requestAnimationFrame loop draws whatever changed: the network while it animates,
 * everything else only when the store is dirty (setters mark it; nothing here computes), the
 * charts at most every CHART_INTERVAL ms while training. A frame in which the network paints
 * a large net's new picture does nothing else: the picture shows, with the other views, at
 * the next one (render/network.js). A frame counts as rendered when the network shows it.
 * A canvas whose box changes is drawn again at once (render/canvas.js);
 * prefers-reduced-motion is followed as it changes.
 */

import { syncControls } from '../controls.js';
import { formatNumber } from '../render/format.js';
import { renderPhases } from '../render/phases.js';
import { watchCanvasSizes } from '../render/canvas.js';
import { animationPending } from '../state.js';
import { renderClassroom, renderFocus } from './classroom.js';
import { renderSidePanel } from './inspector.js';
import { renderQuestions } from './questions.js';
import { syncPointClasses } from './own_data.js';
import { renderSweepPanel } from './sweep.js';

/** @typedef {import('./app.js').App} App */

/**
 * While training, the charts catch up with the history at most this often (ms): a curve of
 * thousands of steps looks the same at 10 and at 60 updates per second, and uPlot's redraws
 * are the dearest drawing after the network's (paused: at once).
 */
const CHART_INTERVAL = 100;
/** A network draw longer than this (ms) leaves the charts for the next frame, so that one
 * frame's work stays short. */
const BUSY_MS = 8;
/** While training, at most this many charts are drawn in one frame. */
const CHARTS_PER_FRAME = 2;

/** @param {App} app */
export function startRenderLoop(app) {
  const { store, network } = app;
  let lastDrawnSequence = -1;
  let chartsAt = -Infinity;
  /** @type {Set<{draw: (store: App['store']) => void}>} charts behind the store */
  const stale = new Set(Object.values(app.charts));
  // a canvas whose CSS box changed is drawn again at its new size in the next frame
  watchCanvasSizes(() => { store.dirty = true; });
  watchReducedMotion(store);
  /** @param {number} now */
  const render = (now) => {
    const frame = store.frame;
    // a paused run's phase picture animates at its pace, then stays without being redrawn
    const animating = frame && (frame.running || animationPending(store, now));
    const started = performance.now();
    const dirty = store.dirty;
    const drawn = dirty || animating || network.pending ? network.draw(store, now) : 'none';
    if (drawn === 'painted') {
      // a large net's new picture was this frame's job: it shows, with the other views, next frame
      requestAnimationFrame(render);
      return;
    }
    // a large net's new picture is this frame's big job: the charts wait a frame (not two)
    const busy = performance.now() - started > BUSY_MS;
    // the frame on screen: the network's (it may show one a frame old), else the store's
    const shown = drawn === 'shown' ? network.shownFrame : dirty ? frame : null;
    if (shown && shown.sequence !== lastDrawnSequence) {
      lastDrawnSequence = shown.sequence;
      store.framesRendered += 1;
    }
    if (dirty) for (const chart of Object.values(app.charts)) stale.add(chart);
    // the charts read their boxes' sizes: before renderViews writes the page's text, so that
    // the layout the browser has is still valid (no layout forced in the middle of the frame)
    const due = now - chartsAt >= CHART_INTERVAL && (!busy || now - chartsAt >= 2 * CHART_INTERVAL);
    if (stale.size && (!frame?.running || due)) {
      // while training, CHARTS_PER_FRAME at a time: the charts' round spreads over frames
      let budget = frame?.running ? CHARTS_PER_FRAME : Infinity;
      for (const chart of stale) {
        if (budget-- <= 0) break;
        chart.draw(store);
        stale.delete(chart);
      }
      if (!stale.size) chartsAt = now;
    }
    if (dirty) {
      store.dirty = false;
      renderViews(app);
    }
    requestAnimationFrame(render);
  };
  requestAnimationFrame(render);
}

/**
 * Follow the `prefers-reduced-motion` setting: phase pictures then show their last picture at
 * once and the training flow stands still (state.js, render/network.js).
 * @param {App['store']} store
 */
function watchReducedMotion(store) {
  const query = matchMedia('(prefers-reduced-motion: reduce)');
  store.ui.reducedMotion = query.matches;
  query.addEventListener('change', () => { store.ui.reducedMotion = query.matches; store.dirty = true; });
}

/** Everything but the network view and the charts, in a fixed order. @param {App} app */
function renderViews(app) {
  const { store, $ } = app;
  app.outputPlot.draw(store);
  renderPhases(/** @type {HTMLElement} */ ($('phase')), $('phase-caption'), store);
  renderSidePanel(app);
  renderCounters(app);
  renderClassroom(app);
  renderQuestions(app);
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
  const training = frame.running ? trainingRateText(store.achievedRate) : '';
  $('training-rate').textContent = training;
  $('training-rate-narrow').textContent = training;
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

/**
 * What the server really runs: "asked 60,000 steps/s · getting 9,800" (a net too big for
 * the speed gets fewer steps per frame, never fewer frames); '' before the first report.
 * @param {import('../state.js').Store['achievedRate']} rate
 */
export function trainingRateText(rate) {
  if (!rate) return '';
  const whole = (/** @type {number} */ v) => Math.round(v).toLocaleString('en-US');
  return `asked ${whole(rate.asked_steps_per_second)} steps/s · getting ${whole(rate.steps_per_second)}`;
}
