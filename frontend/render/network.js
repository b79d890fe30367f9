// @ts-check
/**
 * The network diagram: input features, hidden neurons and outputs as nodes showing their
 * own output maps; edges coloured by the weight's sign and as thick as |w|; biases as small
 * squares. After a phase-step the phase's picture (render/network_animation.js) plays at
 * the chosen pace and stays; the focus point is marked on every neuron's map.
 * During continuous training, marks flow backwards along the edges at a speed and opacity
 * that grow with |dL/dw|, so the class sees which weights are learning (render/network_edges.js;
 * still, with prefers-reduced-motion).
 *
 * The picture (edges, nodes, the phase picture) is painted into an offscreen canvas when
 * something it shows changed — the frame, the size, the selection, the palette, the phase
 * animation's progress — and copied to the screen; while training only the flow marks are
 * drawn anew on each animation frame. Draws only what the server sent.
 */

import { fitCanvas } from './canvas.js';
import { PhasePicture } from './network_animation.js';
import { EdgeLayer, drawEdges, drawFlow, flowEdges } from './network_edges.js';
import { NodePainter } from './network_nodes.js';
import { PictureSummary } from './phase_picture.js';
import { palette } from './palette.js';
import { weightScaleOf } from './phase_scales.js';

const HIT_RADIUS = 7;
/** While training a net of more edges than this, a new picture is rasterised offscreen and
 * shown a frame later (NetworkView.draw): a large net's drawing calls and rasterising make
 * one frame's biggest task. A small net's pictures show in the frame that draws them (at
 * the frame rate they arrive at). */
const SPLIT_EDGES = 500;

/**
 * Rasterise what was drawn into `canvas` now (drawing it into a 1 × 1 canvas does: the
 * browser records canvas drawing and rasterises it when the canvas is next read or shown).
 * @param {HTMLCanvasElement} canvas
 */
function rasterise(canvas) {
  if (!scratch) { scratch = document.createElement('canvas'); scratch.width = 1; scratch.height = 1; }
  /** @type {CanvasRenderingContext2D} */ (scratch.getContext('2d')).drawImage(canvas, 0, 0, 1, 1, 0, 0, 1, 1);
}
/** @type {HTMLCanvasElement | null} */
let scratch = null;

/**
 * @typedef {{x: number, y: number, size: number, kind: 'input' | 'hidden' | 'output',
 *   level: number, index: number, feature?: string, enabled: boolean}} NodeBox
 * @typedef {{level: number, neuron: number, source: number, points: number[][], length: number,
 *   bezier: number[]}} EdgePath  points: the sampled curve (CSS px); length: its length;
 *   bezier: the same curve as [x0, y0, c1x, c1y, c2x, c2y, x1, y1]
 * @typedef {{columns: NodeBox[][], edges: EdgePath[], nodeSize: number, key: string,
 *   width: number, height: number, gap: number, edgeScale: number}} Layout  gap: the least
 *   room between two neurons of a column (CSS px); edgeScale: edge widths × this (dense nets
 *   draw thinner edges, so that they stay apart and cheap to draw)
 */

/** A switched-off feature's node, relative to a switched-on one. */
const OFF_FEATURE = 0.4;

/**
 * Where every node and edge goes. Column 0 lists every candidate feature (switched-off
 * ones small and faded, so they do not shrink the rest), then one column per hidden
 * layer, then the outputs.
 * @param {number} width
 * @param {number} height
 * @param {{name: string, enabled: boolean}[]} features
 * @param {number[]} layerSizes  the frame's sizes: enabled features, hidden…, outputs
 * @param {{rightRoom?: number, maxNode?: number}} [room]  room right of the last column's
 *   centre (its label, half node and the numbers under it); the largest node
 * @returns {Layout}
 */
export function computeLayout(width, height, features, layerSizes, { rightRoom = 48, maxNode = 68 } = {}) {
  const counts = [features.length, ...layerSizes.slice(1)];
  const levels = counts.length;
  const labelRoom = 82;  // feature labels such as "cos x₂" at projector size
  const top = 42;  // below the column titles and the + / − buttons (18 … 40 px)
  const bottom = 14;
  const usable = height - top - bottom;
  const spacing = (width - labelRoom - 20 - rightRoom) / Math.max(1, levels - 1);
  const units = features.map((f) => (f.enabled ? 1 : OFF_FEATURE));
  const featureUnits = units.reduce((sum, u) => sum + u, 0);
  const tallest = Math.max(featureUnits, ...counts.slice(1));
  const nodeSize = Math.max(14, Math.min(maxNode, usable / (tallest * 1.3), spacing * 0.42));
  /** @type {NodeBox[][]} */
  const columns = counts.map((count, level) => {
    const x = labelRoom + 20 + level * spacing;
    const sizes = level === 0 ? units.map((u) => u * nodeSize) : Array(count).fill(nodeSize);
    // centre to centre: (half of one + half of the next) × gap, like the hidden columns' step
    const gap = Math.min(1.55, usable / sizes.reduce((sum, size) => sum + size, 0));
    const centres = [];
    let y = 0;
    sizes.forEach((size, i) => {
      if (i > 0) y += ((sizes[i - 1] + size) / 2) * gap;
      centres.push(y);
    });
    const shift = top + usable / 2 - y / 2;
    return Array.from({ length: count }, (_, index) => ({
      x, y: shift + centres[index], size: sizes[index],
      kind: level === 0 ? 'input' : level === levels - 1 ? 'output' : 'hidden',
      level, index,
      feature: level === 0 ? features[index].name : undefined,
      enabled: level === 0 ? features[index].enabled : true,
    }));
  });
  /** @type {EdgePath[]} */
  const edges = [];
  for (let level = 1; level < levels; level++) {
    const sources = level === 1 ? columns[0].filter((n) => n.enabled) : columns[level - 1];
    for (const target of columns[level]) {
      sources.forEach((source, sourceIndex) => {
        const [x0, y0, x1, y1] = [source.x + source.size / 2, source.y, target.x - target.size / 2, target.y];
        const points = curve(x0, y0, x1, y1);
        const mid = (x1 - x0) / 2;
        edges.push({ level: level - 1, neuron: target.index, source: sourceIndex, points, length: pathLength(points),
          bezier: [x0, y0, x0 + mid, y0, x1 - mid, y1, x1, y1] });
      });
    }
  }
  const gaps = columns.slice(1).filter((c) => c.length > 1).map((c) => c[1].y - c[0].y - nodeSize);
  const gap = gaps.length ? Math.min(...gaps) : usable;
  return { columns, edges, nodeSize, width, height, gap, edgeScale: edgeScaleOf(edges.length), key: `${width}x${height}:${counts.join(',')}:${features.map((f) => +f.enabled).join('')}` };
}

/**
 * Edge widths for a net of `edges` edges: full up to 120 edges, then ∝ 1/√edges, at least
 * 0.3 (2,000 edges: 0.3, i.e. at most 1.8 px instead of 6).
 * @param {number} edges
 */
export function edgeScaleOf(edges) {
  return Math.max(0.3, Math.min(1, Math.sqrt(120 / Math.max(1, edges))));
}

/** The length of a polyline. @param {number[][]} points */
function pathLength(points) {
  let length = 0;
  for (let i = 1; i < points.length; i += 1) length += Math.hypot(points[i][0] - points[i - 1][0], points[i][1] - points[i - 1][1]);
  return length;
}

/** Sampled cubic Bézier from (x0, y0) to (x1, y1), horizontal tangents. */
function curve(x0, y0, x1, y1, samples = 18) {
  const mid = (x1 - x0) / 2;
  const points = [];
  for (let i = 0; i <= samples; i++) {
    const t = i / samples;
    const u = 1 - t;
    const x = u * u * u * x0 + 3 * u * u * t * (x0 + mid) + 3 * u * t * t * (x1 - mid) + t * t * t * x1;
    const y = u * u * u * y0 + 3 * u * u * t * y0 + 3 * u * t * t * y1 + t * t * t * y1;
    points.push([x, y]);
  }
  return points;
}

export class NetworkView {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {HTMLElement} overlay  holds the per-layer + / − buttons
   * @param {{onSelect: (target: any) => void, onToggleFeature: (name: string) => void,
   *   onNeurons: (layer: number, delta: number) => void}} handlers
   */
  constructor(canvas, overlay, handlers) {
    this.canvas = canvas;
    this.overlay = overlay;
    this.handlers = handlers;
    /** @type {Layout | null} */
    this.layout = null;
    this.overlayKey = '';
    this.nodes = new NodePainter();
    this.cssWidth = 0;
    this.cssHeight = 0;
    this.layoutKey = '';
    /** @type {{name: string, label: string, enabled: boolean}[]} */
    this.features = [];
    /** the picture, painted when what it shows changes, copied to the screen */
    this.base = document.createElement('canvas');
    this.base.dataset.picture = 'network';
    /** the thin edges, kept painted between pictures (repainted where they changed) */
    this.edgeLayer = new EdgeLayer();
    /** @type {unknown[]} what the painted picture shows (compared by identity) */
    this.shown = [];
    /** @type {import('./network_edges.js').Flow[]} */
    this.flows = [];
    /** @type {{frame: import('../protocol.js').Frame, moving: boolean} | null} a painted picture not shown yet */
    this.pending = null;
    /** @type {import('../protocol.js').Frame | null} the frame the canvas shows */
    this.shownFrame = null;
    /** How long the last new picture's drawing calls took (ms; rasterising comes later). */
    this.paintMs = 0;
    /** Pictures painted, flow overlays drawn, marks in the last one (tests and the benchmark read them). */
    this.paints = 0;
    this.flowDraws = 0;
    this.flowMarks = 0;
    /** What the phase picture drew last (tests and the benchmark read it). */
    this.animation = new PictureSummary();
    /** @type {{cache: import('./network_animation.js').LabelCache | null}} the edges' numbers, placed once per frame */
    this.labels = { cache: null };
    canvas.addEventListener('click', (event) => this.click(event));
    canvas.addEventListener('mousemove', (event) => {
      const found = this.hit(event);
      canvas.style.cursor = found ? 'pointer' : 'default';
      // a feature's name, also where its label is left out (switched-off ones packed tight)
      const feature = found?.node?.kind === 'input' ? this.features[found.node.index] : null;
      canvas.title = feature ? `${feature.label}: ${feature.enabled ? 'on' : 'off'} (click to switch it ${feature.enabled ? 'off' : 'on'})` : '';
    });
  }

  /**
   * Show the network for the store at time `now`: repaint the picture when what it shows
   * changed, then (while training) the flow marks over it. Nothing is drawn when the canvas
   * already shows the current picture and nothing moves.
   *
   * While training a large net (SPLIT_EDGES), a new picture is drawn and
   * rasterised offscreen in one animation frame and shown at the next call, so that no
   * single frame's task draws, rasterises and commits it all.
   * @param {import('../state.js').Store} store
   * @param {number} now  performance.now()
   * @returns {'none' | 'painted' | 'shown'}  'painted': a new picture waits for the next
   *   call; 'shown': the canvas shows `shownFrame`
   */
  draw(store, now) {
    const frame = store.frame;
    const fitted = fitCanvas(this.canvas);
    if (!fitted) return 'none';
    const { ctx } = fitted;
    this.cssWidth = fitted.width;
    this.cssHeight = fitted.height;
    if (!frame || !store.options || !store.config) {
      ctx.clearRect(0, 0, this.cssWidth, this.cssHeight);
      this.shown = [];
      this.pending = null;
      return 'none';
    }
    const layout = this.layoutFor(store, frame);
    this.placeButtons(layout, store);
    const fits = this.base.width === this.canvas.width && this.base.height === this.canvas.height;
    if (this.pending && fits) return this.show(ctx, this.pending, now);
    this.pending = null;
    const scale = weightScaleOf(frame.layers);
    const picture = new PhasePicture(frame, store, layout, now, scale);
    const flowing = frame.running && !frame.diverged;
    const moving = flowing && !store.ui.reducedMotion;
    const shows = [frame, store.config, store.options, layout, this.canvas.width, this.canvas.height,
      JSON.stringify(store.serverState?.selection ?? null), palette(), picture.phase, picture.progress,
      store.animation.replays, moving];
    const same = shows.length === this.shown.length && shows.every((v, i) => v === this.shown[i]);
    if (same && !moving) return 'none';
    if (same) return this.show(ctx, { frame: this.shownFrame ?? frame, moving }, now);
    this.shown = shows;
    const started = performance.now();
    this.flows = flowing ? flowEdges(layout, frame, scale) : [];
    this.paintPicture(store, frame, layout, scale, picture, moving);
    const split = frame.running && layout.edges.length > SPLIT_EDGES;
    this.paintMs = performance.now() - started;
    if (!split) return this.show(ctx, { frame, moving }, now);
    rasterise(this.base);
    this.pending = { frame, moving };
    return 'painted';
  }

  /**
   * Copy the painted picture to the screen, the flow marks over it while they move.
   * @param {CanvasRenderingContext2D} ctx @param {{frame: import('../protocol.js').Frame, moving: boolean}} picture
   * @param {number} now @returns {'shown'}
   */
  show(ctx, { frame, moving }, now) {
    this.pending = null;
    this.shownFrame = frame;
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalCompositeOperation = 'copy';  // the picture replaces the screen's: no blending
    ctx.drawImage(this.base, 0, 0);
    ctx.restore();
    if (moving) {
      this.flowMarks = drawFlow(ctx, this.flows, now / 1000);
      this.flowDraws += 1;
    }
    return 'shown';
  }

  /**
   * Paint the whole picture into the offscreen canvas (the backing store's size).
   * @param {import('../state.js').Store} store @param {import('../protocol.js').Frame} frame
   * @param {Layout} layout @param {number} scale @param {PhasePicture} picture
   * @param {boolean} moving  the flow marks are drawn over it on every frame (else, while
   *   training, once, standing still)
   */
  paintPicture(store, frame, layout, scale, picture, moving) {
    const base = this.base;
    if (base.width !== this.canvas.width || base.height !== this.canvas.height) {
      base.width = this.canvas.width;
      base.height = this.canvas.height;
    }
    const ctx = /** @type {CanvasRenderingContext2D} */ (base.getContext('2d'));
    ctx.setTransform(base.width / this.cssWidth, 0, 0, base.height / this.cssHeight, 0, 0);
    ctx.clearRect(0, 0, this.cssWidth, this.cssHeight);
    drawEdges(ctx, layout, frame, store.serverState?.selection, scale, picture, this.edgeLayer);
    if (!moving && this.flows.length) this.flowMarks = drawFlow(ctx, this.flows, 0);
    picture.drawEdgeLayer(ctx);
    this.nodes.draw(ctx, layout, frame, store, this.features, picture);
    picture.drawNodeLayer(ctx);
    picture.layoutLegend(ctx);
    picture.drawLabels(ctx, this.labels);
    picture.drawMovers(ctx);
    picture.drawLegend(ctx);
    this.paints += 1;
    this.animation = picture.summary;
    this.canvas.dataset.phaseShown = picture.phase ?? 'none';
    this.canvas.dataset.phaseProgress = picture.progress.toFixed(2);
  }

  /**
   * The layout for this size, net and feature set (computed again only when one changed).
   * @param {import('../state.js').Store} store @param {import('../protocol.js').Frame} frame
   * @returns {Layout}
   */
  layoutFor(store, frame) {
    const enabled = store.config.network.features;
    const key = [this.cssWidth, this.cssHeight, frame.layerSizes.join(), enabled.join(), store.ui.projector,
      store.options.features.length].join('|');
    if (this.layout && key === this.layoutKey) return this.layout;
    const on = new Set(enabled);
    this.features = store.options.features.map((/** @type {any} */ f) => ({
      name: f.name, label: f.label, enabled: on.has(f.name) }));
    this.layout = computeLayout(this.cssWidth, this.cssHeight, this.features, frame.layerSizes,
      store.ui.projector ? { rightRoom: 72, maxNode: 92 } : { rightRoom: 52 });
    this.layoutKey = key;
    return this.layout;
  }

  /** + / − buttons above each hidden layer (rebuilt only when the layout changes). */
  placeButtons(layout, store) {
    const key = `${layout.key}:${store.role}:${store.ui.projector}`;
    if (key === this.overlayKey) return;
    this.overlayKey = key;
    this.overlay.replaceChildren();
    layout.columns.slice(1, -1).forEach((column, layer) => {
      const pair = document.createElement('div');
      pair.className = 'pair secondary';
      pair.style.left = `${column[0].x}px`;
      pair.style.top = '18px';
      for (const { text, delta, title } of [{ text: '−', delta: -1, title: 'Remove a neuron' },
        { text: '+', delta: 1, title: 'Add a neuron' }]) {
        const button = document.createElement('button');
        button.textContent = text;
        button.title = title;
        button.dataset.testid = `neurons-${delta > 0 ? 'add' : 'remove'}-${layer}`;
        button.addEventListener('click', () => this.handlers.onNeurons(layer, delta));
        pair.append(button);
      }
      this.overlay.append(pair);
    });
  }

  /** @param {MouseEvent} event */
  hit(event) {
    const layout = this.layout;
    if (!layout) return null;
    const rect = this.canvas.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    for (const column of layout.columns) {
      for (const node of column) {
        if (Math.abs(x - node.x) <= node.size / 2 && Math.abs(y - node.y) <= node.size / 2) {
          return { node };
        }
      }
    }
    /** @type {EdgePath | null} */
    let best = null;
    let bestDistance = HIT_RADIUS;
    for (const edge of layout.edges) {
      for (const [px, py] of edge.points) {
        const distance = Math.hypot(px - x, py - y);
        if (distance < bestDistance) { bestDistance = distance; best = edge; }
      }
    }
    return best ? { edge: best } : null;
  }

  /** @param {MouseEvent} event */
  click(event) {
    const found = this.hit(event);
    if (!found) { this.handlers.onSelect(null); return; }
    if (found.node) {
      const node = found.node;
      if (node.kind === 'input') this.handlers.onToggleFeature(/** @type {string} */ (node.feature));
      else this.handlers.onSelect({ layer: node.level - 1, neuron: node.index, source: null });
      return;
    }
    const edge = /** @type {EdgePath} */ (found.edge);
    this.handlers.onSelect({ layer: edge.level, neuron: edge.neuron, source: edge.source });
  }
}
