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
 * The thin edges are kept painted in an EdgeLayer between pictures: while a net trains only
 * a few edges change their look (colour, width step, drawn part) from one frame to the next,
 * so only the layers of edges (between two columns) that hold one are cleared and stroked
 * again, clipped to their rectangle, in the same order: the same pixels as a whole repaint.
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

/**
 * The stroke width an edge of `width` CSS px is drawn with: a multiple of WIDTH_STEP, at
 * least one step (edges of one colour and step share a stroke).
 * @param {number} width
 */
export function strokeWidthOf(width) {
  return Math.max(WIDTH_STEP, Math.round(width / WIDTH_STEP) * WIDTH_STEP);
}

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
    const rounded = strokeWidthOf(width);
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

  /**
   * The bucket of this colour and width, made (empty) now if there is none yet: buckets of
   * one width are stroked in the order they were made.
   * @param {string} colour @param {number} width
   */
  reserve(colour, width) {
    const rounded = strokeWidthOf(width);
    if (rounded * this.deviceScale > BATCH_WIDTH) return;
    const key = `${colour}|${rounded}`;
    if (!this.buckets.has(key)) this.buckets.set(key, { colour, width: rounded, path: new Path2D() });
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
 * What each edge looks like in a picture: colour, stroke width (strokeWidthOf), the part of
 * it left uncovered (1 − cover; cover ≥ 1: not drawn); the selected edge apart.
 * @typedef {{colours: string[], widths: Float64Array, covers: Float64Array,
 *   chosen: {edge: EdgePath, weight: number, width: number} | null}} EdgeLooks
 */

/**
 * Every edge's look: the weight's sign as colour (at the opacity the phase picture gives
 * it), |w| as width; the selected edge is left out of the rest (chosen).
 * @param {Layout} layout @param {import('../protocol.js').Frame} frame
 * @param {any} selection  the server's selection @param {number} scale  the |w| drawn thickest
 * @param {PictureState} picture @returns {EdgeLooks}
 */
export function edgeLooks(layout, frame, selection, scale, picture) {
  const lineScale = palette().lineScale * layout.edgeScale;
  const count = layout.edges.length;
  /** @type {EdgeLooks} */
  const looks = { colours: new Array(count), widths: new Float64Array(count), covers: new Float64Array(count),
    chosen: null };
  /** @type {Map<number, string>} signColor by sign and opacity (a few of them per picture) */
  const colours = new Map();
  for (let i = 0; i < count; i += 1) {
    const edge = layout.edges[i];
    const layer = frame.layers[edge.level];
    const weight = picture.shownWeight(edge, layer.weights[edge.neuron * layer.nIn + edge.source]);
    const width = weightWidth(weight, scale, lineScale);
    if (selection && selection.source === edge.source && selection.layer === edge.level
      && selection.neuron === edge.neuron) {
      looks.chosen = { edge, weight, width };
      looks.covers[i] = 1;
      looks.colours[i] = '';
      continue;
    }
    const alpha = roundAlpha(picture.weightAlpha(edge));
    const key = weight < 0 ? -1 - alpha : alpha;  // signColor's colour is the sign's: < 0 or not
    let colour = colours.get(key);
    if (colour === undefined) { colour = signColor(weight, alpha); colours.set(key, colour); }
    looks.covers[i] = Math.min(1, picture.weightCover(edge));
    looks.colours[i] = colour;
    looks.widths[i] = strokeWidthOf(width);
  }
  return looks;
}

/**
 * Stroke the edges `which` selects (all: null) with their looks, in one batch whose buckets
 * are made in the order all edges would make them (so that a part of the picture is
 * stroked in the same order as the whole).
 * @param {CanvasRenderingContext2D} ctx @param {Layout} layout @param {EdgeLooks} looks
 * @param {Uint8Array | null} which
 */
function strokeEdges(ctx, layout, looks, which) {
  const batch = new StrokeBatch(ctx.getTransform().a);
  layout.edges.forEach((edge, i) => {
    const cover = looks.covers[i];
    if (cover >= 1) return;
    if (which && !which[i]) { batch.reserve(looks.colours[i], looks.widths[i]); return; }
    batch.add(cover > 0 ? subPath(edge.points, 0, 1 - cover) : edge.bezier, looks.colours[i], looks.widths[i]);
  });
  ctx.lineCap = 'round';
  batch.stroke(ctx);
}

/**
 * Edges: the weight's sign as colour, |w| as width, in the part and opacity the phase
 * picture leaves them; the selected edge on top, full colour with a dashed accent line.
 * The thin edges come from `layer` (repainted where their looks changed) and replace
 * whatever `ctx` held: they are the picture's first layer.
 * @param {CanvasRenderingContext2D} ctx @param {Layout} layout
 * @param {import('../protocol.js').Frame} frame @param {any} selection  the server's selection
 * @param {number} scale  the |w| drawn thickest @param {PictureState} picture
 * @param {EdgeLayer} layer
 */
export function drawEdges(ctx, layout, frame, selection, scale, picture, layer) {
  const p = palette();
  const looks = edgeLooks(layout, frame, selection, scale, picture);
  layer.paint(ctx, layout, looks);
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.globalCompositeOperation = 'copy';  // a copy, no blending: the picture's first layer
  ctx.drawImage(layer.canvas, 0, 0);
  ctx.restore();
  ctx.lineCap = 'round';  // as the edges were stroked (the picture's later layers draw with it)
  const chosen = looks.chosen;
  if (chosen) {
    const cover = picture.weightCover(chosen.edge);
    if (cover < 1) strokePath(ctx, subPath(chosen.edge.points, 0, 1 - cover), signColor(chosen.weight, 1), chosen.width + 3);
    strokePath(ctx, chosen.edge.points, p.accent, 1.5 * p.lineScale, [6, 4]);
    ctx.setLineDash([]);
  }
}

/** Repaint everything when more than this share of the picture would be repainted. */
const FULL_REPAINT_SHARE = 0.6;

/**
 * The rectangles to repaint (device px, whole pixels) for the edges whose look changed from
 * `before` to `after`: for each layer of edges with a change, the bounding box of all its
 * edges, grown by half the widest stroke there and 2 CSS px (round caps, antialiasing). No
 * other edge reaches into it (the edges of the layers beside it end at their nodes' sides)
 * and none of its own crosses its sides, so repainting it clipped to it gives the same
 * pixels as a whole repaint, as long as each of its edges is a hairline (at most a device
 * px wide: rasterised line by line) or a stroke of its own; a stroke shared by edges wider
 * than that is rasterised as one outline, antialiased a little differently in part than in
 * whole. Null when everything should be repainted (no `before`, a changed layer with a
 * shared wide stroke, or the rectangles would cover more than FULL_REPAINT_SHARE of the
 * picture).
 * Pure: tests/frontend/network_edges.test.mjs.
 * @param {EdgePath[]} edges @param {EdgeLooks | null} before @param {EdgeLooks} after
 * @param {number} sx @param {number} sy  device px per CSS px @param {number} width @param {number} height  device px
 * @returns {number[][] | null}  [x0, y0, x1, y1] each
 */
export function changedRects(edges, before, after, sx, sy, width, height) {
  if (!before || before.colours.length !== after.colours.length) return null;
  /** @type {Set<number>} */
  const levels = new Set();
  for (let i = 0; i < edges.length; i += 1) {
    if (before.colours[i] !== after.colours[i] || before.widths[i] !== after.widths[i]
      || before.covers[i] !== after.covers[i]) levels.add(edges[i].level);
  }
  for (let i = 0; i < edges.length; i += 1) {
    if (levels.has(edges[i].level) && (sharedOutline(before, i, sx) || sharedOutline(after, i, sx))) return null;
  }
  /** @type {Map<number, number[]>} edge layer → its rectangle */
  const byLevel = new Map();
  const box = [0, 0, 0, 0];
  for (let i = 0; i < edges.length; i += 1) {
    const level = edges[i].level;
    if (!levels.has(level)) continue;
    const [x0, y0, x1, y1] = edgeRect(edges[i], Math.max(before.widths[i], after.widths[i]), sx, sy, width, height, box);
    const union = byLevel.get(level);
    if (!union) { byLevel.set(level, [x0, y0, x1, y1]); continue; }
    union[0] = Math.min(union[0], x0); union[1] = Math.min(union[1], y0);
    union[2] = Math.max(union[2], x1); union[3] = Math.max(union[3], y1);
  }
  const rects = [...byLevel.values()];
  const area = rects.reduce((sum, [x0, y0, x1, y1]) => sum + (x1 - x0) * (y1 - y0), 0);
  return area > FULL_REPAINT_SHARE * width * height ? null : rects;
}

/**
 * Whether edge i is drawn in a shared stroke wider than a device px (see StrokeBatch).
 * @param {EdgeLooks} looks @param {number} i @param {number} deviceScale
 */
function sharedOutline(looks, i, deviceScale) {
  const device = looks.widths[i] * deviceScale;
  return looks.covers[i] < 1 && device > 1 && device <= BATCH_WIDTH;
}

/**
 * An edge's bounding box in whole device px, grown by half its stroke and 2 CSS px.
 * @param {EdgePath} edge @param {number} strokeWidth  CSS px @param {number} sx @param {number} sy
 * @param {number} width @param {number} height  the picture, device px
 * @param {number[]} [box]  filled and returned (else a new array)
 */
function edgeRect(edge, strokeWidth, sx, sy, width, height, box = [0, 0, 0, 0]) {
  const b = edge.bezier;  // horizontal tangents: the ends [0, 1] and [6, 7] bound the curve
  const grow = strokeWidth / 2 + 2;
  box[0] = Math.max(0, Math.floor((Math.min(b[0], b[6]) - grow) * sx));
  box[1] = Math.max(0, Math.floor((Math.min(b[1], b[7]) - grow) * sy));
  box[2] = Math.min(width, Math.ceil((Math.max(b[0], b[6]) + grow) * sx));
  box[3] = Math.min(height, Math.ceil((Math.max(b[1], b[7]) + grow) * sy));
  return box;
}

/**
 * Which edges reach into any of `rects` (device px): those must be stroked again there.
 * @param {EdgePath[]} edges @param {EdgeLooks} looks @param {number[][]} rects
 * @param {number} sx @param {number} sy @param {number} width @param {number} height
 */
export function edgesInRects(edges, looks, rects, sx, sy, width, height) {
  const which = new Uint8Array(edges.length);
  const box = [0, 0, 0, 0];
  for (let i = 0; i < edges.length; i += 1) {
    if (looks.covers[i] >= 1) continue;
    const [a0, b0, a1, b1] = edgeRect(edges[i], looks.widths[i], sx, sy, width, height, box);
    for (const [x0, y0, x1, y1] of rects) {
      if (a0 < x1 && x0 < a1 && b0 < y1 && y0 < b1) { which[i] = 1; break; }
    }
  }
  return which;
}

/**
 * The thin edges, painted in a canvas of their own (the picture's size) and kept: a new
 * picture repaints only the rectangles around the edges whose look changed (changedRects),
 * clipped to them, or all of it when the layout, the size or too many edges changed.
 * (A rectangle's sides must cross no edge: the rasteriser clips a hairline that crosses one
 * before stepping along it, which moves its antialiased pixels a little.)
 */
export class EdgeLayer {
  constructor() {
    this.canvas = document.createElement('canvas');
    /** @type {EdgeLooks | null} the looks painted */
    this.looks = null;
    /** @type {Layout | null} */
    this.layout = null;
    /** Whole and partial repaints, and pictures that needed none (the benchmark reads them). */
    this.full = 0;
    this.partial = 0;
    this.kept = 0;
  }

  /**
   * Bring the layer up to `looks`, at the size of the picture `target` is drawn into.
   * @param {CanvasRenderingContext2D} target @param {Layout} layout @param {EdgeLooks} looks
   */
  paint(target, layout, looks) {
    const { width, height } = target.canvas;
    const { a: sx, d: sy } = target.getTransform();
    const canvas = this.canvas;
    let before = this.looks;
    if (canvas.width !== width || canvas.height !== height || this.layout !== layout) {
      canvas.width = width;
      canvas.height = height;
      before = null;
    }
    const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
    const rects = changedRects(layout.edges, before, looks, sx, sy, width, height);
    this.looks = looks;
    this.layout = layout;
    if (rects && rects.length === 0) { this.kept += 1; return; }
    if (!rects) {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, width, height);
      ctx.setTransform(sx, 0, 0, sy, 0, 0);
      strokeEdges(ctx, layout, looks, null);
    }
    // one rectangle at a time: a clip to one whole-pixel rectangle that no edge crosses leaves
    // the pixels inside as a whole repaint draws them (a clip to a union of rectangles does not)
    for (const rect of rects ?? []) {
      const [x0, y0, x1, y1] = rect;
      ctx.save();
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(x0, y0, x1 - x0, y1 - y0);
      ctx.beginPath();
      ctx.rect(x0, y0, x1 - x0, y1 - y0);
      ctx.clip();
      ctx.setTransform(sx, 0, 0, sy, 0, 0);
      strokeEdges(ctx, layout, looks, edgesInRects(layout.edges, looks, [rect], sx, sy, width, height));
      ctx.restore();
    }
    if (rects) this.partial += 1;
    else this.full += 1;
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
