// @ts-check
/**
 * Maps painted through colour lookup tables. A frame's maps arrive as 8-bit codes with a
 * range (lo, hi) per map (docs/protocol.md, `q8`): a map of T × T values has only 256
 * distinct values, value(c) = fround(lo + c·(hi − lo)/255). So the colour function (the
 * palette's, e.g. diverging(tanh v)) runs at most 256 times per map (once per code that
 * occurs), not T² times, into a Uint32 table, and painting is one table lookup per pixel
 * into a reused ImageData.
 *
 * Maps without codes (frames with the `exact_maps` flag, or any Float32Array) are quantised
 * here the same way (256 levels over their own min … max) and painted through the same path.
 * No DOM at import: node's test runner imports this module (tests/frontend/color_lut.test.mjs).
 *
 * @module render/color_lut
 */

import { mapCodes } from '../frame_decoder.js';

/** @typedef {(value: number) => ArrayLike<number>} ColourOf  a value → [r, g, b] (0 … 255) */
/** @typedef {{codes: Uint8Array, low: number, step: number}} MapCodes  value(c) = fround(low + c·step) */

/**
 * An opaque colour as one ImageData pixel read through a Uint32Array (little-endian, as on
 * every platform browsers run on): r | g << 8 | b << 16 | 255 << 24.
 * @param {ArrayLike<number>} rgb
 */
export function packRgb(rgb) {
  return ((255 << 24) | (rgb[2] << 16) | (rgb[1] << 8) | rgb[0]) >>> 0;
}

/**
 * Codes for a float map: 256 levels over its finite min … max (code 0 for a non-finite value;
 * a constant map is all code 0 with step 0).
 * @param {ArrayLike<number>} values @param {Uint8Array} [codes]  reused when long enough
 * @returns {MapCodes}
 */
export function quantiseMap(values, codes) {
  const n = values.length;
  const out = codes && codes.length >= n ? codes.subarray(0, n) : new Uint8Array(n);
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < n; i += 1) {
    const v = values[i];
    if (v < low) low = v;
    if (v > high) high = v;
  }
  if (!(low <= high)) { low = 0; high = 0; }
  const step = (high - low) / 255;
  const scale = step > 0 ? 1 / step : 0;
  for (let i = 0; i < n; i += 1) {
    const c = Math.round((values[i] - low) * scale);
    out[i] = c >= 0 && c <= 255 ? c : 0;
  }
  return { codes: out, low, step };
}

/**
 * Paints maps into one target canvas (a node's thumbnail, the output plot's map, a sweep
 * tile), reusing its ImageData, the Uint32 view on it, its table and its code buffer.
 */
export class MapPainter {
  /** @param {HTMLCanvasElement | OffscreenCanvas} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    /** @type {ImageData | null} */
    this.image = null;
    /** @type {Uint32Array} the image's pixels, one Uint32 each */
    this.pixels = new Uint32Array(0);
    this.lut = new Uint32Array(256);
    /** @type {Uint8Array | undefined} codes of float maps, reused */
    this.codes = undefined;
    /** How many times an ImageData was allocated (tests check it is reused). */
    this.allocations = 0;
  }

  /**
   * The target's pixels for a size × size map: the canvas resized and a new ImageData only
   * when the size changed.
   * @param {number} size @returns {{image: ImageData, pixels: Uint32Array}}
   */
  buffer(size) {
    if (this.canvas.width !== size || this.canvas.height !== size) {
      this.canvas.width = size;
      this.canvas.height = size;
    }
    if (!this.image || this.image.width !== size || this.image.height !== size) {
      const ctx = /** @type {CanvasRenderingContext2D} */ (this.canvas.getContext('2d'));
      this.image = ctx.createImageData(size, size);
      this.pixels = new Uint32Array(this.image.data.buffer, this.image.data.byteOffset, size * size);
      this.allocations += 1;
    }
    return { image: this.image, pixels: this.pixels };
  }

  /**
   * Paint a size × size map (row-major) through the table of its codes.
   * @param {Float32Array} values @param {number} size @param {ColourOf} colourOf
   */
  paint(values, size, colourOf) {
    const { image, pixels } = this.buffer(size);
    const { codes, low, step } = mapCodes(values) ?? this.floatCodes(values);
    // the table is filled as codes occur (0 = not yet: a packed colour is opaque, never 0),
    // so a small map costs no more than its pixels, a large one at most 256 colour calls
    const lut = this.lut.fill(0);
    const n = Math.min(size * size, codes.length);
    for (let i = 0; i < n; i += 1) {
      const code = codes[i];
      let colour = lut[code];
      if (colour === 0) {
        colour = packRgb(colourOf(Math.fround(low + code * step)));
        lut[code] = colour;
      }
      pixels[i] = colour;
    }
    this.put(image);
  }

  /** @param {Float32Array} values @returns {MapCodes} */
  floatCodes(values) {
    const coded = quantiseMap(values, this.codes);
    if (!this.codes || this.codes.length < coded.codes.length) this.codes = coded.codes;
    return coded;
  }

  /** Write the ImageData to the canvas. @param {ImageData} image */
  put(image) {
    const ctx = /** @type {CanvasRenderingContext2D} */ (this.canvas.getContext('2d'));
    ctx.putImageData(image, 0, 0);
  }
}
