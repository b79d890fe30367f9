// @ts-check
/**
 * What every section of the inspector needs to know about the selection: which parameter
 * it is and how to name it, which batch point its single-point chain rule follows, and how
 * to say that a number is still to come. Pure (no DOM).
 *
 * @module render/inspector/context
 */

import { activationNameOf } from '../../catalogue.js';
import { featureHtml, math, pending, v } from './html.js';

/** @typedef {import('../../protocol.js').Frame} Frame */
/** @typedef {import('../../protocol.js').FrameSelection} FrameSelection */
/** @typedef {import('../../catalogue.js').Catalogue} Catalogue */

/**
 * @typedef {object} InspectorContext
 * @property {Frame} frame
 * @property {FrameSelection} sel
 * @property {Catalogue | null} catalogue
 * @property {any} config  the trainer config (network section: features, activation, loss)
 * @property {any} hyper   the hyperparameters in use on the server (state message), else the config's
 * @property {boolean} isEdge    a weight (else a neuron's bias)
 * @property {boolean} isOutput  the selected neuron is in the output layer
 * @property {string} param      'w' or 'b'
 * @property {number} batchSize  B (0 before the first step)
 * @property {number} point      index in `sel.samples` of the point the chain rule follows
 * @property {number} pointNumber  its number in the batch, from 1
 * @property {boolean} pointIsFocus  it is the focus point (frame.focus)
 * @property {string} activation  the selected neuron's activation (name)
 * @property {string} sourceName  HTML: the edge's source (a feature or a neuron)
 * @property {(phase: string) => string} later  "computed in the … phase" (or "the run diverged")
 */

/**
 * The sample the single-point chain rule follows: the focus point when it is among the
 * selection's samples (the first S ≤ 32 batch points), else point 1.
 * @param {number} focus  frame.focus @param {number} samples  S
 */
export function chainPoint(focus, samples) {
  return focus >= 0 && focus < samples ? focus : 0;
}

/**
 * @param {number} layer @param {number} neuron @param {number} layers @param {number} outputs
 * @param {boolean} [withArticle]
 */
export function neuronName(layer, neuron, layers, outputs, withArticle = true) {
  if (layer === layers - 1) {
    if (outputs === 1) return withArticle ? 'the output neuron' : 'output neuron';
    return `output neuron ${neuron + 1}`;
  }
  return `neuron ${neuron + 1} (hidden ${layer + 1})`;
}

/**
 * @param {Frame} frame @param {FrameSelection} sel
 * @param {{config?: any, options?: Catalogue | null, serverState?: any}} store
 * @returns {InspectorContext}
 */
export function inspectorContext(frame, sel, store) {
  const config = store.config ?? null;
  const catalogue = store.options ?? null;
  const layers = frame.layers.length;
  const isEdge = sel.kind === 'edge';
  const features = /** @type {string[]} */ (config?.network?.features ?? []);
  const source = sel.source ?? 0;
  const sourceName = sel.layer === 0
    ? (features[source] !== undefined ? featureHtml(features[source]) : `input ${source + 1}`)
    : `neuron ${source + 1} (hidden ${sel.layer})`;
  const point = chainPoint(frame.focus, sel.samples.length);
  return {
    frame, sel, catalogue, config,
    hyper: store.serverState?.hyper ?? config?.hyper ?? {},
    isEdge,
    isOutput: sel.layer === layers - 1,
    param: isEdge ? 'w' : 'b',
    batchSize: frame.batchSize,
    point,
    pointNumber: point + 1,
    pointIsFocus: point === frame.focus,
    activation: activationNameOf(catalogue, config, sel.layer, layers),
    sourceName,
    later: (phase) => pending(frame.diverged ? 'not available: the run diverged' : `computed in the ${phase} phase`),
  };
}

/** The title line: which parameter this is. @param {InspectorContext} ctx */
export function titleHtml(ctx) {
  const { sel, frame } = ctx;
  const layers = frame.layers.length;
  const outputs = frame.layerSizes[frame.layerSizes.length - 1] ?? 1;
  if (ctx.isEdge) {
    return `Weight ${math(v('w'))}: ${ctx.sourceName} → ${neuronName(sel.layer, sel.neuron, layers, outputs, false)}`;
  }
  return `Bias ${math(v('b'))} of ${neuronName(sel.layer, sel.neuron, layers, outputs)}`;
}

/** "point 3 (the focus point)" for the chain rule's point. @param {InspectorContext} ctx */
export function pointName(ctx) {
  return `point ${ctx.pointNumber}${ctx.pointIsFocus ? ' (the focus point)' : ''}`;
}
