// @ts-check
/**
 * The minibatch on the output plot (render/output_plot.js): while a run is paused, the
 * batch's listed points (frame.batch, the first N of B) are ringed and its focus point
 * (frame.focus) gets a thick accent ring and a cross; `batchPointAt` finds a ringed point
 * under the mouse, so a click can choose the focus point.
 *
 * @module render/plot_batch
 */

import { canvasPoint } from './canvas.js';
import { palette } from './palette.js';

/** @typedef {{index: number, x: number, y: number, radius: number}} Ring  index: into frame.batch; canvas CSS px */

/** @type {WeakMap<HTMLCanvasElement, Ring[]>} the rings of each plot's last draw */
const drawn = new WeakMap();

/**
 * Ring the minibatch's listed points; the focus point gets a thick accent ring and a cross.
 * @param {CanvasRenderingContext2D} ctx @param {HTMLCanvasElement} canvas
 * @param {import('../protocol.js').Frame | null} frame
 * @param {number} radius  the data points' radius
 * @param {(x1: number) => number} toX @param {(x2: number) => number} toY @param {boolean} projector
 * @returns {Ring[]}  nothing while the run trains (the batch changes every frame)
 */
export function ringBatch(ctx, canvas, frame, radius, toX, toY, projector) {
  if (!frame?.batch || frame.running) { drawn.set(canvas, []); return []; }
  const p = palette();
  const batch = frame.batch;
  const ring = radius + (projector ? 4 : 3);
  const rings = batch.map((point, index) => ({ index, x: toX(point.x1), y: toY(point.x2), radius: ring }));
  ctx.setLineDash([]);
  for (const { x, y } of rings) {
    ctx.beginPath();
    ctx.arc(x, y, ring, 0, 2 * Math.PI);
    ctx.lineWidth = projector ? 4.5 : 3.5;
    ctx.strokeStyle = 'rgba(255,255,255,0.95)';
    ctx.stroke();
    ctx.lineWidth = projector ? 2.5 : 1.8;
    ctx.strokeStyle = p.ink;
    ctx.stroke();
  }
  const focus = rings[frame.focus];
  if (focus) {
    const outer = ring + (projector ? 7 : 5);
    ctx.beginPath();
    ctx.arc(focus.x, focus.y, outer, 0, 2 * Math.PI);
    ctx.lineWidth = projector ? 7 : 5.5;
    ctx.strokeStyle = 'rgba(255,255,255,0.95)';
    ctx.stroke();
    ctx.lineWidth = projector ? 4 : 3;
    ctx.strokeStyle = p.accent;
    ctx.stroke();
    ctx.beginPath();
    for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
      ctx.moveTo(focus.x + dx * (outer + 2), focus.y + dy * (outer + 2));
      ctx.lineTo(focus.x + dx * (outer + 8), focus.y + dy * (outer + 8));
    }
    ctx.stroke();
  }
  drawn.set(canvas, rings);
  return rings;
}

/**
 * The ringed batch point under a mouse position (within its ring and `slack` px more; the
 * nearest when rings overlap), as its index in frame.batch, or −1.
 * @param {HTMLCanvasElement} canvas @param {number} clientX @param {number} clientY
 * @param {number} [slack]
 */
export function batchPointAt(canvas, clientX, clientY, slack = 4) {
  const rings = drawn.get(canvas) ?? [];
  const { x, y } = canvasPoint(canvas, clientX, clientY);
  let best = -1;
  let bestDistance = Infinity;
  for (const ring of rings) {
    const distance = Math.hypot(ring.x - x, ring.y - y);
    if (distance <= ring.radius + slack && distance < bestDistance) { best = ring.index; bestDistance = distance; }
  }
  return best;
}
