// @ts-check
/**
 * The learning-rate control: a log-scale slider over the catalogue's limits with labelled
 * decades, live while dragging (≤ 10 messages/s, every message of one drag with the same
 * `gesture` number, so that the charts draw one mark per drag), final on release; the arrow
 * keys move one notch (× 10^¼); the value can be typed (click it), checked against the limits.
 */

import { sliderToRate } from '../controls.js';
import * as protocol from '../protocol.js';
import { formatNumber } from '../render/format.js';

/** @typedef {import('./app.js').App} App */

/** Least time between two set_hyper messages while the slider is dragged, in ms. */
const SEND_INTERVAL = 100;
/** One arrow-key notch, in log₁₀ η. */
export const NOTCH = 0.25;

/**
 * A typed learning rate: a number within the limits ("3e-4", "0,03" and "−0.1" read as
 * numbers), or why it is refused.
 * @param {string} text @param {number[]} limits  [low, high]
 * @returns {number | string}
 */
export function parseRate(text, [low, high]) {
  const cleaned = text.trim().replace(/^η\s*=?\s*/, '').replace(',', '.').replace('−', '-');
  const rate = cleaned === '' ? NaN : Number(cleaned);
  if (!Number.isFinite(rate)) return `type a number, e.g. 0.03 (from ${formatNumber(low)} to ${formatNumber(high)})`;
  if (rate < low || rate > high) return `η must lie from ${formatNumber(low)} to ${formatNumber(high)}`;
  return rate;
}

/**
 * The slider position one notch up (+1) or down (−1) from `position`, within [min, max];
 * lands on the notch grid (…, 0.01, 0.018, 0.032, 0.056, 0.1, …).
 * @param {number} position  log₁₀ η @param {number} direction  ±1 @param {number} min @param {number} max
 */
export function notch(position, direction, min, max) {
  const steps = (position - min) / NOTCH;
  const grid = direction > 0 ? Math.floor(steps + 1e-6) + 1 : Math.ceil(steps - 1e-6) - 1;
  return Math.max(min, Math.min(max, min + grid * NOTCH));
}

/**
 * Labels of the decades of [low, high]: value and position (0 … 1 along the slider).
 * @param {number[]} limits @returns {{rate: number, text: string, at: number}[]}
 */
export function decades([low, high]) {
  const [from, to] = [Math.ceil(Math.log10(low) - 1e-9), Math.floor(Math.log10(high) + 1e-9)];
  const span = Math.log10(high) - Math.log10(low);
  const labels = [];
  for (let e = from; e <= to; e += 1) {
    const rate = 10 ** e;
    labels.push({ rate, text: e < -3 ? `1e${e < 0 ? '−' : ''}${Math.abs(e)}` : String(Number(rate.toPrecision(1))),
      at: (e - Math.log10(low)) / span });
  }
  return labels;
}

/** The next drag's gesture number: random start (another tab's drags differ), then +1. */
let gestureCounter = Math.floor(Math.random() * 2 ** 30);

/** @param {App} app */
export function wireLearningRate(app) {
  const { store, $ } = app;
  const slider = /** @type {HTMLInputElement} */ ($('learning-rate'));
  const ack = $('learning-rate-ack');
  let lastSent = 0;
  let timer = 0;
  /** @type {number | null} the gesture of the drag under way */
  let gesture = null;
  /** @param {number} rate @param {number | null} gestureId */
  const send = async (rate, gestureId) => {
    lastSent = performance.now();
    const changes = gestureId === null ? { learning_rate: rate } : { learning_rate: rate, gesture: gestureId };
    const reply = await app.command((id) => protocol.setHyper(changes, id));
    if (reply.type === 'ack') {
      ack.textContent = `from step ${reply.step} · ${Math.round(reply.latency)} ms`;
      ack.classList.remove('bad');
      store.lastLearningRateAck = { rate, step: reply.step, latency: reply.latency };
    }
  };
  const startGesture = () => { if (gesture === null) gesture = (gestureCounter = (gestureCounter + 1) % 2 ** 31); };
  slider.addEventListener('pointerdown', startGesture);
  slider.addEventListener('input', () => {
    startGesture();
    $('learning-rate-value').textContent = formatNumber(sliderToRate(slider.value));
    clearTimeout(timer);
    const wait = SEND_INTERVAL - (performance.now() - lastSent);
    const id = gesture;
    timer = window.setTimeout(() => send(sliderToRate(slider.value), id), Math.max(0, wait));
  });
  slider.addEventListener('change', () => {
    clearTimeout(timer);
    startGesture();
    const id = gesture;
    gesture = null;
    send(sliderToRate(slider.value), id);
  });
  slider.addEventListener('keydown', (event) => {
    const direction = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 }[event.key];
    if (!direction) return;
    event.preventDefault();  // the range's own 0.01 step; and → is "one step" on the page
    event.stopPropagation();
    slider.value = String(notch(Number(slider.value), direction, Number(slider.min), Number(slider.max)));
    $('learning-rate-value').textContent = formatNumber(sliderToRate(slider.value));
    clearTimeout(timer);
    send(sliderToRate(slider.value), null);
  });
  wireTypedRate(app, (rate) => {
    slider.value = String(Math.log10(rate));
    return send(rate, null);
  });
}

/**
 * Click the value to type one: Enter sends it (if it lies within the limits), Escape or
 * leaving the field gives up; a refusal is a notice (topic 'learning-rate').
 * @param {App} app @param {(rate: number) => Promise<void>} send
 */
function wireTypedRate(app, send) {
  const { store, $ } = app;
  const value = $('learning-rate-value');
  const input = /** @type {HTMLInputElement} */ ($('learning-rate-input'));
  const open = () => {
    if (!app.presenting()) return;
    input.value = value.textContent?.replace('−', '-') ?? '';
    value.hidden = true;
    input.hidden = false;
    input.focus();
    input.select();
  };
  const close = () => { input.hidden = true; value.hidden = false; };
  value.addEventListener('click', open);
  value.addEventListener('keydown', (event) => { if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); open(); } });
  input.addEventListener('keydown', (event) => {
    event.stopPropagation();  // typing "r" is not "reset"
    if (event.key === 'Escape') { close(); return; }
    if (event.key !== 'Enter') return;
    event.preventDefault();
    const rate = parseRate(input.value, store.options.limits.learning_rate);
    if (typeof rate === 'string') {
      app.notify({ topic: 'learning-rate', level: 'error', text: `Learning rate not set: ${rate}` });
      input.setAttribute('aria-invalid', 'true');
      return;
    }
    app.clearNotice('learning-rate');
    input.removeAttribute('aria-invalid');
    value.textContent = formatNumber(rate);
    close();
    send(rate);
  });
  input.addEventListener('blur', () => { if (!input.hidden) close(); });
}

/** The slider's range (log₁₀ of the catalogue's limits) and its decade labels. @param {App} app */
export function setLearningRateRange(app) {
  const limits = app.store.options.limits.learning_rate;
  const slider = /** @type {HTMLInputElement} */ (app.$('learning-rate'));
  slider.min = String(Math.log10(limits[0]));
  slider.max = String(Math.log10(limits[1]));
  const scale = app.$('learning-rate-decades');
  scale.replaceChildren(...decades(limits).map(({ text, at }) => {
    const label = document.createElement('span');
    label.textContent = text;
    label.style.setProperty('--at', String(at));
    return label;
  }));
}
