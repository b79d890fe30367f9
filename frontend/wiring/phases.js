// @ts-check
/**
 * The phase pictures' controls: replay (button and ←) re-runs the current phase's
 * animation, pace sets how long it takes; clicking a ringed batch point on the output plot
 * makes it the focus point (the `focus` command; the server answers with a frame). Replay
 * and pace only change this page's view, so a viewer may use them too.
 */

import * as protocol from '../protocol.js';
import { fillSelect } from '../controls.js';
import { batchPointAt } from '../render/plot_batch.js';
import { PACES, replayAnimation, setPace } from '../state.js';

/** @typedef {import('./app.js').App} App */

/** @param {App} app */
export function wirePhases(app) {
  const { store, $ } = app;
  const pace = /** @type {HTMLSelectElement} */ ($('pace'));
  fillSelect(pace, PACES, (seconds) => `${seconds} s`);
  pace.value = String(store.ui.pace);
  pace.addEventListener('change', () => setPace(store, Number(pace.value), performance.now()));
  $('replay').addEventListener('click', () => replayAnimation(store, performance.now()));
  document.addEventListener('keydown', (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    if (['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName) && target.getAttribute('type') !== 'checkbox') return;
    if (event.key === 'ArrowLeft' && !event.shiftKey && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      replayAnimation(store, performance.now());
    }
  });
}

/**
 * A click on a ringed batch point of the output plot chooses the focus point. Returns
 * whether the click was taken (then it adds no data point).
 * @param {App} app @param {HTMLCanvasElement} canvas @param {MouseEvent} event
 */
export function focusClick(app, canvas, event) {
  if (event.shiftKey || event.altKey) return false;  // shift/alt: the data editor's own clicks
  const index = batchPointAt(canvas, event.clientX, event.clientY);
  if (index < 0) return false;
  if (app.presenting() && index !== app.store.frame?.focus) app.command((id) => protocol.focus(index, id));
  return true;
}
