// @ts-check
/** Canvas helpers shared by every view. */

/** @type {ResizeObserver | null} watches every canvas fitCanvas has sized */
let sizes = null;
/** @type {WeakSet<HTMLCanvasElement>} */
const watched = new WeakSet();

/**
 * Call `onResize` whenever a canvas that fitCanvas sized changes its CSS size (a panel
 * opened or closed, a tab shown, the window resized) or the devicePixelRatio changes (zoom,
 * another screen), so that the views draw it again at its displayed size × devicePixelRatio
 * at once rather than showing a stretched bitmap until the next event.
 * @param {() => void} onResize
 */
export function watchCanvasSizes(onResize) {
  sizes?.disconnect();
  sizes = new ResizeObserver(onResize);
  const watchRatio = () => {
    matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`)
      .addEventListener('change', () => { onResize(); watchRatio(); }, { once: true });
  };
  watchRatio();
}

/**
 * Size the backing store to the CSS size × devicePixelRatio and return a context scaled to
 * CSS pixels, or null when the canvas has no size (hidden). The canvas is watched for size
 * changes from then on (watchCanvasSizes).
 * @param {HTMLCanvasElement} canvas
 * @returns {{ctx: CanvasRenderingContext2D, width: number, height: number} | null}
 */
export function fitCanvas(canvas) {
  if (sizes && !watched.has(canvas)) {
    watched.add(canvas);
    sizes.observe(canvas);
  }
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (width <= 0 || height <= 0) return null;
  const dpr = (typeof window !== 'undefined' && window.devicePixelRatio) || 1;
  const w = Math.round(width * dpr);
  const h = Math.round(height * dpr);
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  ctx.setTransform(w / width, 0, 0, h / height, 0, 0);
  return { ctx, width, height };
}

/**
 * A rounded-rectangle path (not stroked or filled).
 * @param {CanvasRenderingContext2D} ctx @param {number} x @param {number} y
 * @param {number} w @param {number} h @param {number} r
 */
export function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}

/** @typedef {number[][]} Path  sampled points [[x, y], …] of a polyline */

/**
 * The point at fraction t (0 … 1, by sample index) of a sampled path.
 * @param {Path} points @param {number} t @returns {number[]}
 */
export function along(points, t) {
  const f = Math.max(0, Math.min(1, t)) * (points.length - 1);
  const i = Math.min(points.length - 2, Math.floor(f));
  const k = f - i;
  return [points[i][0] + (points[i + 1][0] - points[i][0]) * k,
    points[i][1] + (points[i + 1][1] - points[i][1]) * k];
}

/**
 * The part of a sampled path from fraction `from` to `to` (by sample index).
 * @param {Path} points @param {number} from @param {number} to @returns {Path}
 */
export function subPath(points, from, to) {
  if (from <= 0 && to >= 1) return points;
  const a = Math.max(0, Math.min(1, from));
  const b = Math.max(a, Math.min(1, to));
  const n = points.length - 1;
  const inner = [];
  for (let i = Math.floor(a * n) + 1; i < b * n; i += 1) inner.push(points[i]);
  return [along(points, a), ...inner, along(points, b)];
}

/**
 * A path shifted sideways by `distance` (positive: to the left of the direction of travel,
 * i.e. above a left-to-right edge).
 * @param {Path} points @param {number} distance @returns {Path}
 */
export function offsetPath(points, distance) {
  return points.map((point, i) => {
    const before = points[Math.max(0, i - 1)];
    const after = points[Math.min(points.length - 1, i + 1)];
    const dx = after[0] - before[0];
    const dy = after[1] - before[1];
    const length = Math.hypot(dx, dy) || 1;
    return [point[0] + (dy / length) * distance, point[1] - (dx / length) * distance];
  });
}

/**
 * Stroke a sampled path.
 * @param {CanvasRenderingContext2D} ctx @param {Path} points @param {string} color
 * @param {number} width @param {number[]} [dash]
 */
export function strokePath(ctx, points, color, width, dash = []) {
  if (points.length < 2) return;
  ctx.beginPath();
  ctx.moveTo(points[0][0], points[0][1]);
  for (let i = 1; i < points.length; i++) ctx.lineTo(points[i][0], points[i][1]);
  ctx.setLineDash(dash);
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.stroke();
}

/**
 * A rounded label ("pill") centred on (x, y): white fill, a coloured border, text in ink.
 * @param {CanvasRenderingContext2D} ctx
 * @param {{x: number, y: number, width: number, height: number}} box
 * @param {string} text @param {string} border @param {string} ink @param {number} [borderWidth]
 */
export function pill(ctx, box, text, border, ink, borderWidth = 1.5) {
  roundRect(ctx, box.x - box.width / 2, box.y - box.height / 2, box.width, box.height,
    Math.min(6, box.height / 2));
  ctx.fillStyle = 'rgba(255,255,255,0.93)';
  ctx.fill();
  ctx.setLineDash([]);
  ctx.lineWidth = borderWidth;
  ctx.strokeStyle = border;
  ctx.stroke();
  ctx.fillStyle = ink;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, box.x, box.y + 0.5);
}

/**
 * The mouse position in the canvas's CSS pixels (the canvas may be CSS-scaled relative to
 * its layout box, e.g. by a transform).
 * @param {HTMLCanvasElement} canvas @param {number} clientX @param {number} clientY
 */
export function canvasPoint(canvas, clientX, clientY) {
  const rect = canvas.getBoundingClientRect();
  const sx = canvas.clientWidth > 0 ? rect.width / canvas.clientWidth : 1;
  const sy = canvas.clientHeight > 0 ? rect.height / canvas.clientHeight : 1;
  return { x: (clientX - rect.left) / sx, y: (clientY - rect.top) / sy };
}
