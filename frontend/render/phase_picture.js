// @ts-check
/**
 * What a phase picture of the network diagram shows, before any drawing: which phase, how
 * far its animation is (state.js's start and pace), where the wave is on each layer, each
 * edge's number (w·a for the focus point, dL/dw, Δw), the weights as the picture wants them
 * drawn, the scales of its marks and where its numbers may go. render/network_animation.js
 * draws it; everything comes from the frame.
 */

import { animationProgress } from '../state.js';
import { palette } from './palette.js';
import {
  GRADIENT_DECADES, WEIGHT_WIDTH_SPAN, logScaleOf, magnification, maxAbs, slotProgress, weightScaleOf,
} from './phase_scales.js';

/** The phases that have a picture of their own. */
export const PICTURED = ['forward', 'loss', 'backward', 'update'];
/** The largest change of the update picture widens or narrows its edge by this many px. */
const UPDATE_PIXELS = 8;

/**
 * @typedef {import('../protocol.js').Frame} Frame
 * @typedef {import('../state.js').Store} Store
 * @typedef {import('./network.js').Layout} Layout
 * @typedef {import('./network.js').NodeBox} NodeBox
 * @typedef {import('./network.js').EdgePath} EdgePath
 */

/** What a phase picture drew, for tests and the benchmark (window.playground.network.animation). */
export class PictureSummary {
  constructor() {
    /** @type {string | null} */ this.phase = null;
    this.progress = 1;
    this.seconds = 0;
    this.replays = 0;
    this.magnification = 1;
    /** widths of the gradient marks drawn (edges and rings), CSS px */
    this.gradientWidths = { min: Infinity, max: 0, count: 0 };
    /** edge numbers shown (those that fit without covering another), of `edges` edges */
    this.labels = 0;
    this.edges = 0;
    this.fontPx = 0;
    /** @type {{x: number, y: number, sign: number}[]} points on finished gradient edges, away from labels */
    this.edgeSamples = [];
  }
}

/** The picture's state and numbers; PhasePicture (network_animation.js) draws them. */
export class PictureState {
  /**
   * @param {Frame} frame @param {Store} store @param {Layout} layout @param {number} now
   * @param {number} weightScale  the |w| drawn as the thickest edge
   */
  constructor(frame, store, layout, now, weightScale) {
    const p = palette();
    this.frame = frame;
    this.layout = layout;
    this.p = p;
    this.layers = frame.layers.length;
    this.weightScale = weightScale;
    const shown = !frame.running && !frame.diverged && frame.phase !== null && PICTURED.includes(frame.phase);
    /** @type {string | null} */
    this.phase = shown ? frame.phase : null;
    this.progress = shown && store.animation.phase === frame.phase ? animationProgress(store.animation, now) : 1;
    this.projector = Boolean(store.ui.projector);
    // numbers grow with the nodes on large screens: 12–15 px, projector 18–22 px
    this.fontPx = Math.round(this.projector ? Math.max(18, Math.min(22, layout.nodeSize / 3.2))
      : Math.max(12, Math.min(15, layout.nodeSize / 4.5)));
    this.font = `600 ${this.fontPx}px system-ui, sans-serif`;
    // gradient marks: 4–11 px (projector 6–16), thinner only where the nodes are too small
    // for them (big networks); rings fit in the room between two neurons
    const small = Math.min(1, layout.nodeSize / 40);
    this.gradScale = logScaleOf([...frame.layers.map((l) => l.gradWeights), ...frame.layers.map((l) => l.gradBias)], {
      decades: GRADIENT_DECADES, minWidth: Math.max(2, (this.projector ? 6 : 4) * small),
      maxWidth: Math.max(4, (this.projector ? 16 : 11) * small) });
    const ringRoom = Math.max(2, Math.min(this.projector ? 12 : 8, (layout.gap - 4) / 2));
    this.ringScale = { ...this.gradScale, minWidth: Math.min(this.gradScale.minWidth, ringRoom), maxWidth: ringRoom };
    /** numbers fit under the neurons that are too small to hold them */
    this.roomBelow = layout.gap >= this.fontPx + 10;
    this.factor = this.phase === 'update' ? updateMagnification(frame) : 1;
    this.largestChange = maxAbs(frame.layers.map((l) => l.updateWeights));
    this.focus = frame.batch && frame.focusPoint && frame.batch[frame.focus] ? frame.focusPoint : null;
    /** the neurons' maps mark the focus point (not under the batch's gradients and updates) */
    this.focusMarked = Boolean(this.focus) && this.phase !== 'backward' && this.phase !== 'update';
    this.summary = new PictureSummary();
    Object.assign(this.summary, {
      phase: this.phase, progress: this.progress, seconds: store.animation.seconds,
      replays: store.animation.replays, magnification: this.factor, fontPx: this.fontPx,
    });
    /** input node → its index among the enabled features (the frame's inputs) */
    this.inputIndex = new Map(layout.columns[0].filter((n) => n.enabled).map((n, i) => [n, i]));
    /** @type {{x: number, y: number, width: number, height: number} | null} */
    this.legendBox = null;
    /** @type {{items: [string, string | null][], line: number, swatch: number} | null} */
    this.legend = null;
  }

  /** @param {EdgePath} edge  this edge's progress through its layer's slot (0 … 1) */
  edgeProgress(edge) {
    if (this.phase === 'forward') return slotProgress(this.progress, edge.level, this.layers);
    if (this.phase === 'backward') return slotProgress(this.progress, edge.level, this.layers, true);
    return 1;
  }

  /** @param {NodeBox} node  whether the wave has reached this node */
  reached(node) {
    if (this.phase === 'forward') return node.level === 0 || this.progress * this.layers >= node.level - 1e-9;
    if (this.phase === 'backward') return this.progress * this.layers >= this.layers - node.level - 1e-9;
    return true;
  }

  /** @param {EdgePath} edge  the number an edge carries in this phase (NaN: none) */
  edgeValue(edge) {
    const layer = this.frame.layers[edge.level];
    const k = edge.neuron * layer.nIn + edge.source;
    if (this.phase === 'forward') {
      if (!this.focus) return NaN;
      const source = edge.level === 0 ? this.focus.inputs[edge.source] : this.focus.a[edge.level - 1][edge.source];
      return layer.weights[k] * source;
    }
    if (this.phase === 'backward') return layer.gradWeights[k];
    if (this.phase === 'update') return layer.updateWeights[k];
    return NaN;
  }

  // ------------------------------------------------------------ asked by network.js

  /** @param {EdgePath} edge  the part of the edge (from its target end) this picture paints */
  weightCover(edge) {
    return this.phase === 'backward' ? this.edgeProgress(edge) : 0;
  }

  /**
   * How strongly an edge's weight shows under this picture: faded under the forward and
   * backward pictures; in the update, the more its weight moved, the stronger.
   * @param {EdgePath} edge
   */
  weightAlpha(edge) {
    if (this.phase === 'forward' || this.phase === 'loss') return 0.55;
    if (this.phase === 'backward') return 0.3;
    if (this.phase === 'update' && this.largestChange > 0) {
      const layer = this.frame.layers[edge.level];
      const change = Math.abs(layer.updateWeights[edge.neuron * layer.nIn + edge.source]);
      return Number.isFinite(change) ? 0.3 + 0.65 * Math.sqrt(change / this.largestChange) : 0.3;
    }
    return 0.78;
  }

  /**
   * The weight an edge is drawn with: while the update plays it morphs from the old weight
   * (w − k·Δw, k the magnification) to the new one.
   * @param {EdgePath} edge @param {number} weight
   */
  shownWeight(edge, weight) {
    if (this.phase !== 'update') return weight;
    const layer = this.frame.layers[edge.level];
    const change = layer.updateWeights[edge.neuron * layer.nIn + edge.source];
    return Number.isFinite(change) ? weight - this.factor * change * (1 - this.progress) : weight;
  }

  // ------------------------------------------------------------------------ drawing

  /** @param {NodeBox} node  whether a number fits inside or under this neuron */
  fits(node) {
    return node.size >= 2.2 * (this.fontPx + 6) || node.kind === 'output' || this.roomBelow;
  }

  /**
   * The box of a neuron's number: inside the node along its lower border when the node is
   * large enough (so the numbers take no room between the nodes), else just below it.
   * @param {CanvasRenderingContext2D} ctx @param {NodeBox} node @param {string} text
   * @param {boolean} [outside]  below the node in any case
   */
  nodePill(ctx, node, text, outside = false) {
    const height = this.fontPx + 6;
    const inside = !outside && node.size >= 2.2 * height;
    // inside: in the half of the map away from the focus point's mark
    const top = inside && this.focusMarked && (this.frame.batch?.[this.frame.focus]?.x2 ?? 0) < 0;
    const y = top ? node.y - node.size / 2 + height / 2 + 2
      : inside ? node.y + node.size / 2 - height / 2 - 2 : node.y + node.size / 2 + height / 2 + 2;
    return { x: node.x, y, width: ctx.measureText(text).width + 10, height };
  }

  /** The nodes (the outputs with their numbers below), the column titles, the legend. @param {number} pillHeight */
  obstacles(pillHeight) {
    const boxes = [{ x: this.layout.width / 2, y: 12, width: this.layout.width, height: 24 }];
    for (const node of this.layout.columns.flat()) {
      if (node.level === 0 && !node.enabled) continue;
      const below = node.kind === 'output' ? 2 * pillHeight + 4 : node.size >= 2.2 * pillHeight ? 0 : pillHeight + 2;
      boxes.push({ x: node.x, y: node.y + below / 2, width: node.size + 12, height: node.size + below + 8 });
    }
    if (this.legendBox) boxes.push(this.legendBox);
    return boxes;
  }
}

/**
 * How much the update picture magnifies the changes Δw: the nice factor that makes the
 * largest change widen or narrow its edge by UPDATE_PIXELS (1 when that shows as it is).
 * The palette's line scale multiplies both sides, so the factor is the same in projector mode.
 * @param {Frame} frame
 */
export function updateMagnification(frame) {
  const largest = maxAbs(frame.layers.map((l) => l.updateWeights));
  return magnification(largest, WEIGHT_WIDTH_SPAN / weightScaleOf(frame.layers), UPDATE_PIXELS);
}
