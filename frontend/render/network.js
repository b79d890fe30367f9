// @ts-check
/**
 * The network diagram: input features, hidden neurons and outputs as nodes showing their
 * own output maps; edges coloured by the weight's sign and as thick as |w|; biases as small
 * squares. After a phase-step the phase's picture (render/network_animation.js) plays at
 * the chosen pace and stays; the focus point is marked on every neuron's map.
 * During continuous training, dashes flow backwards along each edge at a speed and opacity
 * that grow with |dL/dw|, so the class sees which weights are learning.
 * Draws only what the server sent.
 */

import { lossOf, signedScale } from '../catalogue.js';
import { mapAt } from '../protocol.js';
import { fitCanvas, roundRect, strokePath, subPath } from './canvas.js';
import { PhasePicture } from './network_animation.js';
import { PictureSummary } from './phase_picture.js';
import { paintMap, palette, signColor } from './palette.js';
import { maxAbs, weightScaleOf, weightWidth } from './phase_scales.js';

const HIT_RADIUS = 7;
/** The plane the maps cover: [−EXTENT, EXTENT]² (the frame's map grids). */
const EXTENT = 6;

/**
 * @typedef {{x: number, y: number, size: number, kind: 'input' | 'hidden' | 'output',
 *   level: number, index: number, feature?: string, enabled: boolean}} NodeBox
 * @typedef {{level: number, neuron: number, source: number, points: number[][]}} EdgePath
 * @typedef {{columns: NodeBox[][], edges: EdgePath[], nodeSize: number, key: string,
 *   width: number, height: number, gap: number}} Layout  gap: the least room between two
 *   neurons of a column (CSS px)
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
        edges.push({ level: level - 1, neuron: target.index, source: sourceIndex,
          points: curve(source.x + source.size / 2, source.y, target.x - target.size / 2, target.y) });
      });
    }
  }
  const gaps = columns.slice(1).filter((c) => c.length > 1).map((c) => c[1].y - c[0].y - nodeSize);
  const gap = gaps.length ? Math.min(...gaps) : usable;
  return { columns, edges, nodeSize, width, height, gap, key: `${width}x${height}:${counts.join(',')}:${features.map((f) => +f.enabled).join('')}` };
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
    this.thumbs = new Map();
    this.cssWidth = 0;
    this.cssHeight = 0;
    /** What the phase picture drew last (tests and the benchmark read it). */
    this.animation = new PictureSummary();
    /** @type {{cache: import('./network_animation.js').LabelCache | null}} the edges' numbers, placed once per frame */
    this.labels = { cache: null };
    canvas.addEventListener('click', (event) => this.click(event));
    canvas.addEventListener('mousemove', (event) => {
      canvas.style.cursor = this.hit(event) ? 'pointer' : 'default';
    });
  }

  /**
   * @param {import('../state.js').Store} store
   * @param {number} now  performance.now()
   */
  draw(store, now) {
    const frame = store.frame;
    const fitted = fitCanvas(this.canvas);
    if (!fitted) return;
    const { ctx } = fitted;
    this.cssWidth = fitted.width;
    this.cssHeight = fitted.height;
    ctx.clearRect(0, 0, this.cssWidth, this.cssHeight);
    if (!frame || !store.options || !store.config) return;
    const enabled = new Set(store.config.network.features);
    const features = store.options.features.map((/** @type {any} */ f) => ({
      name: f.name, label: f.label, enabled: enabled.has(f.name) }));
    const layout = computeLayout(this.cssWidth, this.cssHeight, features, frame.layerSizes,
      store.ui.projector ? { rightRoom: 72, maxNode: 92 } : { rightRoom: 52 });
    this.layout = layout;
    this.placeButtons(layout, store);
    const scale = weightScaleOf(frame.layers);
    const picture = new PhasePicture(frame, store, layout, now, scale);
    this.drawEdges(ctx, layout, frame, store, scale, now, picture);
    picture.drawEdgeLayer(ctx);
    this.drawNodes(ctx, layout, frame, store, features, picture);
    picture.drawNodeLayer(ctx);
    picture.layoutLegend(ctx);
    picture.drawLabels(ctx, this.labels);
    picture.drawMovers(ctx);
    picture.drawLegend(ctx);
    this.animation = picture.summary;
    this.canvas.dataset.phaseShown = picture.phase ?? 'none';
    this.canvas.dataset.phaseProgress = picture.progress.toFixed(2);
  }

  /**
   * Edges: weight as colour and width (the part the phase picture leaves them); a flowing
   * dash overlay for |dL/dw| while training.
   * @param {PhasePicture} picture
   */
  drawEdges(ctx, layout, frame, store, scale, now, picture) {
    const p = palette();
    const selection = store.serverState?.selection;
    const gradMax = maxAbs(frame.layers.map((l) => l.gradWeights));
    const training = frame.running;
    ctx.lineCap = 'round';
    for (const edge of layout.edges) {
      const layer = frame.layers[edge.level];
      const w = picture.shownWeight(edge, layer.weights[edge.neuron * layer.nIn + edge.source]);
      const width = weightWidth(w, scale, p.lineScale);
      const chosen = selection && selection.source === edge.source
        && selection.layer === edge.level && selection.neuron === edge.neuron;
      const cover = picture.weightCover(edge);
      const alpha = picture.weightAlpha(edge);
      if (cover < 1) {
        strokePath(ctx, subPath(edge.points, 0, 1 - cover), signColor(w, chosen ? 1 : alpha), chosen ? width + 3 : width);
      }
      if (chosen) strokePath(ctx, edge.points, p.accent, 1.5 * p.lineScale, [6, 4]);
      const g = layer.gradWeights[edge.neuron * layer.nIn + edge.source];
      if (training && gradMax > 0 && Number.isFinite(g)) {
        const strength = Math.sqrt(Math.abs(g) / gradMax);
        if (strength > 0.05) {
          ctx.lineDashOffset = (now / 1000) * 40 * strength;  // dashes run output → input
          strokePath(ctx, edge.points, `rgba(255,255,255,${0.25 + 0.6 * strength})`,
            Math.max(1.2, width * 0.45), [3, 9]);
          ctx.lineDashOffset = 0;
        }
      }
    }
    ctx.setLineDash([]);
  }

  /** @param {PhasePicture} picture */
  drawNodes(ctx, layout, frame, store, features, picture) {
    const p = palette();
    const focus = picture.focusMarked && frame.batch ? frame.batch[frame.focus] : null;
    const selection = store.serverState?.selection;
    const mapLevels = frame.layerSizes.length;
    let enabledIndex = 0;
    for (const column of layout.columns) {
      for (const node of column) {
        const half = node.size / 2;
        const x = node.x - half;
        const y = node.y - half;
        /** @type {Float32Array | null} */
        let values = null;
        let resolution = frame.thumbResolution;
        if (node.kind === 'input') {
          if (node.enabled) values = mapAt(frame, 0, enabledIndex++);
        } else if (node.kind === 'hidden') {
          values = mapAt(frame, node.level, node.index);
        } else {
          values = frame.outputMaps[node.index];
          resolution = frame.mainResolution;
        }
        ctx.save();
        roundRect(ctx, x, y, node.size, node.size, 5);
        ctx.fillStyle = node.enabled ? '#fff' : '#f1f2f4';
        ctx.fill();
        if (values) {
          ctx.clip();
          ctx.imageSmoothingEnabled = true;
          ctx.drawImage(this.thumb(`${node.level}:${node.index}`, values, resolution,
            mapScale(node, store)), x, y, node.size, node.size);
          if (focus) focusMark(ctx, x, y, node.size, focus);
        }
        ctx.restore();
        roundRect(ctx, x, y, node.size, node.size, 5);
        const chosen = selection && selection.source == null && selection.layer === node.level - 1
          && selection.neuron === node.index && node.kind !== 'input';
        ctx.lineWidth = (chosen ? 3 : 1) * p.lineScale;
        ctx.strokeStyle = chosen ? p.accent : node.enabled ? '#9aa3ad' : '#d5d9de';
        ctx.stroke();
        if (node.kind === 'input') {
          const label = features[node.index].label;
          ctx.fillStyle = node.enabled ? p.ink : p.muted;
          const size = store.ui.projector ? Math.max(18, Math.min(22, node.size * 0.5))
            : Math.max(12, Math.min(15, node.size * 0.42));
          ctx.font = `${node.enabled ? 600 : 400} ${size}px system-ui, sans-serif`;
          ctx.textAlign = 'right';
          ctx.textBaseline = 'middle';
          ctx.fillText(label, x - 8, node.y);
        } else {
          this.drawBias(ctx, node, frame);
        }
      }
    }
    if (mapLevels < 2) return;
    ctx.fillStyle = p.muted;
    ctx.font = `${store.ui.projector ? 18 : 12}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'alphabetic';
    layout.columns.forEach((column, level) => {
      const name = level === 0 ? 'features' : level === layout.columns.length - 1 ? 'output'
        : `hidden ${level}`;
      ctx.fillText(name, column[0].x, 14);
    });
  }

  /** A small square at the node's lower left: colour = sign of b, size = |b|. */
  drawBias(ctx, node, frame) {
    const layer = frame.layers[node.level - 1];
    const b = layer.bias[node.index];
    const side = Math.max(5, Math.min(node.size * 0.32, 4 + 6 * Math.min(1, Math.abs(b))));
    const x = node.x - node.size / 2 - side * 0.45;
    const y = node.y + node.size / 2 - side * 0.55;
    ctx.fillStyle = signColor(b, 0.95);
    ctx.fillRect(x, y, side, side);
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 1;
    ctx.strokeRect(x, y, side, side);
  }

  /** The painted thumbnail of one node (re-painted only when its data changed). */
  thumb(key, values, resolution, scale) {
    let entry = this.thumbs.get(key);
    if (!entry) {
      entry = { canvas: document.createElement('canvas'), values: null };
      this.thumbs.set(key, entry);
    }
    if (entry.values !== values) {
      paintMap(entry.canvas, values, resolution, scale);
      entry.values = values;
    }
    return entry.canvas;
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


/**
 * The focus point's place on a neuron's map (the map's colour there is its activation).
 * @param {CanvasRenderingContext2D} ctx @param {number} x @param {number} y  the map's corner
 * @param {number} size @param {{x1: number, x2: number}} point
 */
function focusMark(ctx, x, y, size, point) {
  const px = x + ((point.x1 + EXTENT) / (2 * EXTENT)) * size;
  const py = y + ((EXTENT - point.x2) / (2 * EXTENT)) * size;
  const radius = Math.max(3, size * 0.07);
  ctx.beginPath();
  ctx.arc(px, py, radius, 0, 2 * Math.PI);
  ctx.lineWidth = 3;
  ctx.strokeStyle = '#fff';
  ctx.stroke();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = palette().accent;
  ctx.stroke();
}

/**
 * How a node's raw values map to [−1, 1] for colouring: inputs over the plane's extent,
 * outputs over their loss's value range (catalogue), hidden units squashed by tanh.
 */
function mapScale(node, store) {
  if (node.kind === 'input') {
    const extent = store.options?.limits?.coordinate?.[1] ?? 6;
    return (/** @type {number} */ v) => v / extent;
  }
  if (node.kind === 'output') return signedScale(lossOf(store.options, store.config)?.output_range);
  return (/** @type {number} */ v) => Math.tanh(v);
}
