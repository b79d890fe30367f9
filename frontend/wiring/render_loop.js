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

/** Step, epoch, losses, the play button's state, the divergence banner. @param {App} app */
function renderCounters(app) {
  const { store, $ } = app;
  const frame = store.frame;
  if (!frame) return;
  $('step-count').textContent = String(frame.step);
  $('epoch-count').textContent = String(frame.epoch);
  $('loss-train').textContent = formatNumber(frame.trainLoss);
  $('loss-test').textContent = formatNumber(frame.testLoss);
  const play = $('play');
  play.classList.toggle('running', frame.running);
  play.setAttribute('aria-label', frame.running ? 'Pause' : 'Play');
  renderDivergence(app);
  document.body.classList.toggle('viewer', store.role === 'viewer');
}

/** @param {App} app */
function renderDivergence(app) {
  const banner = app.$('divergence-banner');
  const divergence = app.store.divergence;
  banner.hidden = !divergence;
  if (divergence) {
    /** @type {HTMLElement} */ (banner.querySelector('.message')).textContent = `Diverged at step ${divergence.step}`
      + ` — the learning rate ${formatNumber(divergence.learning_rate)} is too large for these gradients.`;
  }
}
