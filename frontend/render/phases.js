// @ts-check
/**
 * The phase strip: the four phases of a step with the current one lit, and one sentence
 * on what it does and what the network diagram shows for it, with this step's numbers.
 * Driven by the phase the server reports.
 */

import { formatNumber } from './format.js';
import { updateMagnification } from './phase_picture.js';
import { GRADIENT_DECADES, formatFactor } from './phase_scales.js';
import { gradientColor } from './palette.js';

const ORDER = ['forward', 'loss', 'backward', 'update'];

/**
 * @param {HTMLElement} strip  the element holding <li data-phase=…> items
 * @param {HTMLElement} caption
 * @param {import('../state.js').Store} store
 */
export function renderPhases(strip, caption, store) {
  const frame = store.frame;
  const phase = frame?.phase ?? null;
  const running = Boolean(frame?.running);
  const reached = phase ? ORDER.indexOf(phase) : -1;
  for (const item of strip.querySelectorAll('li')) {
    const index = ORDER.indexOf(/** @type {string} */ (item.dataset.phase));
    item.classList.toggle('active', !running && index === reached);
    item.classList.toggle('done', running || index < reached);
  }
  strip.dataset.current = running ? 'running' : phase ?? 'idle';
  caption.innerHTML = frame ? describe(frame, store) : 'Connecting…';
}

/**
 * One sentence for the current phase, with numbers.
 * @param {import('../protocol.js').Frame} frame
 * @param {import('../state.js').Store} store
 */
export function describe(frame, store) {
  const batch = frame.batchSize;
  const eta = formatNumber(frame.learningRate);
  if (frame.diverged) {
    return `Training <b>diverged</b>: the loss or the weights blew up at η = <b>${eta}</b>.`;
  }
  if (frame.running) {
    const speed = store.serverState?.speed ?? 1;
    return `Training: every step runs all four phases on a batch of <b>${batch}</b> points`
      + ` (${formatNumber(speed)} step${speed === 1 ? '' : 's'} per frame). Loss `
      + `<b>${formatNumber(frame.trainLoss)}</b>.`;
  }
  switch (frame.phase) {
    case 'forward': {
      const point = frame.batch?.[frame.focus];
      const where = point ? ` (${formatNumber(point.x1, 2)}, ${formatNumber(point.x2, 2)})` : '';
      return `<b>Forward pass</b>: the focus point ◎${where} flows left to right; edges carry w·a,`
        + ` neurons z = Σ w·a + b, a = f(z)${point ? `; output <b>${formatNumber(point.output)}</b>` : ''}.`;
    }
    case 'loss': {
      const point = frame.batch?.[frame.focus];
      return `<b>Loss</b>: L = <b>${formatNumber(frame.batchLoss)}</b> over the batch`
        + (point ? `; focus point: target ${formatNumber(point.target)}, output ${formatNumber(point.output)},`
          + ` ℓ = <b>${formatNumber(point.loss)}</b>` : '')
        + '. dL/dz at the output starts the backward pass.';
    }
    case 'backward': {
      const [value] = largest(frame, 'gradWeights');
      const low = value * 10 ** -GRADIENT_DECADES;
      return '<b>Backward pass</b>: δ = dL/dz flows back from the output; edges show dL/dw'
        + ` (${swatch(gradientColor(1), '+ purple')}, ${swatch(gradientColor(-1), '− green')}; width: log scale,`
        + ` ${formatNumber(low, 1)} … <b>${formatNumber(value, 2)}</b>), rings dL/db = Σ δ.`;
    }
    case 'update': {
      const [value] = largest(frame, 'updateWeights');
      const factor = updateMagnification(frame);
      const optimizer = store.options?.optimizers?.find(
        (/** @type {any} */ o) => o.name === store.serverState?.hyper?.optimizer);
      const rule = !optimizer || optimizer.name === 'sgd' ? `Δw = −η·dL/dw, η = <b>${eta}</b>`
        : `Δw by ${optimizer.title}, η = <b>${eta}</b>`;
      return `<b>Update</b>: w ← w + Δw, ${rule}. Dashed: w before the step`
        + `${factor > 1 ? `, <b>changes shown ×${formatFactor(factor)}</b>` : ''};`
        + ` largest |Δw| <b>${formatNumber(value)}</b>.`;
    }
    default:
      return 'Press <b>play</b> to train, or step through one <b>phase</b> at a time.';
  }
}

/**
 * Words in a colour of the picture (the gradient palette), bold.
 * @param {string} colour @param {string} text
 */
function swatch(colour, text) {
  return `<span style="color:${colour};font-weight:700">${text}</span>`;
}

/**
 * The largest |value| of a per-layer weight array and where it is.
 * @param {import('../protocol.js').Frame} frame
 * @param {'gradWeights' | 'updateWeights'} key
 * @returns {[number, string]}
 */
function largest(frame, key) {
  let best = 0;
  let where = '';
  frame.layers.forEach((layer, index) => {
    for (const v of layer[key]) {
      if (Number.isFinite(v) && Math.abs(v) > best) {
        best = Math.abs(v);
        where = index === frame.layers.length - 1 ? 'into the output' : `into hidden layer ${index + 1}`;
      }
    }
  });
  return [best, where];
}
