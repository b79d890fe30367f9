// @ts-check
/**
 * The last step on the loss landscape (the "Step" tab): f(s), the batch objective at
 * distance s along the update from the weights before it (docs/trainer.md), with the start
 * (s = 0) and its tangent (slope f'(0)), where the step landed (s = ‖Δθ‖) and the valley
 * (the lowest point), the verdict in words (the catalogue's landscape_verdicts) and the
 * arithmetic of the lesson: ‖Δθ‖ = η · ‖g‖ for SGD. Draws what the frame carries.
 *
 * {@link describeStep} is pure (node tests); {@link renderLandscape} draws into the panel.
 * @module render/landscape
 */

import { fitCanvas } from './canvas.js';
import { formatNumber } from './format.js';
import { palette } from './palette.js';

/** @typedef {import('../frame_decoder.js').Landscape} Landscape */

/** Colours of the verdicts (landing point, word): Okabe–Ito, colour-blind safe. */
export const VERDICT_COLORS = /** @type {Record<string, string>} */ ({
  undershoot: '#0072B2', 'about right': '#009E73', overshoot: '#E69F00', divergence: '#C62828', flat: '#6b7585',
});

/** Short words for the sweep's tiles and the panel's headline. */
export const VERDICT_WORDS = /** @type {Record<string, string>} */ ({
  undershoot: 'undershoot: the step stops short of the valley',
  'about right': 'about right: the step lands near the bottom',
  overshoot: 'overshoot: the step jumps past the valley',
  divergence: 'divergence: it lands higher than it started',
  flat: 'flat: no slope to follow',
});

/**
 * The verdict of index `index` in the catalogue: its code and sentence, or null.
 * @param {{code: string, sentence: string}[] | undefined} verdicts  options.landscape_verdicts
 * @param {number} index
 */
export function verdictOf(verdicts, index) {
  if (!verdicts || !Number.isInteger(index) || index < 0 || index >= verdicts.length) return null;
  return verdicts[index];
}

/**
 * What the panel says about a step, from the landscape's info: the verdict, the arithmetic
 * (‖Δθ‖ = η·‖g‖ holds for SGD only), the loss before → after, the valley, and the s range.
 * @param {Record<string, number>} info  Landscape.info
 * @param {string} optimizer  'sgd' | 'momentum' | 'adam' …
 * @param {{code: string, sentence: string}[] | undefined} verdicts
 */
export function describeStep(info, optimizer, verdicts) {
  const verdict = verdictOf(verdicts, info.verdict);
  const code = verdict?.code ?? '';
  const [rate, gradient, length] = [info.learning_rate, info.gradient_norm, info.step_length];
  const product = rate * gradient;
  const f = (/** @type {number} */ v, digits = 3) => formatNumber(v, digits);
  const sgd = optimizer === 'sgd';
  const arithmetic = sgd
    ? `step length ‖Δθ‖ = η · ‖g‖ = ${f(rate)} × ${f(gradient)} = ${f(length)}`
    : `step length ‖Δθ‖ = ${f(length)}; η · ‖g‖ = ${f(rate)} × ${f(gradient)} = ${f(product)}`;
  const note = sgd ? '' : `${optimizer === 'adam' ? 'Adam' : 'momentum'} does not step η·‖g‖: `
    + (optimizer === 'adam' ? 'it scales each weight\'s step by its gradient history'
      : 'the step adds the velocity of earlier steps');
  const raised = info.loss_after > info.loss_before;
  const losses = `${raised ? 'the last step overshot: ' : ''}batch loss ${f(info.loss_before)} → ${f(info.loss_after)}`;
  let valley = `valley: loss ${f(info.minimum_loss)} at s = ${f(info.minimum_step)}`
    + (length > 0 ? ` (${f(info.minimum_step / length, 2)} × the step)` : '');
  if (info.minimum_at_edge) {
    valley = info.minimum_step <= 0
      ? 'the valley lies behind the start, beyond the sampled range'
      : `the valley lies beyond the sampled range (past s = ${f(info.minimum_step)}, ${f(info.minimum_step / length, 2)} × the step): the step is far too short`;
  }
  return {
    code, word: VERDICT_WORDS[code] ?? code, sentence: verdict?.sentence ?? '',
    color: VERDICT_COLORS[code] ?? '#6b7585', arithmetic, note, losses, valley, raised,
  };
}

/**
 * The s range to plot: a little behind 0 to at least 3 × the step, and far enough to show
 * the valley (when it lies within the samples), never past the last sample.
 * @param {Float32Array} s  @param {Record<string, number>} info
 * @returns {[number, number]}
 */
export function plotRange(s, info) {
  const length = info.step_length;
  const last = s[s.length - 1];
  const valley = Number.isFinite(info.minimum_step) && info.minimum_step > 0 ? info.minimum_step * 1.25 : 0;
  const right = Math.min(last, Math.max(3 * length, valley));
  return [Math.max(s[0], -0.25 * length), right];
}

/**
 * The y range: the samples within the s range, the start and the landing included, with
 * values far above the start clipped (a divergent step's curve explodes).
 * @param {Float32Array} s @param {Float32Array} loss @param {Record<string, number>} info
 * @param {[number, number]} range
 * @returns {[number, number]}
 */
export function lossRange(s, loss, info, [left, right]) {
  let low = Math.min(info.loss_before, info.loss_after, info.minimum_loss);
  let high = Math.max(info.loss_before, info.loss_after);
  for (let i = 0; i < s.length; i += 1) {
    if (s[i] < left || s[i] > right || !Number.isFinite(loss[i])) continue;
    low = Math.min(low, loss[i]);
    high = Math.max(high, loss[i]);
  }
  const cap = Math.max(info.loss_before, info.loss_after) + 1.2 * (Math.max(info.loss_before, info.loss_after) - low);
  high = Math.min(high, cap);
  const pad = (high - low) * 0.08 || Math.abs(high) * 0.05 || 0.01;
  return [low - pad, high + pad];
}

/**
 * Show the frame's landscape in the panel (text and plot), or what to do to get one.
 * @param {HTMLElement} container  [data-testid=step-landscape]
 * @param {import('../state.js').Store} store
 */
export function renderLandscape(container, store) {
  const landscape = store.frame?.landscape ?? null;
  if (!container.firstElementChild) {
    container.innerHTML = `<div class="ls-head"><span class="ls-title">The last step on the loss landscape</span>
      <span class="ls-step" data-testid="step-landscape-step"></span></div>
      <div class="ls-verdict" data-testid="step-verdict"></div>
      <div class="ls-arithmetic" data-testid="step-arithmetic"></div>
      <div class="ls-note" data-testid="step-note"></div>
      <canvas class="ls-plot" data-testid="step-plot"></canvas>
      <div class="ls-legend"><span class="ls-key start">● start s = 0, tangent slope f′(0)</span>
        <span class="ls-key land">● landed s = ‖Δθ‖</span><span class="ls-key valley">○ valley (lowest point)</span></div>
      <div class="ls-losses" data-testid="step-losses"></div>
      <div class="ls-valley" data-testid="step-valley"></div>
      <div class="ls-sentence" data-testid="step-sentence"></div>`;
  }
  const $ = (/** @type {string} */ testid) => /** @type {HTMLElement} */ (container.querySelector(`[data-testid="${testid}"]`));
  container.dataset.verdict = '';
  if (!landscape) {
    $('step-landscape-step').textContent = '';
    $('step-verdict').textContent = 'No step yet: press play, → (one step) or “1 phase” until the update.';
    for (const id of ['step-arithmetic', 'step-note', 'step-losses', 'step-valley', 'step-sentence']) $(id).textContent = '';
    const canvas = /** @type {HTMLCanvasElement} */ ($('step-plot'));
    fitCanvas(canvas)?.ctx.clearRect(0, 0, canvas.width, canvas.height);
    return;
  }
  const info = landscape.info;
  const optimizer = store.serverState?.hyper?.optimizer ?? store.config?.hyper?.optimizer ?? 'sgd';
  const text = describeStep(info, optimizer, store.options?.landscape_verdicts);
  container.dataset.verdict = text.code;
  container.style.setProperty('--verdict', text.color);
  $('step-landscape-step').textContent = `step ${info.step}`;
  const verdict = $('step-verdict');
  verdict.textContent = text.word;
  verdict.style.color = text.color;
  $('step-arithmetic').textContent = text.arithmetic;
  $('step-note').textContent = text.note;
  const losses = $('step-losses');
  losses.textContent = text.losses;
  losses.classList.toggle('bad', text.raised);
  $('step-valley').textContent = text.valley;
  $('step-sentence').textContent = text.sentence;
  drawLandscape(/** @type {HTMLCanvasElement} */ ($('step-plot')), landscape, text.color, store.ui.projector);
}

/**
 * The plot: f(s) over the range, the tangent at the start, the step as an arrow along the
 * axis with its three points.
 * @param {HTMLCanvasElement} canvas @param {Landscape} landscape @param {string} color @param {boolean} projector
 */
function drawLandscape(canvas, landscape, color, projector) {
  const fitted = fitCanvas(canvas);
  if (!fitted) return;
  const { ctx, width, height } = fitted;
  const p = palette();
  const { s, loss, info } = landscape;
  const font = projector ? 18 : 12;  // CSS px: the page's least text sizes
  const range = plotRange(s, info);
  const [low, high] = lossRange(s, loss, info, range);
  const box = { left: 8 + font * 3.2, right: width - 10, top: 10, bottom: height - font * 2.6 - 6 };
  const x = (/** @type {number} */ v) => box.left + ((v - range[0]) / (range[1] - range[0])) * (box.right - box.left);
  const y = (/** @type {number} */ v) => box.bottom - ((v - low) / (high - low)) * (box.bottom - box.top);
  ctx.clearRect(0, 0, width, height);
  ctx.font = `${font}px system-ui, sans-serif`;
  // axes: the loss at the start, s = 0 and s = ‖Δθ‖
  ctx.strokeStyle = p.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(box.left, box.bottom + 0.5); ctx.lineTo(box.right, box.bottom + 0.5);
  ctx.moveTo(box.left, y(info.loss_before)); ctx.lineTo(box.right, y(info.loss_before));
  ctx.stroke();
  ctx.fillStyle = p.muted;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  ctx.fillText(formatNumber(info.loss_before, 2), box.left - 4, y(info.loss_before));
  ctx.fillText(formatNumber(low + (high - low) * 0.08, 2), box.left - 4, box.bottom - 6);
  ctx.save();
  ctx.beginPath();
  ctx.rect(box.left, box.top - 2, box.right - box.left, box.bottom - box.top + 4);
  ctx.clip();
  // the curve
  ctx.strokeStyle = p.ink;
  ctx.lineWidth = 2 * p.lineScale;
  ctx.beginPath();
  let started = false;
  for (let i = 0; i < s.length; i += 1) {
    if (s[i] < range[0] || s[i] > range[1] * 1.0001 || !Number.isFinite(loss[i])) continue;
    const [px, py] = [x(s[i]), y(Math.min(loss[i], high * 4))];
    if (started) ctx.lineTo(px, py); else { ctx.moveTo(px, py); started = true; }
  }
  ctx.stroke();
  // the tangent at the start: f(0) + s · f'(0), over a third of the range
  const reach = (range[1] - range[0]) * 0.35;
  ctx.strokeStyle = p.accent;
  ctx.lineWidth = 1.5 * p.lineScale;
  ctx.setLineDash([5, 4]);
  ctx.beginPath();
  ctx.moveTo(x(-reach * 0.3), y(info.loss_before - reach * 0.3 * info.slope));
  ctx.lineTo(x(reach), y(info.loss_before + reach * info.slope));
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.restore();
  // the step: an arrow along the axis from 0 to ‖Δθ‖
  const arrowY = box.bottom + font * 1.1;
  const [x0, x1] = [x(0), x(info.step_length)];
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 2.5 * p.lineScale;
  ctx.beginPath(); ctx.moveTo(x0, arrowY); ctx.lineTo(x1, arrowY); ctx.stroke();
  const head = Math.min(7 * p.lineScale, Math.max(3, (x1 - x0) * 0.5));
  ctx.beginPath(); ctx.moveTo(x1, arrowY); ctx.lineTo(x1 - head, arrowY - head * 0.7); ctx.lineTo(x1 - head, arrowY + head * 0.7); ctx.fill();
  ctx.setLineDash([2, 3]);
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(x1, arrowY); ctx.lineTo(x1, clampY(y(info.loss_after), box));
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.textBaseline = 'top';
  ctx.textAlign = x1 > (box.left + box.right) / 2 ? 'right' : 'left';
  ctx.fillText(`step ‖Δθ‖ = ${formatNumber(info.step_length)}`, x1 + (ctx.textAlign === 'left' ? 6 : -6), arrowY + 2);
  ctx.fillStyle = p.muted;
  ctx.textAlign = 'right';
  ctx.fillText('s →', box.right, box.bottom + 2);
  // the points: valley (ring), start (ink), landing (the verdict's colour)
  const dot = 4.5 * Math.max(1, p.lineScale * 0.8);
  if (!info.minimum_at_edge && info.minimum_step >= range[0] && info.minimum_step <= range[1]) {
    ctx.strokeStyle = VERDICT_COLORS['about right'];
    ctx.lineWidth = 2.5;
    ctx.beginPath(); ctx.arc(x(info.minimum_step), y(info.minimum_loss), dot + 2.5, 0, 2 * Math.PI); ctx.stroke();
  }
  ctx.fillStyle = p.ink;
  ctx.beginPath(); ctx.arc(x0, y(info.loss_before), dot, 0, 2 * Math.PI); ctx.fill();
  const landY = y(info.loss_after);
  ctx.fillStyle = color;
  ctx.beginPath(); ctx.arc(x1, clampY(landY, box), dot + 0.5, 0, 2 * Math.PI); ctx.fill();
  if (landY < box.top) {  // clipped: it landed above the plot
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillText(`↑ ${formatNumber(info.loss_after)}`, x1, box.top + dot + 3);
  }
}

/** @param {number} v @param {{top: number, bottom: number}} box */
const clampY = (v, box) => Math.max(box.top, Math.min(box.bottom, v));
