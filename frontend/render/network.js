// @ts-check
/**
 * The network diagram: input features, hidden neurons and outputs as nodes showing their
 * own output maps; edges coloured by the weight's sign and as thick as |w|; biases as small
 * squares. While the backward phase plays, pulses run from the output back to the inputs
 * (size |dL/dw|, colour its sign); while the forward phase plays they run the other way.
 * During continuous training, dashes flow backwards along each edge at a speed and opacity
 * that grow with |dL/dw|, so the class sees which weights are learning.
 * Draws only what the server sent.
 */

import { lossOf, signedScale } from '../catalogue.js';
import { mapAt } from '../protocol.js';
import { fitCanvas, roundRect } from './canvas.js';
import { paintMap, palette, signColor } from './palette.js';

const PHASE_SECONDS = 1.6;
const HIT_RADIUS = 7;

/**
 * @typedef {{x: number, y: number, size: number, kind: 'input' | 'hidden' | 'output',
 *   level: number, index: number, feature?: string, enabled: boolean}} NodeBox
 * @typedef {{level: number, neuron: number, source: number, points: number[][]}} EdgePath
 * @typedef {{columns: NodeBox[][], edges: EdgePath[], nodeSize: number, key: string}} Layout
 */

/**
 * Where every node and edge goes. Column 0 lists every candidate feature (switched-off
 * ones faded), then one column per hidden layer, then the outputs.
 * @param {number} width
 * @param {number} height
 * @param {{name: string, enabled: boolean}[]} features
 * @param {number[]} layerSizes  the frame's sizes: enabled features, hidden…, outputs
 * @returns {Layout}
 */
export function computeLayout(width, height, features, layerSizes) {
  const counts = [features.length, ...layerSizes.slice(1)];
  const levels = counts.length;
  const labelRoom = 82;  // feature labels such as "cos x₂" at projector size
  const top = 34;
  const bottom = 14;
  const rightRoom = 48;  // room for the last column's label and its half node
  const usable = height - top - bottom;
  const spacing = (width - labelRoom - 20 - rightRoom) / Math.max(1, levels - 1);
  const tallest = Math.max(...counts);
  const nodeSize = Math.max(14, Math.min(68, usable / (tallest * 1.3), spacing * 0.42));
  /** @type {NodeBox[][]} */
  const columns = counts.map((count, level) => {
    const x = labelRoom + 20 + level * spacing;
    const step = Math.min(nodeSize * 1.55, usable / count);
    const first = top + usable / 2 - (step * (count - 1)) / 2;
    return Array.from({ length: count }, (_, index) => ({
      x, y: first + index * step, size: nodeSize,
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
  return { columns, edges, nodeSize, key: `${width}x${height}:${counts.join(',')}:${features.map((f) => +f.enabled).join('')}` };
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

/** Point at fraction t of a sampled path. */
function along(points, t) {
  const f = Math.max(0, Math.min(1, t)) * (points.length - 1);
  const i = Math.min(points.length - 2, Math.floor(f));
  const k = f - i;
  return [points[i][0] + (points[i + 1][0] - points[i][0]) * k,
    points[i][1] + (points[i + 1][1] - points[i][1]) * k];
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
    const layout = computeLayout(this.cssWidth, this.cssHeight, features, frame.layerSizes);
    this.layout = layout;
    this.placeButtons(layout, store);
    const scale = weightScale(frame);
    this.drawEdges(ctx, layout, frame, store, scale, now);
    this.drawNodes(ctx, layout, frame, store, features);
    this.drawPulses(ctx, layout, frame, store, now);
  }

  /** Edges: weight as colour and width; a flowing dash overlay for |dL/dw| while training. */
  drawEdges(ctx, layout, frame, store, scale, now) {
    const p = palette();
    const selection = store.serverState?.selection;
    const gradMax = maxAbs(frame.layers.map((l) => l.gradWeights));
    const training = frame.running;
    ctx.lineCap = 'round';
    for (const edge of layout.edges) {
      const layer = frame.layers[edge.level];
      const w = layer.weights[edge.neuron * layer.nIn + edge.source];
      const width = (0.6 + 5.5 * Math.min(1, Math.abs(w) / scale)) * p.lineScale;
      const chosen = selection && selection.source === edge.source
        && selection.layer === edge.level && selection.neuron === edge.neuron;
      strokePath(ctx, edge.points, signColor(w, chosen ? 1 : 0.78), chosen ? width + 3 : width);
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

  drawNodes(ctx, layout, frame, store, features) {
    const p = palette();
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
          ctx.font = `${node.enabled ? 600 : 400} ${Math.max(12, Math.min(15, node.size * 0.42)) * (store.ui.projector ? 1.3 : 1)}px system-ui, sans-serif`;
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
    ctx.font = `${store.ui.projector ? 16 : 12}px system-ui, sans-serif`;
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

  /** Phase-step animation: pulses along the edges for forward/backward, a glow otherwise. */
  drawPulses(ctx, layout, frame, store, now) {
    const { phase, started } = store.animation;
    if (!phase || frame.running) return;
    const t = (now - started) / 1000 / PHASE_SECONDS;
    if (t > 1.15) return;
    const p = palette();
    const levels = frame.layers.length;
    if (phase === 'forward' || phase === 'backward') {
      const gradMax = maxAbs(frame.layers.map((l) => l.gradWeights));
      const scale = weightScale(frame);
      for (const edge of layout.edges) {
        const order = phase === 'forward' ? edge.level : levels - 1 - edge.level;
        const local = (t * levels - order);  // each layer gets its slot of the animation
        if (local < 0 || local > 1) continue;
        const layer = frame.layers[edge.level];
        const k = edge.neuron * layer.nIn + edge.source;
        const value = phase === 'forward' ? layer.weights[k] : layer.gradWeights[k];
        const size = phase === 'forward' ? Math.abs(value) / scale
          : gradMax > 0 ? Math.sqrt(Math.abs(value) / gradMax) : 0;
        if (!Number.isFinite(size) || size < 0.02) continue;
        const [x, y] = along(edge.points, phase === 'forward' ? local : 1 - local);
        ctx.beginPath();
        ctx.arc(x, y, (2 + 7 * Math.min(1, size)) * Math.sqrt(p.lineScale), 0, 2 * Math.PI);
        ctx.fillStyle = phase === 'forward' ? 'rgba(60,60,70,0.55)' : signColor(value, 0.9);
        ctx.fill();
        ctx.strokeStyle = '#fff';
        ctx.lineWidth = 1.2;
        ctx.stroke();
      }
    } else {
      const column = phase === 'loss' ? layout.columns[layout.columns.length - 1]
        : layout.columns.slice(1).flat();
      const glow = Math.sin(Math.min(1, t) * Math.PI);
      for (const node of column) {
        ctx.beginPath();
        roundRect(ctx, node.x - node.size / 2 - 4, node.y - node.size / 2 - 4, node.size + 8,
          node.size + 8, 8);
        ctx.strokeStyle = `rgba(123,63,228,${0.85 * glow})`;
        ctx.lineWidth = 4 * p.lineScale;
        ctx.stroke();
      }
    }
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

/** The |w| that draws as the thickest edge: the largest weight, at least 1. */
function weightScale(frame) {
  return Math.max(1, maxAbs(frame.layers.map((l) => l.weights)));
}

/** @param {Float32Array[]} arrays */
function maxAbs(arrays) {
  let best = 0;
  for (const array of arrays) {
    for (const v of array) if (Number.isFinite(v) && Math.abs(v) > best) best = Math.abs(v);
  }
  return best;
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

function strokePath(ctx, points, color, width, dash = []) {
  ctx.beginPath();
  ctx.moveTo(points[0][0], points[0][1]);
  for (let i = 1; i < points.length; i++) ctx.lineTo(points[i][0], points[i][1]);
  ctx.setLineDash(dash);
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.stroke();
}
