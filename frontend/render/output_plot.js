// @ts-check
/**
 * The decision boundary / output plot: the network's output over the input plane
 * [−6, 6]² as a heat map (frame.outputMaps), the training points on top (and the test
 * points as rings when store.ui.showTest), thin axes with ticks at −6 … 6. The plot is
 * always square and centred in its canvas; the canvas backing store follows the CSS size
 * times devicePixelRatio, so it stays crisp at any size.
 *
 * Colours (palette.js):
 * - binary, sigmoid output a ∈ [0, 1] → diverging(2a − 1) (0.5 is the neutral colour)
 * - binary, tanh output (loss 'squared_error') a ∈ [−1, 1] → diverging(a)
 * - regression → diverging(value clamped to [−1, 1])
 * - multiclass → the argmax class's colour (palette().classes), stronger with its probability
 * - store.ui.discretize: hard class colours (sign / argmax), no blending
 *
 * While a run is paused, the current minibatch's listed points are ringed and its focus
 * point marked (render/plot_batch.js).
 *
 * @module render/output_plot
 */

import { lossOf } from '../catalogue.js';
import { palette, diverging } from './palette.js';
import { canvasPoint, fitCanvas } from './canvas.js';
import { MINUS } from './format.js';
import { MapPainter } from './color_lut.js';
import { ringBatch } from './plot_batch.js';

/** The plane spans [−EXTENT, EXTENT] on both axes. */
export const EXTENT = 6;

/** How strongly the background map is coloured (1 = the palette's full colour). Points are
 * drawn in the full colours; a slightly softer map keeps them visible on their own class. */
const MAP_STRENGTH = 0.82;
const HARD_STRENGTH = 0.5;

/**
 * @typedef {object} PlotLayout  CSS pixels, relative to the canvas's top-left corner
 * @property {number} left
 * @property {number} top
 * @property {number} size   side of the square plot
 */

/** @type {WeakMap<HTMLCanvasElement, PlotLayout>} */
const layouts = new WeakMap();

/**
 * The minimal store this view reads (see state.js for the whole store).
 * @typedef {object} PlotStore
 * @property {any} [config]
 * @property {import('../catalogue.js').Catalogue | null} [options]  GET /api/options
 * @property {{problem?: string, n_classes?: number, train?: number[][], test?: number[][]} | null} [data]
 * @property {import('../protocol.js').Frame | null} [frame]
 * @property {{projector?: boolean, showTest?: boolean, discretize?: boolean}} [ui]
 */

/** @param {string} hex '#rrggbb' @returns {number[]} */
function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** @param {number[]} a @param {number[]} b @param {number} t */
function mix(a, b, t) {
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
}

/** @param {number[]} c @param {number} [alpha] */
function css(c, alpha = 1) {
  return alpha === 1 ? `rgb(${c[0]},${c[1]},${c[2]})` : `rgba(${c[0]},${c[1]},${c[2]},${alpha})`;
}

/** @param {number} v */
const clamp1 = (v) => Math.max(-1, Math.min(1, v));

/**
 * What the output maps hold, from the data's problem and the loss.
 * @param {PlotStore} store
 * @returns {{kind: 'sigmoid' | 'tanh' | 'regression' | 'multiclass', classes: number}}
 */
export function outputKind(store) {
  const outputs = store.frame?.outputMaps?.length ?? 1;
  const problem = store.data?.problem ?? store.config?.network?.problem
    ?? (outputs > 1 ? 'multiclass' : 'binary');
  if (problem === 'multiclass' || outputs > 1) {
    const classes = Math.max(outputs, store.data?.n_classes ?? store.config?.network?.n_classes ?? 3);
    return { kind: 'multiclass', classes };
  }
  if (problem === 'regression') return { kind: 'regression', classes: 0 };
  const activation = lossOf(store.options, store.config)?.output_activation;
  return { kind: activation === 'tanh' ? 'tanh' : 'sigmoid', classes: 2 };
}

/**
 * The colour of a data point with label `label`.
 * @param {'sigmoid' | 'tanh' | 'regression' | 'multiclass'} kind
 * @param {number} label
 * @returns {string}
 */
export function pointColor(kind, label) {
  const p = palette();
  if (kind === 'multiclass') return p.classes[Math.round(label) % p.classes.length];
  if (kind === 'regression') return css(diverging(clamp1(label)));
  return css(label >= 0.5 ? p.positive : p.negative);
}

export class OutputPlot {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    /** the G × G map (or an upsampled discretized map) before scaling onto the plot */
    this.offscreen = document.createElement('canvas');
    /** paints the binary and regression maps through their codes' colour table, into a reused ImageData */
    this.painter = new MapPainter(this.offscreen);
    /** @type {Float32Array | null} the map the offscreen canvas shows, and how it was painted */
    this.paintedMaps = null;
    this.paintedKey = '';
    /** @type {import('./plot_batch.js').Ring[]} */
    this.rings = [];
    /** @type {unknown[]} what the canvas shows (compared by identity) */
    this.shown = [];
  }

  /**
   * Draw the plot, unless the canvas already shows this very frame, data, size and setting.
   * @param {PlotStore} store
   */
  draw(store) {
    const prepared = fitCanvas(this.canvas);
    if (!prepared) return;
    const { ctx, width, height } = prepared;
    const p = palette();
    const shows = [store.frame, store.data, store.config, store.options, store.ui?.showTest, store.ui?.discretize,
      store.ui?.projector, this.canvas.width, this.canvas.height, p];
    if (shows.every((v, i) => v === this.shown[i])) return;
    this.shown = shows;
    const projector = Boolean(store.ui?.projector);
    const font = projector ? 18 : 12;
    const lw = p.lineScale;
    ctx.fillStyle = p.background;
    ctx.fillRect(0, 0, width, height);

    // ---- layout: a square plot with tick labels left and below, axis names at the ends
    ctx.font = `${font}px ${FONT}`;
    const labelWidth = ctx.measureText(`${MINUS}6`).width;
    const tick = Math.round(4 * lw);
    const gap = projector ? 5 : 3;
    const marginLeft = labelWidth + tick + gap + 2;
    const marginBottom = font + tick + gap + 2;
    const marginTop = Math.round(font * 1.2) + gap + 1;
    const marginRight = ctx.measureText('x₁').width + gap + 4;
    const available = Math.min(width - marginLeft - marginRight, height - marginTop - marginBottom);
    const size = Math.max(16, Math.floor(available));
    const left = Math.round(marginLeft + Math.max(0, (width - marginLeft - marginRight - size) / 2));
    const top = Math.round(marginTop + Math.max(0, (height - marginTop - marginBottom - size) / 2));
    layouts.set(this.canvas, { left, top, size });

    // ---- heat map
    const { kind, classes } = outputKind(store);
    const frame = store.frame;
    const maps = frame?.outputMaps ?? [];
    const G = frame?.mainResolution ?? 0;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, size, size);
    ctx.clip();
    if (G >= 2 && maps.length > 0 && maps[0].length === G * G) {
      const discretize = Boolean(store.ui?.discretize);
      const dpr = this.canvas.width / width;
      const U = discretize ? Math.max(G, Math.min(512, Math.round(size * dpr))) : G;
      // repaint the offscreen map only when the maps, the mode, the size or the palette changed
      const key = [U, kind, classes, discretize, p.negative.join(), maps.length].join('|');
      if (this.paintedMaps !== maps[0] || this.paintedKey !== key) {
        if (discretize) this.paintHard(maps, G, U, kind);
        else this.paintSmooth(maps, G, kind, classes);
        this.paintedMaps = maps[0];
        this.paintedKey = key;
      }
      if (discretize) {
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(this.offscreen, left, top, size, size);
      } else {
        // map pixel centres sit on the grid's sample points (edges included): widen by
        // half a cell on every side and let the clip trim it
        const cell = size / (G - 1);
        ctx.imageSmoothingEnabled = true;
        ctx.imageSmoothingQuality = 'high';
        ctx.drawImage(this.offscreen, left - cell / 2, top - cell / 2, size + cell, size + cell);
      }
    } else {
      ctx.fillStyle = css(p.neutral);
      ctx.fillRect(left, top, size, size);
    }

    // subtle grid every 2 units
    ctx.strokeStyle = 'rgba(255,255,255,0.38)';
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let v = -4; v <= 4; v += 2) {
      const x = Math.round(left + ((v + EXTENT) / (2 * EXTENT)) * size) + 0.5;
      const y = Math.round(top + ((EXTENT - v) / (2 * EXTENT)) * size) + 0.5;
      ctx.moveTo(x, top); ctx.lineTo(x, top + size);
      ctx.moveTo(left, y); ctx.lineTo(left + size, y);
    }
    ctx.stroke();

    // ---- points
    const radius = Math.max(2.2, Math.min(projector ? 7.5 : 5.5, size / (projector ? 70 : 95)));
    const toX = (/** @type {number} */ x1) => left + ((x1 + EXTENT) / (2 * EXTENT)) * size;
    const toY = (/** @type {number} */ x2) => top + ((EXTENT - x2) / (2 * EXTENT)) * size;
    const train = store.data?.train ?? [];
    const test = store.ui?.showTest ? (store.data?.test ?? []) : [];
    ctx.lineWidth = Math.max(1, radius * 0.28) * (projector ? 1.2 : 1);
    // regression targets near 0 are nearly white: outline them dark instead
    const outline = kind === 'regression' ? 'rgba(40,48,60,0.55)' : 'rgba(255,255,255,0.95)';
    for (const [x1, x2, label] of train) {
      ctx.beginPath();
      ctx.arc(toX(x1), toY(x2), radius, 0, 2 * Math.PI);
      ctx.fillStyle = pointColor(kind, label);
      ctx.fill();
      ctx.strokeStyle = outline;
      ctx.stroke();
    }
    // test points: a ring in the class colour on a white halo, hollow in the middle
    const ring = Math.max(1.5, radius * 0.42);
    for (const [x1, x2, label] of test) {
      const x = toX(x1); const y = toY(x2);
      ctx.beginPath();
      ctx.arc(x, y, radius, 0, 2 * Math.PI);
      ctx.lineWidth = ring + 2.4 * (projector ? 1.4 : 1);
      ctx.strokeStyle = 'rgba(255,255,255,0.95)';
      ctx.stroke();
      ctx.lineWidth = ring;
      ctx.strokeStyle = pointColor(kind, label);
      ctx.stroke();
    }
    const rings = ringBatch(ctx, this.canvas, frame ?? null, radius, toX, toY, projector);
    /** the ringed batch points of this draw, canvas CSS px (tests read them) */
    this.rings = rings;
    ctx.restore();
    if (rings.length && frame) {
      // above the plot, right of the x₂ label: the longest wording that fits
      const listed = rings.length;
      const batch = listed < frame.batchSize ? `first ${listed} of ${frame.batchSize}` : `${frame.batchSize}`;
      ctx.font = `${font}px ${FONT}`;
      const room = size - ctx.measureText('x₂').width - 3 * gap;
      const text = [`batch: ${batch} ringed · ◎ focus`, `batch ${batch} ringed`, `${batch} ringed`]
        .find((words) => ctx.measureText(words).width <= room);
      if (text) {
        ctx.fillStyle = p.ink;
        ctx.textAlign = 'right';
        ctx.textBaseline = 'bottom';
        ctx.fillText(text, left + size, top - gap);
      }
    }

    // ---- frame and axes
    ctx.strokeStyle = p.muted;
    ctx.globalAlpha = 0.55;
    ctx.lineWidth = lw;
    ctx.strokeRect(left + 0.5, top + 0.5, size - 1, size - 1);
    ctx.globalAlpha = 1;

    const spacing = size / 6;  // pixels between ticks two units apart
    const labelEvery = spacing >= labelWidth * 2 + 4 ? 2 : spacing * 3 >= labelWidth * 2 + 4 ? 6 : 12;
    ctx.fillStyle = p.muted;
    ctx.strokeStyle = p.muted;
    ctx.lineWidth = Math.max(1, lw * 0.9);
    ctx.font = `${font}px ${FONT}`;
    ctx.beginPath();
    for (let v = -EXTENT; v <= EXTENT; v += 2) {
      const x = Math.round(toX(v)) + 0.5;
      const y = Math.round(toY(v)) + 0.5;
      ctx.moveTo(x, top + size); ctx.lineTo(x, top + size + tick);
      ctx.moveTo(left - tick, y); ctx.lineTo(left, y);
    }
    ctx.stroke();
    for (let v = -EXTENT; v <= EXTENT; v += labelEvery) {
      const text = v < 0 ? `${MINUS}${-v}` : String(v);
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      ctx.fillText(text, toX(v), top + size + tick + gap);
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      ctx.fillText(text, left - tick - gap, toY(v));
    }
    // axis names at the ends of the axes: x₁ right of the bottom axis, x₂ above the left one
    ctx.fillStyle = p.ink;
    ctx.font = `italic ${font}px ${FONT}`;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillText('x₁', left + size + gap + 1, top + size);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillText('x₂', left, top - gap);
  }

  /**
   * Smooth colouring: one pixel per grid point (binary and regression maps through their
   * codes' colour table, render/color_lut.js).
   * @param {Float32Array[]} maps @param {number} G
   * @param {'sigmoid' | 'tanh' | 'regression' | 'multiclass'} kind @param {number} classes
   */
  paintSmooth(maps, G, kind, classes) {
    const p = palette();
    if (kind !== 'multiclass') {
      this.painter.paint(maps[0], G, (v) => diverging(signed(kind, v) * MAP_STRENGTH));
      return;
    }
    const image = this.image(G);
    const data = image.data;
    const colours = p.classes.map(hexToRgb);
    const C = maps.length;
    const chance = 1 / Math.max(2, classes);
    for (let i = 0; i < G * G; i += 1) {
      let best = 0;
      for (let c = 1; c < C; c += 1) if (maps[c][i] > maps[best][i]) best = c;
      const prob = maps[best][i];
      const t = Number.isFinite(prob) ? Math.max(0, Math.min(1, (prob - chance) / (1 - chance))) : 0;
      const rgb = mix(p.neutral, colours[best % colours.length], (0.12 + 0.88 * t) * MAP_STRENGTH);
      setPixel(data, i, rgb);
    }
    this.put(image);
  }

  /**
   * Hard class colours on a U × U grid, bilinearly interpolated from the G × G maps before
   * thresholding so the boundary is smooth even without image smoothing.
   * @param {Float32Array[]} maps @param {number} G @param {number} U
   * @param {'sigmoid' | 'tanh' | 'regression' | 'multiclass'} kind
   */
  paintHard(maps, G, U, kind) {
    const p = palette();
    const image = this.image(U);
    const data = image.data;
    const colours = kind === 'multiclass'
      ? p.classes.map((c) => mix(p.neutral, hexToRgb(c), HARD_STRENGTH + 0.1))
      : [diverging(-HARD_STRENGTH), diverging(HARD_STRENGTH)];
    const C = maps.length;
    for (let v = 0; v < U; v += 1) {
      const gy = ((v + 0.5) / U) * (G - 1);
      const r0 = Math.min(G - 2, Math.floor(gy)); const fy = gy - r0;
      for (let u = 0; u < U; u += 1) {
        const gx = ((u + 0.5) / U) * (G - 1);
        const c0 = Math.min(G - 2, Math.floor(gx)); const fx = gx - c0;
        const i00 = r0 * G + c0;
        /** @param {Float32Array} m */
        const sample = (m) => (m[i00] * (1 - fx) + m[i00 + 1] * fx) * (1 - fy)
          + (m[i00 + G] * (1 - fx) + m[i00 + G + 1] * fx) * fy;
        let rgb;
        if (kind === 'multiclass') {
          let best = 0; let bestValue = sample(maps[0]);
          for (let c = 1; c < C; c += 1) {
            const value = sample(maps[c]);
            if (value > bestValue) { best = c; bestValue = value; }
          }
          rgb = colours[best % colours.length];
        } else {
          const value = signed(kind, sample(maps[0]));
          rgb = Number.isFinite(value) ? colours[value >= 0 ? 1 : 0] : p.neutral;
        }
        setPixel(data, v * U + u, rgb);
      }
    }
    this.put(image);
  }

  /** The offscreen canvas's reused ImageData at size × size (multiclass and hard maps). @param {number} size */
  image(size) {
    return this.painter.buffer(size).image;
  }

  /** @param {ImageData} image */
  put(image) {
    const ctx = /** @type {CanvasRenderingContext2D} */ (this.offscreen.getContext('2d'));
    ctx.putImageData(image, 0, 0);
  }
}

/** The system UI font stack for canvas text. */
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

/**
 * An output value on the signed scale [−1, 1] (0 = the boundary).
 * @param {'sigmoid' | 'tanh' | 'regression' | 'multiclass'} kind @param {number} value
 */
function signed(kind, value) {
  if (kind === 'sigmoid') return clamp1(2 * value - 1);
  return clamp1(value);
}

/** @param {Uint8ClampedArray} data @param {number} i @param {number[]} rgb */
function setPixel(data, i, rgb) {
  data[4 * i] = rgb[0]; data[4 * i + 1] = rgb[1]; data[4 * i + 2] = rgb[2]; data[4 * i + 3] = 255;
}

/**
 * The plane coordinates under a mouse position (for click-to-add-points), or null when the
 * position is outside the plot. Uses the layout of the canvas's last draw.
 * @param {HTMLCanvasElement} canvas
 * @param {number} clientX
 * @param {number} clientY
 * @returns {{x1: number, x2: number} | null}
 */
export function plotToPlane(canvas, clientX, clientY) {
  const layout = layouts.get(canvas);
  if (!layout) return null;
  const { x, y } = canvasPoint(canvas, clientX, clientY);
  const px = x - layout.left;
  const py = y - layout.top;
  if (px < 0 || py < 0 || px > layout.size || py > layout.size) return null;
  return {
    x1: -EXTENT + (2 * EXTENT * px) / layout.size,
    x2: EXTENT - (2 * EXTENT * py) / layout.size,
  };
}
