// @ts-check
/**
 * The phase strip: the four phases of a step with the current one lit, and one sentence
 * on what it does, with this step's numbers. Driven by the phase the server reports.
 */

import { formatNumber } from './format.js';

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
    case 'forward':
      return `<b>Forward pass</b>: the batch of <b>${batch}</b> points flows left to right; each`
        + ' neuron computes z = Σ w·a + b and its activation a = f(z).';
    case 'loss':
      return `<b>Loss</b>: the outputs are compared with the labels: L = <b>${formatNumber(frame.batchLoss)}</b>`
        + ' on this batch. Its derivative dL/dz at the output starts the backward pass.';
    case 'backward': {
      const [value, where] = largest(frame, 'gradWeights');
      return '<b>Backward pass</b>: the chain rule carries dL/dz from the output back to the inputs,'
        + ` layer by layer. Largest gradient |dL/dw| = <b>${formatNumber(value)}</b> (${where}).`;
    }
    case 'update': {
      const [value] = largest(frame, 'updateWeights');
      return `<b>Update</b>: every weight steps against its gradient, w ← w − η·dL/dw with η = <b>${eta}</b>;`
        + ` the largest change was <b>${formatNumber(value)}</b>.`;
    }
    default:
      return 'Press <b>play</b> to train, or step through one <b>phase</b> at a time.';
  }
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
