// @ts-check
/**
 * Colours shared by every view. Diverging orange ↔ blue (Okabe–Ito, colour-blind safe):
 * negative values / class 0 orange, positive values / class 1 blue, 0 near white.
 * Projector mode switches to a higher-contrast variant with thicker lines. Text colours meet
 * 4.5:1 against the background, lines 3:1 (WCAG AA; tests/frontend/contrast.test.mjs).
 *
 * Gradients (the backward pass) have a palette of their own, distinct from the weights'
 * orange ↔ blue: purple for dL/dθ > 0, green for dL/dθ < 0 (ColorBrewer PRGn's ends, a
 * colour-blind-safe diverging pair), so an edge visibly changes meaning when δ reaches it.
 */

/** @typedef {{negative: number[], neutral: number[], positive: number[], classes: string[],
 *   background: string, ink: string, muted: string, grid: string, accent: string,
 *   train: string, test: string, overshoot: string, lineScale: number,
 *   gradientPositive: number[], gradientNegative: number[]}} Palette */

/** @type {Palette} */
export const NORMAL = {
  negative: [213, 94, 0],      // vermillion (Okabe–Ito): 3.9:1 on white, orange 2.3:1 is too faint
  neutral: [247, 247, 244],
  positive: [0, 114, 178],     // blue
  classes: ['#D55E00', '#0072B2', '#009E73', '#CC79A7', '#56B4E9', '#E69F00', '#F0E442', '#000000'],
  background: '#ffffff',
  ink: '#1d2430',
  muted: '#5b6472',
  grid: '#e3e6ea',
  accent: '#7b3fe4',
  train: '#1d2430',
  test: '#7b8591',
  overshoot: '#b34700',
  lineScale: 1,
  gradientPositive: [118, 42, 131],  // purple (PRGn)
  gradientNegative: [27, 120, 55],   // green (PRGn)
};

/** @type {Palette} */
export const PROJECTOR = {
  negative: [213, 94, 0],      // vermillion: darker than orange, reads on a washed-out screen
  neutral: [255, 255, 255],
  positive: [0, 90, 160],
  classes: ['#D55E00', '#005AA0', '#007A5A', '#B0407E', '#3A8FC6', '#8C3B00', '#B59E00', '#000000'],
  background: '#ffffff',
  ink: '#000000',
  muted: '#333a44',
  grid: '#c9ced4',
  accent: '#5a1fc0',
  train: '#000000',
  test: '#6b7585',
  overshoot: '#8c3b00',
  lineScale: 1.8,
  gradientPositive: [96, 20, 112],   // darker purple and green: contrast on a washed-out screen
  gradientNegative: [0, 98, 38],
};

let current = NORMAL;

/** @param {boolean} projector */
export function usePalette(projector) { current = projector ? PROJECTOR : NORMAL; }

/** @returns {Palette} */
export function palette() { return current; }

/**
 * RGB for a value in [-1, 1] on the diverging scale (clamped).
 * @param {number} value
 * @returns {number[]}
 */
export function diverging(value) {
  const p = current;
  const t = Math.max(-1, Math.min(1, Number.isFinite(value) ? value : 0));
  const end = t < 0 ? p.negative : p.positive;
  const k = Math.abs(t);
  return [0, 1, 2].map((i) => Math.round(p.neutral[i] + (end[i] - p.neutral[i]) * k));
}

/**
 * CSS colour for a signed quantity on the weights' scale, e.g. a weight or w·a.
 * @param {number} value
 * @param {number} [alpha]
 */
export function signColor(value, alpha = 1) {
  const c = value < 0 ? current.negative : current.positive;
  return `rgba(${c[0]},${c[1]},${c[2]},${alpha})`;
}

/**
 * CSS colour for the sign of a gradient (the gradient palette: purple +, green −).
 * @param {number} value
 * @param {number} [alpha]
 */
export function gradientColor(value, alpha = 1) {
  const c = value < 0 ? current.gradientNegative : current.gradientPositive;
  return `rgba(${c[0]},${c[1]},${c[2]},${alpha})`;
}

/**
 * Paint a map (values in [-1, 1] after ``scale``) into an ImageData-sized canvas.
 * @param {HTMLCanvasElement | OffscreenCanvas} canvas
 * @param {Float32Array} values  row-major, ``size`` × ``size``
 * @param {number} size
 * @param {(v: number) => number} [scale]  maps a raw value to [-1, 1]
 */
export function paintMap(canvas, values, size, scale = (v) => v) {
  if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  const image = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const [r, g, b] = diverging(scale(values[i]));
    image.data[4 * i] = r; image.data[4 * i + 1] = g; image.data[4 * i + 2] = b;
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}
