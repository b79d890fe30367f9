// @ts-check
/**
 * The network diagram's edges, drawn in batches: every thin edge goes into the stroke of its
 * colour and width bucket (widths in WIDTH_STEP px, alphas in ALPHA_STEP steps), so a net
 * of 2,000 edges costs a few dozen strokes instead of 2,000 (software rasterisers fill one
 * large path of thick overlapping strokes slowly, so edges wider than BATCH_WIDTH device px are
 * stroked one by one); whole edges as native cubic Béziers. While the net trains, marks
 * run along the edges from the output back to the inputs (the gradient's way), faster and
 * brighter the larger |dL/dw|; at most FLOW_MARKS of them per picture, on the strongest
 * edges, so the overlay stays cheap enough to redraw on every animation frame.
 *
 * @module render/network_edges
 */

import { along, strokePath, subPath } from './canvas.js';
import { palette, signColor } from './palette.js';
import { maxAbs, weightWidth } from './phase_scales.js';

/** Stroke widths are rounded to this many CSS px (so that edges share a stroke). */
const WIDTH_STEP = 0.25;
/** Edges up to this wide (CSS px) share strokes; wider ones are stroked one by one. */
const BATCH_WIDTH = 2.5;  // device px
/** Edge opacities are rounded to this step. */
const ALPHA_STEP = 0.05;
/** The most flow marks drawn per animation frame. */
export const FLOW_MARKS = 800;
/** Flow marks sit about this many CSS px apart along an edge (fewer on a large net). */
const MARK_SPACING = 14;
/** A mark runs 40 px/s along its edge at the largest gradient (strength 1). */
const MARK_SPEED = 40;
/** Edges whose strength √(|g| / max |g|) is below this carry no marks. */
const MIN_STRENGTH = 0.05;

/**
 * @typedef {import('./network.js').EdgePath} EdgePath
 * @typedef {import('./network.js').Layout} Layout
 * @typedef {import('./phase_picture.js').PictureState} PictureState
 * @typedef {{edge: EdgePath, strength: number, side: number, marks: number}} Flow  one edge's
 *   marks: strength 0 … 1, the marks' side (CSS px), how many run along it
 */

/** Polylines grouped by colour and width; each group is one stroke. */
export class StrokeBatch {
  /** @param {number} [deviceScale]  device px per CSS px (wide means wide on the device) */
  constructor(deviceScale = 1) {
    this.deviceScale = deviceScale;
    /** @type {Map<string, {colour: string, width: number, path: Path2D}>} */
    this.buckets = new Map();
    /** @type {{colour: string, width: number, path: Path2D}[]} wide edges, one stroke each */
    this.singles = [];
  }

  /**
   * @param {number[][] | number[]} shape  a polyline [[x, y], …] or a cubic Bézier
   *   [x0, y0, c1x, c1y, c2x, c2y, x1, y1], CSS px
   * @param {string} colour @param {number} width
   */
  add(shape, colour, width) {
    const rounded = Math.max(WIDTH_STEP, Math.round(width / WIDTH_STEP) * WIDTH_STEP);
    let path;
    if (rounded * this.deviceScale > BATCH_WIDTH) {
      path = new Path2D();
      this.singles.push({ colour, width: rounded, path });
    } else {
      const key = `${colour}|${rounded}`;
      let bucket = this.buckets.get(key);
      if (!bucket) {
        bucket = { colour, width: rounded, path: new Path2D() };
        this.buckets.set(key, bucket);
      }
      path = bucket.path;
    }
    appendShape(path, shape);
  }

  /** Stroke every bucket, thinnest first (thick edges on top). @param {CanvasRenderingContext2D} ctx @param {number[]} [dash] */
  stroke(ctx, dash = []) {
    ctx.setLineDash(dash);
    const all = [...this.buckets.values(), ...this.singles].sort((a, b) => a.width - b.width);
    for (const bucket of all) {
      ctx.strokeStyle = bucket.colour;
      ctx.lineWidth = bucket.width;
      ctx.stroke(bucket.path);
    }
    ctx.setLineDash([]);
    return all.length;
  }
}

/** @param {Path2D} path @param {number[][] | number[]} shape  see StrokeBatch.add */
function appendShape(path, shape) {
  if (typeof shape[0] === 'number') {
    const b = /** @type {number[]} */ (shape);
    path.moveTo(b[0], b[1]);
    path.bezierCurveTo(b[2], b[3], b[4], b[5], b[6], b[7]);
    return;
  }
  const points = /** @type {number[][]} */ (shape);
  if (points.length < 2) return;
  path.moveTo(points[0][0], points[0][1]);
  for (let i = 1; i < points.length; i += 1) path.lineTo(points[i][0], points[i][1]);
}

/** @param {number} alpha */
const roundAlpha = (alpha) => Math.round(alpha / ALPHA_STEP) * ALPHA_STEP;

/**
 * Edges: the weight's sign as colour, |w| as width, in the part and opacity the phase
 * picture leaves them; the selected edge on top, full colour with a dashed accent line.
 * @param {CanvasRenderingContext2D} ctx @param {Layout} layout
 * @param {import('../protocol.js').Frame} frame @param {any} selection  the server's selection
 * @param {number} scale  the |w| drawn thickest @param {PictureState} picture
 */
export function drawEdges(ctx, layout, frame, selection, scale, picture) {
  const p = palette();
  const batch = new StrokeBatch(ctx.getTransform().a);
  /** @type {{edge: EdgePath, weight: number, width: number} | null} */
  let chosen = null;
  for (const edge of layout.edges) {
    const layer = frame.layers[edge.level];
    const weight = picture.shownWeight(edge, layer.weights[edge.neuron * layer.nIn + edge.source]);
    const width = weightWidth(weight, scale, p.lineScale * layout.edgeScale);
    if (selection && selection.source === edge.source && selection.layer === edge.level
      && selection.neuron === edge.neuron) {
      chosen = { edge, weight, width };
      continue;
    }
    const cover = picture.weightCover(edge);
    if (cover >= 1) continue;
    batch.add(cover > 0 ? subPath(edge.points, 0, 1 - cover) : edge.bezier,
      signColor(weight, roundAlpha(picture.weightAlpha(edge))), width);
  }
  ctx.lineCap = 'round';
  batch.stroke(ctx);
  if (chosen) {
    const cover = picture.weightCover(chosen.edge);
    if (cover < 1) strokePath(ctx, subPath(chosen.edge.points, 0, 1 - cover), signColor(chosen.weight, 1), chosen.width + 3);
    strokePath(ctx, chosen.edge.points, p.accent, 1.5 * p.lineScale, [6, 4]);
    ctx.setLineDash([]);
  }
}

/**
 * Which edges carry flow marks while the net trains, strongest first: strength
 * √(|dL/dw| / max |dL/dw|) ≥ MIN_STRENGTH; about one mark per MARK_SPACING px, and at most
 * FLOW_MARKS in all (the weakest edges are left out first).
 * @param {Layout} layout @param {import('../protocol.js').Frame} frame @param {number} scale
 * @returns {Flow[]}
 */
export function flowEdges(layout, frame, scale) {
  const largest = maxAbs(frame.layers.map((l) => l.gradWeights));
  if (!(largest > 0)) return [];
  const lineScale = palette().lineScale * layout.edgeScale;
  /** @type {Flow[]} */
  const flows = [];
  for (const edge of layout.edges) {
    const layer = frame.layers[edge.level];
    const k = edge.neuron * layer.nIn + edge.source;
    const g = layer.gradWeights[k];
    if (!Number.isFinite(g)) continue;
    const strength = Math.sqrt(Math.abs(g) / largest);
    if (strength < MIN_STRENGTH) continue;
    const width = weightWidth(layer.weights[k], scale, lineScale);
    flows.push({ edge, strength, side: Math.max(2, Math.min(5, width * 0.6)), marks: 1 });
  }
  flows.sort((a, b) => b.strength - a.strength);
  flows.length = Math.min(flows.length, FLOW_MARKS);
  const perEdge = Math.max(1, Math.floor(FLOW_MARKS / Math.max(1, flows.length)));
  for (const flow of flows) flow.marks = Math.max(1, Math.min(perEdge, Math.round(flow.edge.length / MARK_SPACING)));
  return flows;
}

/**
 * The flow marks at time `seconds`: mark i of an edge with k marks sits at fraction
 * frac(i/k − seconds·MARK_SPEED·strength/length) of the edge (from the source), so the marks
 * run towards the source; white, more opaque the stronger (four levels, one fill colour each).
 * @param {CanvasRenderingContext2D} ctx @param {Flow[]} flows @param {number} seconds
 * @returns {number}  marks drawn
 */
export function drawFlow(ctx, flows, seconds) {
  let drawn = 0;
  for (let level = 1; level <= 4; level += 1) {
    ctx.fillStyle = `rgba(255,255,255,${(0.25 + 0.6 * (level / 4)).toFixed(2)})`;
    for (const flow of flows) {
      if (Math.min(4, Math.ceil(flow.strength * 4)) !== level) continue;
      const shift = (seconds * MARK_SPEED * flow.strength) / Math.max(1, flow.edge.length);
      const half = flow.side / 2;
      for (let i = 0; i < flow.marks; i += 1) {
        const t = i / flow.marks - shift;
        const [x, y] = along(flow.edge.points, t - Math.floor(t));
        ctx.fillRect(x - half, y - half, flow.side, flow.side);
        drawn += 1;
      }
    }
  }
  return drawn;
}
