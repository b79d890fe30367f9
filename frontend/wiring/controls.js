// @ts-check
/**
 * The controls' events (../controls.js builds and syncs the controls themselves): the run
 * buttons, the hyperparameter and data inputs, the view checkboxes and the keyboard.
 * Hyperparameters go live (set_hyper); structure and data rebuild (configure).
 */

import * as protocol from '../protocol.js';

/** @typedef {import('./app.js').App} App */

/** @param {App} app */
export function wireControls(app) {
  wireRunButtons(app);
  wireHyperparameters(app);
  wireDataInputs(app);
  wireViewToggles(app);
}

/** Play or pause, whichever the run is not doing. @param {App} app */
function togglePlay(app) {
  const running = app.store.frame?.running || app.store.serverState?.running;
  return app.command((id) => (running ? protocol.pause(id) : protocol.play(id)));
}

/** @param {App} app */
function wireRunButtons(app) {
  const { store, $ } = app;
  $('play').addEventListener('click', () => togglePlay(app));
  $('step').addEventListener('click', () => app.command((id) => protocol.step(1, id)));
  $('phase-step').addEventListener('click', () => app.command((id) => protocol.phaseStep(id)));
  $('reset').addEventListener('click', () => app.command((id) => protocol.reset(id)));
  const recover = async () => {  // after divergence or saturation: η / 10, then reset
    const low = store.options?.limits?.learning_rate?.[0] ?? 1e-5;
    const rate = Math.max(low, (store.serverState?.hyper?.learning_rate ?? 0.03) / 10);
    await app.command((id) => protocol.setHyper({ learning_rate: Number(rate.toPrecision(2)) }, id));
    await app.command((id) => protocol.reset(id));
  };
  $('recover').addEventListener('click', recover);
  $('saturation-recover').addEventListener('click', recover);
}

/** The hyperbar's selects (live) and the activation and loss (rebuild). @param {App} app */
function wireHyperparameters(app) {
  const { $ } = app;
  const hyper = (/** @type {string} */ testid, /** @type {(v: string) => any} */ change) => {
    $(testid).addEventListener('change', (event) => app.command((id) => protocol.setHyper(
      change(/** @type {HTMLSelectElement} */ (event.target).value), id)));
  };
  hyper('optimizer', (v) => ({ optimizer: v }));
  hyper('batch-size', (v) => ({ batch_size: Number(v) }));
  hyper('regularization', (v) => ({ regularization: v }));
  hyper('regularization-rate', (v) => ({ regularization_rate: Number(v) }));
  hyper('speed', (v) => ({ speed: Number(v) }));
  $('activation').addEventListener('change', (event) => app.configure(
    { network: { activation: /** @type {HTMLSelectElement} */ (event.target).value } }));
  $('loss').addEventListener('change', (event) => app.configure(
    { network: { loss: /** @type {HTMLSelectElement} */ (event.target).value } }));
}

/** The data panel's sliders (percent on the page, fractions on the wire) and the seed. @param {App} app */
function wireDataInputs(app) {
  const data = (/** @type {string} */ testid, /** @type {(v: number) => any} */ change) => {
    app.$(testid).addEventListener('change', (event) => app.configure(
      change(Number(/** @type {HTMLInputElement} */ (event.target).value))));
  };
  data('noise', (v) => ({ data: { noise: v / 100 } }));
  data('train-fraction', (v) => ({ data: { train_fraction: v / 100 } }));
  data('seed', (v) => ({ seed: v }));
}

/** Checkboxes that change only this page's view. @param {App} app */
function wireViewToggles(app) {
  const { store } = app;
  for (const [testid, key] of [['show-test', 'showTest'], ['discretize', 'discretize'], ['log-scale', 'logScale']]) {
    app.$(testid).addEventListener('change', (event) => {
      store.ui[key] = /** @type {HTMLInputElement} */ (event.target).checked;
      store.dirty = true;
    });
  }
}

/**
 * Whether Space on `element` has a meaning of its own: a button, link, summary, checkbox or
 * anything with a button-like role.
 * @param {HTMLElement} element
 */
function pressable(element) {
  const role = element.getAttribute('role') ?? '';
  return ['BUTTON', 'A', 'SUMMARY'].includes(element.tagName)
    || (element.tagName === 'INPUT' && element.getAttribute('type') === 'checkbox')
    || ['button', 'tab', 'menuitem', 'checkbox', 'switch', 'option', 'radio'].includes(role);
}

/**
 * Space: play/pause (unless a focused control takes it); → : one step; shift →: one phase;
 * r: reset (← replay: wiring/phases.js).
 * @param {App} app
 */
export function wireKeyboard(app) {
  document.addEventListener('keydown', (event) => {
    if (!app.presenting()) return;  // a viewer's page follows; its keys change nothing
    const target = /** @type {HTMLElement} */ (event.target);
    if (['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName) && target.getAttribute('type') !== 'checkbox') return;
    if (event.key === ' ') {
      if (pressable(target)) return;  // Space presses the focused button (or ticks the box)
      event.preventDefault();
      togglePlay(app);
    }
    else if (event.key === 'ArrowRight' && event.shiftKey) { event.preventDefault(); app.command((id) => protocol.phaseStep(id)); }
    else if (event.key === 'ArrowRight') { event.preventDefault(); app.command((id) => protocol.step(1, id)); }
    else if (event.key === 'r' && !event.ctrlKey && !event.metaKey) app.command((id) => protocol.reset(id));
  });
}
