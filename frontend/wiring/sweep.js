// @ts-check
/** The learning-rate sweep: its Sweep / Stop button, the rates typed for it, its panel. */

import * as protocol from '../protocol.js';
import { renderSweep } from '../render/sweep.js';

/** @typedef {import('./app.js').App} App */

/**
 * Rates typed as "0.001, 0.01 0.1": 2 to 8 numbers within the learning-rate limits.
 * @param {string} text @param {number[]} limits  [low, high] of the learning rate
 * @returns {number[] | string}  the rates, or why they are refused
 */
export function parseRates(text, [low, high]) {
  const rates = text.split(/[\s,;]+/).filter(Boolean).map(Number);
  const bad = rates.find((r) => !Number.isFinite(r) || r < low || r > high);
  if (bad !== undefined) return `each rate must lie between ${low} and ${high}`;
  if (rates.length < 2 || rates.length > 8) return 'give 2 to 8 learning rates';
  return rates;
}

/**
 * Default sweep rates around the current one: η/10, η, η·10, η·100 within the limits
 * (2 significant digits), smaller ones instead of those beyond the top.
 * @param {number} rate @param {number[]} limits
 */
export function ratesAround(rate, [low, high]) {
  const rates = [-1, 0, 1, 2, -2, -3].map((k) => Number((rate * 10 ** k).toPrecision(2)))
    .filter((r) => r >= low && r <= high).slice(0, 4).sort((a, b) => a - b);
  return rates.length >= 2 ? rates : [low, high];
}

/** @param {App} app */
export function wireSweep(app) {
  const { store, $ } = app;
  const input = /** @type {HTMLInputElement} */ ($('sweep-rates'));
  input.addEventListener('input', () => { input.dataset.edited = '1'; });
  $('sweep-toggle').addEventListener('click', () => {
    if (store.serverState?.sweep) { app.command((id) => protocol.sweep(null, id)); return; }
    const rates = parseRates(/** @type {HTMLInputElement} */ ($('sweep-rates')).value,
      store.options.limits.learning_rate);
    if (typeof rates === 'string') { app.notify({ topic: 'sweep', level: 'error', text: `Sweep: ${rates}` }); return; }
    app.clearNotice('sweep');
    app.command((id) => protocol.sweep(rates, id));
  });
}

/** The sweep input follows the current η until the user types in it. @param {App} app */
function syncSweepRates(app) {
  const input = /** @type {HTMLInputElement} */ (app.$('sweep-rates'));
  const rate = app.store.serverState?.hyper?.learning_rate;
  if (input.dataset.edited || document.activeElement === input || !rate || app.store.serverState?.sweep) return;
  const text = ratesAround(rate, app.store.options.limits.learning_rate).join(', ');
  if (input.value !== text) input.value = text;
}

/** The sweep's panel (a run can be promoted to the main view) and its button's label. @param {App} app */
export function renderSweepPanel(app) {
  const { store, $ } = app;
  renderSweep($('sweep-panel'), store, (run) => app.command((id) => protocol.promote(run, id)));
  $('sweep-toggle').textContent = store.serverState?.sweep ? 'Stop sweep' : 'Sweep';
  if (store.options) syncSweepRates(app);
}
