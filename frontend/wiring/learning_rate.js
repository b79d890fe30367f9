// @ts-check
/** The learning-rate slider: live while dragging (≤ 10 messages/s), final on release. */

import { sliderToRate } from '../controls.js';
import * as protocol from '../protocol.js';
import { formatNumber } from '../render/format.js';

/** @typedef {import('./app.js').App} App */

/** Least time between two set_hyper messages while the slider is dragged, in ms. */
const SEND_INTERVAL = 100;

/** @param {App} app */
export function wireLearningRate(app) {
  const { store, $ } = app;
  const slider = /** @type {HTMLInputElement} */ ($('learning-rate'));
  let lastSent = 0;
  let timer = 0;
  const send = async () => {
    lastSent = performance.now();
    const rate = sliderToRate(slider.value);
    const reply = await app.command((id) => protocol.setHyper({ learning_rate: rate }, id));
    if (reply.type === 'ack') {
      $('learning-rate-ack').textContent = `from step ${reply.step} · ${Math.round(reply.latency)} ms`;
      store.lastLearningRateAck = { rate, step: reply.step, latency: reply.latency };
    }
  };
  slider.addEventListener('input', () => {
    $('learning-rate-value').textContent = formatNumber(sliderToRate(slider.value));
    clearTimeout(timer);
    const wait = SEND_INTERVAL - (performance.now() - lastSent);
    timer = window.setTimeout(send, Math.max(0, wait));
  });
  slider.addEventListener('change', () => { clearTimeout(timer); send(); });
}

/** The slider's range: log₁₀ of the catalogue's learning-rate limits. @param {App} app */
export function setLearningRateRange(app) {
  const [low, high] = app.store.options.limits.learning_rate;
  const slider = /** @type {HTMLInputElement} */ (app.$('learning-rate'));
  slider.min = String(Math.log10(low));
  slider.max = String(Math.log10(high));
}
