// @ts-check
/**
 * The four phase pictures drawn over the network diagram (render/network.js) after a
 * phase-step. Each is animated once at the chosen pace and then stays on screen until the
 * next phase runs (state.js keeps the animation's start, pace and replays):
 *
 * - forward: the focus point flows left to right. A dot runs along every edge, sized and
 *   coloured by w·a (the weight times the source's activation for that point) and leaves
 *   its number on the edge; each neuron shows its z and a as the wave reaches it.
 * - loss: the output against the target for the focus point, and the batch's loss.
 * - backward: δ = dL/dz travels from the output to the inputs. As it passes, each edge is
 *   repainted in the gradient palette (sign of dL/dw; width log-scaled over a few decades,
 *   so small gradients still show) and each neuron is ringed by |dL/db| = |Σ_b δ|.
 * - update: each edge morphs from its old weight to its new one while a faint line beside
 *   it keeps the old thickness; tiny changes are magnified by a stated factor.
 *
 * Everything comes from the frame (the server's numbers); nothing of the model is computed.
 */

import { along, offsetPath, pill, roundRect, subPath } from './canvas.js';
import { formatNumber } from './format.js';
import { gradientColor, signColor } from './palette.js';
import { StrokeBatch } from './network_edges.js';
import { PictureState } from './phase_picture.js';
import { GRADIENT_DECADES, formatFactor, logWidth, placeLabels, weightWidth } from './phase_scales.js';

/** How far (of an edge) a dot runs past a number before the number shows. */
const REVEAL = 0.12;
/** More edges than this: only the largest values get a number. */
const MAX_EDGE_LABELS = 40;
/** Where along an edge its number may sit, best first. */
const LABEL_SPOTS = [0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73, 0.2, 0.8];

/**
 * @typedef {import('../protocol.js').Frame} Frame
 * @typedef {import('./network.js').NodeBox} NodeBox
 * @typedef {{x: number, y: number, width: number, height: number, id: number, clear: boolean,
 *   t: number, text: string}} EdgeLabel
 * @typedef {{key: string, labels: EdgeLabel[]}} LabelCache
 */

/** The picture drawn: call its layers in the order network.js does. */
export class PhasePicture extends PictureState {

  /** Under the nodes: gradient strokes, update ghosts. @param {CanvasRenderingContext2D} ctx */
  drawEdgeLayer(ctx) {
    if (this.phase === 'backward') this.drawGradients(ctx);
    else if (this.phase === 'update') this.drawGhosts(ctx);
  }

  /** On top of everything: the forward dots and the δ pulses on their way. @param {CanvasRenderingContext2D} ctx */
  drawMovers(ctx) {
    if (this.phase === 'forward') this.drawForwardDots(ctx);
    else if (this.phase === 'backward') this.drawPulses(ctx);
  }

  /** @param {CanvasRenderingContext2D} ctx */
  drawGradients(ctx) {
    const widths = this.summary.gradientWidths;
    ctx.lineCap = 'butt';
    const batch = new StrokeBatch(ctx.getTransform().a);
    const zero = new StrokeBatch(ctx.getTransform().a);
    for (const edge of this.layout.edges) {
      const local = this.edgeProgress(edge);
      if (local <= 0) continue;
      const layer = this.frame.layers[edge.level];
      const g = layer.gradWeights[edge.neuron * layer.nIn + edge.source];
      if (!Number.isFinite(g)) continue;
      const width = logWidth(g, this.gradScale);
      const part = subPath(edge.points, 1 - local, 1);
      if (width === null) {  // exactly zero: a thin grey dotted line says "no gradient"
        zero.add(part, 'rgba(110,117,133,0.8)', 1.5 * this.p.lineScale);
      } else {
        batch.add(part, gradientColor(g, 0.92), width);
        if (local >= 1) record(widths, width);
      }
    }
    batch.stroke(ctx);
    zero.stroke(ctx, [2, 4]);
    ctx.lineCap = 'round';
  }

  /** @param {CanvasRenderingContext2D} ctx  δ pulses at the front of each edge's repainting */
  drawPulses(ctx) {
    for (const edge of this.layout.edges) {
      const local = this.edgeProgress(edge);
      if (local <= 0 || local >= 1) continue;
      const layer = this.frame.layers[edge.level];
      const g = layer.gradWeights[edge.neuron * layer.nIn + edge.source];
      if (!Number.isFinite(g)) continue;
      const [x, y] = along(edge.points, 1 - local);
      dot(ctx, x, y, (logWidth(g, this.gradScale) ?? 4) / 2 + 3 * Math.sqrt(this.p.lineScale), gradientColor(g, 1));
    }
  }

  /** @param {CanvasRenderingContext2D} ctx  a faint line beside each edge with its old thickness */
  drawGhosts(ctx) {
    const scale = this.weightScale;
    const lineScale = this.p.lineScale * this.layout.edgeScale;
    const batch = new StrokeBatch(ctx.getTransform().a);
    for (const edge of this.layout.edges) {
      const layer = this.frame.layers[edge.level];
      const k = edge.neuron * layer.nIn + edge.source;
      const change = layer.updateWeights[k];
      if (!Number.isFinite(change)) continue;
      const old = layer.weights[k] - this.factor * change;
      const ghost = weightWidth(old, scale, lineScale);
      const shown = weightWidth(this.shownWeight(edge, layer.weights[k]), scale, lineScale);
      const side = shown / 2 + ghost / 2 + 1.5 * lineScale;
      // grey: the old thickness (magnified), whatever its sign
      batch.add(offsetPath(subPath(edge.points, 0.14, 0.86), side), 'rgba(45,52,64,0.5)', ghost);
    }
    batch.stroke(ctx, [7, 4]);
  }

  /** @param {CanvasRenderingContext2D} ctx  w·a dots travelling along the edges */
  drawForwardDots(ctx) {
    if (!this.focus) return;
    const largest = Math.max(1e-12, ...this.layout.edges.map((e) => Math.abs(this.edgeValue(e)) || 0));
    for (const edge of this.layout.edges) {
      const local = this.edgeProgress(edge);
      if (local <= 0 || local >= 1) continue;
      const value = this.edgeValue(edge);
      if (!Number.isFinite(value)) continue;
      const [x, y] = along(edge.points, local);
      const radius = (2.5 + 6 * Math.sqrt(Math.min(1, Math.abs(value) / largest))) * Math.sqrt(this.p.lineScale);
      dot(ctx, x, y, radius, signColor(value, 0.95));
    }
  }

  /** Over the nodes: the neurons' numbers and rings, the loss box. @param {CanvasRenderingContext2D} ctx */
  drawNodeLayer(ctx) {
    if (!this.phase) return;
    ctx.font = this.font;
    if (this.phase === 'backward') this.drawRings(ctx);
    if (this.phase === 'forward' || this.phase === 'loss') this.drawActivations(ctx);
    if (this.phase === 'loss') this.drawLoss(ctx);
  }

  /** @param {CanvasRenderingContext2D} ctx  each reached neuron's activation (the outputs' z too) */
  drawActivations(ctx) {
    const focus = this.focus;
    if (!focus) return;
    const p = this.p;
    for (const column of this.layout.columns) {
      for (const node of column) {
        if (!node.enabled || !this.reached(node) || !this.fits(node)) continue;
        const a = node.level === 0 ? focus.inputs[this.inputIndex.get(node) ?? 0] : focus.a[node.level - 1][node.index];
        const output = node.kind === 'output';
        const text = output ? `a = ${formatNumber(a, 2)}` : formatNumber(a, 2);
        const box = this.nodePill(ctx, node, text);
        pill(ctx, box, text, signColor(a, 1), p.ink, 2);
        if (output) {
          const z = `z = ${formatNumber(focus.z[node.level - 1][node.index], 2)}`;
          const below = this.nodePill(ctx, node, z, true);
          below.y = Math.max(below.y, box.y + box.height + 2);
          pill(ctx, below, z, p.muted, p.ink, 1);
        }
      }
    }
  }

  /** @param {CanvasRenderingContext2D} ctx  each neuron ringed by |dL/db|, with its number */
  drawRings(ctx) {
    const widths = this.summary.gradientWidths;
    for (const column of this.layout.columns.slice(1)) {
      for (const node of column) {
        if (!this.reached(node)) continue;
        const g = this.frame.layers[node.level - 1].gradBias[node.index];
        if (!Number.isFinite(g)) continue;
        const width = logWidth(g, this.ringScale);
        if (width !== null) {
          const out = 2 + width / 2;
          roundRect(ctx, node.x - node.size / 2 - out, node.y - node.size / 2 - out,
            node.size + 2 * out, node.size + 2 * out, 6 + out);
          ctx.lineWidth = width;
          ctx.strokeStyle = gradientColor(g, 0.9);
          ctx.stroke();
          record(widths, width);
        }
        if (!this.fits(node)) continue;
        const text = formatNumber(g, 2);
        pill(ctx, this.nodePill(ctx, node, text), text, gradientColor(g, 1), this.p.ink, 2);
      }
    }
  }

  /** @param {CanvasRenderingContext2D} ctx  the output against its target, and the batch loss */
  drawLoss(ctx) {
    const p = this.p;
    const outputs = this.layout.columns[this.layout.columns.length - 1];
    const glow = Math.min(1, this.progress / 0.4);
    for (const node of outputs) {
      roundRect(ctx, node.x - node.size / 2 - 5, node.y - node.size / 2 - 5, node.size + 10, node.size + 10, 9);
      ctx.strokeStyle = p.accent;
      ctx.globalAlpha = 0.85 * glow;
      ctx.lineWidth = 4 * p.lineScale;
      ctx.stroke();
      ctx.globalAlpha = 1;
    }
    if (this.progress < 0.4 || !this.focus) return;
    const point = /** @type {NonNullable<Frame['batch']>} */ (this.frame.batch)[this.frame.focus];
    const last = outputs[outputs.length - 1];
    const lines = [`target y = ${formatNumber(point.target, 3)}`, `loss ℓ = ${formatNumber(point.loss, 3)}`,
      `batch L = ${formatNumber(this.frame.batchLoss, 3)}`];
    const line = this.fontPx * 1.3;
    const width = Math.max(...lines.map((text) => ctx.measureText(text).width)) + 12;
    const x = Math.min(last.x, this.layout.width - width / 2 - 2);
    let y = last.y + last.size / 2 + 2 * (this.fontPx + 6) + 12;
    roundRect(ctx, x - width / 2, y - 4, width, line * lines.length + 6, 6);
    ctx.fillStyle = 'rgba(255,255,255,0.93)';
    ctx.fill();
    ctx.strokeStyle = p.accent;
    ctx.lineWidth = 1.5;
    ctx.stroke();
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const text of lines) {
      ctx.fillStyle = p.ink;
      ctx.fillText(text, x, y);
      y += line;
    }
  }

  /**
   * The edges' numbers (placed once per frame and layout, then revealed as the wave passes).
   * @param {CanvasRenderingContext2D} ctx @param {{cache: LabelCache | null}} holder
   */
  drawLabels(ctx, holder) {
    if (this.phase !== 'forward' && this.phase !== 'backward' && this.phase !== 'update') return;
    ctx.font = this.font;
    const key = `${this.layout.key}|${this.phase}|${this.frame.sequence}|${this.fontPx}|${this.legendBox?.width}`;
    if (!holder.cache || holder.cache.key !== key) holder.cache = { key, labels: this.placeEdgeLabels(ctx) };
    const labels = holder.cache.labels;
    const colour = this.phase === 'backward' ? gradientColor : signColor;
    for (const label of labels) {
      if (!label.clear) continue;  // a number that would cover another is left out (its dot shows it)
      const edge = this.layout.edges[label.id];
      const local = this.edgeProgress(edge);
      // a number shows once its dot (pulse) has passed it, so the mover stays in sight
      const passed = this.phase === 'backward' ? local >= Math.min(1, 1 - label.t + REVEAL)
        : local >= Math.min(1, label.t + REVEAL);
      if (!passed) continue;
      pill(ctx, label, label.text, colour(this.edgeValue(edge), 1), this.p.ink, 2);
    }
    this.summary.labels = labels.filter((l) => l.clear).length;
    this.summary.edges = this.layout.edges.length;
    if (this.phase === 'backward') this.sampleEdges(labels);
  }

  /** @param {CanvasRenderingContext2D} ctx @returns {EdgeLabel[]} */
  placeEdgeLabels(ctx) {
    const height = this.fontPx + 6;
    const edges = this.layout.edges
      .map((edge, id) => ({ edge, id, value: this.edgeValue(edge) }))
      .filter((entry) => Number.isFinite(entry.value))
      .sort((a, b) => Math.abs(b.value) - Math.abs(a.value))
      .slice(0, MAX_EDGE_LABELS);
    const texts = new Map(edges.map(({ id, value }) => [id, formatNumber(value, 2)]));
    const requests = edges.map(({ edge, id }) => ({
      id, height, width: ctx.measureText(/** @type {string} */ (texts.get(id))).width + 10,
      spots: LABEL_SPOTS.map((t) => along(edge.points, t)),
    }));
    const placed = placeLabels(requests, this.obstacles(height), { width: this.layout.width, height: this.layout.height });
    return placed.map((box) => {
      const request = /** @type {typeof requests[number]} */ (requests.find((r) => r.id === box.id));
      const spot = request.spots.findIndex(([x, y]) => x === box.x && y === box.y);
      return { ...box, t: LABEL_SPOTS[Math.max(0, spot)], text: /** @type {string} */ (texts.get(box.id)) };
    });
  }

  /** Points on finished gradient edges clear of labels and nodes (the tests' pixel probes). @param {EdgeLabel[]} labels */
  sampleEdges(labels) {
    const obstacles = [...labels, ...this.obstacles(this.fontPx + 6)];
    for (const edge of this.layout.edges) {
      const layer = this.frame.layers[edge.level];
      const g = layer.gradWeights[edge.neuron * layer.nIn + edge.source];
      if (this.edgeProgress(edge) < 1 || logWidth(g, this.gradScale) === null) continue;
      for (const t of [0.3, 0.7, 0.4, 0.6, 0.2, 0.8]) {
        const [x, y] = along(edge.points, t);
        const inside = obstacles.some((b) => Math.abs(x - b.x) < b.width / 2 + 3 && Math.abs(y - b.y) < b.height / 2 + 3);
        const crossing = this.layout.edges.some((other) => other !== edge
          && other.points.some(([ox, oy]) => Math.hypot(ox - x, oy - y) < 16));
        if (!inside && !crossing) { this.summary.edgeSamples.push({ x, y, sign: Math.sign(g) }); break; }
      }
    }
  }

  /** @returns {[string, string | null][]} the legend's lines and their swatches' colours */
  legendItems() {
    if (this.phase === 'forward') return [['edges: w·a for the focus point ◎', null], ['neurons: its activation a', null]];
    if (this.phase === 'backward') {
      return [['dL/dw > 0', gradientColor(1, 1)], ['dL/dw < 0', gradientColor(-1, 1)],
        [`width: log |dL/dw|, ${GRADIENT_DECADES} decades`, null], ['rings, numbers: dL/db', null]];
    }
    if (this.phase === 'update') {
      return [[`dashed: w before${this.factor > 1 ? ` (Δw ×${formatFactor(this.factor)})` : ''}`, null], ['numbers: Δw', null]];
    }
    return [];
  }

  /** Lay the legend out in the lower right corner (before the edge numbers avoid it). @param {CanvasRenderingContext2D} ctx */
  layoutLegend(ctx) {
    const items = this.legendItems();
    if (!items.length) { this.legendBox = null; return; }
    ctx.font = `${this.fontPx}px system-ui, sans-serif`;
    const line = this.fontPx * 1.35;
    const swatch = items.some(([, colour]) => colour) ? 18 * Math.sqrt(this.p.lineScale) + 8 : 0;
    const width = Math.max(...items.map(([text]) => ctx.measureText(text).width)) + swatch + 8;
    const height = line * items.length + 6;
    this.legendBox = { x: this.layout.width - width / 2 - 2, y: this.layout.height - height / 2 - 2, width, height };
    this.legend = { items, line, swatch };
  }

  /** What the picture shows, in the lower right corner. @param {CanvasRenderingContext2D} ctx */
  drawLegend(ctx) {
    if (!this.legendBox || !this.legend) return;
    const { items, line, swatch } = this.legend;
    const box = this.legendBox;
    ctx.font = `${this.fontPx}px system-ui, sans-serif`;
    ctx.fillStyle = 'rgba(255,255,255,0.9)';
    ctx.fillRect(box.x - box.width / 2, box.y - box.height / 2, box.width, box.height);
    const x = box.x - box.width / 2 + 4;
    let y = box.y - box.height / 2 + 3;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    for (const [text, colour] of items) {
      if (colour) {
        ctx.fillStyle = colour;
        ctx.fillRect(x, y + line * 0.22, swatch - 8, Math.max(5, line * 0.45));
      }
      ctx.fillStyle = this.p.ink;
      ctx.fillText(text, x + swatch, y);
      y += line;
    }
  }
}

/** @param {{min: number, max: number, count: number}} widths @param {number} width */
function record(widths, width) {
  widths.min = Math.min(widths.min, width);
  widths.max = Math.max(widths.max, width);
  widths.count += 1;
}

/** A filled dot with a white rim. @param {CanvasRenderingContext2D} ctx */
function dot(ctx, x, y, radius, colour) {
  ctx.beginPath();
  ctx.arc(x, y, radius, 0, 2 * Math.PI);
  ctx.fillStyle = colour;
  ctx.fill();
  ctx.setLineDash([]);
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = 1.5;
  ctx.stroke();
}
