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

/** @param {App} app */
export function wireSweep(app) {
  const { store, $ } = app;
  $('sweep-toggle').addEventListener('click', () => {
    if (store.serverState?.sweep) { app.command((id) => protocol.sweep(null, id)); return; }
    const rates = parseRates(/** @type {HTMLInputElement} */ ($('sweep-rates')).value,
      store.options.limits.learning_rate);
    if (typeof rates === 'string') { app.notice(rates); return; }
    app.command((id) => protocol.sweep(rates, id));
  });
}

/** The sweep's panel (a run can be promoted to the main view) and its button's label. @param {App} app */
export function renderSweepPanel(app) {
  const { store, $ } = app;
  renderSweep($('sweep-panel'), store, (run) => app.command((id) => protocol.promote(run, id)));
  $('sweep-toggle').textContent = store.serverState?.sweep ? 'Stop sweep' : 'Sweep';
}
