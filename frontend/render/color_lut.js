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
 * Paint a size × size map's codes into `pixels` (a row `stride` pixels long, the map's
 * first pixel at `offset`) through the table of its colours. The table is filled as codes
 * occur (0 = not yet: a packed colour is opaque, never 0), so a small map costs no more than
 * its pixels, a large one at most 256 colour calls.
 * @param {Uint32Array} pixels @param {number} stride @param {number} offset
 * @param {MapCodes} coded @param {number} size @param {ColourOf} colourOf
 * @param {Uint32Array} lut  256 entries, overwritten
 */
function paintCodes(pixels, stride, offset, { codes, low, step }, size, colourOf, lut) {
  lut.fill(0);
  const n = Math.min(size * size, codes.length);
  for (let i = 0, row = offset; i < n; row += stride) {
    const end = Math.min(n, i + size);
    for (let at = row; i < end; i += 1, at += 1) {
      const code = codes[i];
      let colour = lut[code];
      if (colour === 0) {
        colour = packRgb(colourOf(Math.fround(low + code * step)));
        lut[code] = colour;
      }
      pixels[at] = colour;
    }
  }
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
    paintCodes(pixels, size, 0, mapCodes(values) ?? this.floatCodes(values), size, colourOf, this.lut);
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

/**
 * Many maps of one size painted side by side into one canvas (the network's node maps),
 * through one ImageData that is written to the canvas once per picture (commit), not one
 * canvas, ImageData and write per map. Each map has a slot of (size + 2)² pixels: the map
 * with a 1-pixel border that repeats its edge pixels, so that a smoothed, scaled drawImage
 * of the slot's inner size × size pixels looks as that of a canvas of its own. A map is
 * painted again only when its values or its colours changed.
 */
export class MapAtlas {
  /** @param {HTMLCanvasElement | OffscreenCanvas} canvas */
  constructor(canvas) {
    this.painter = new MapPainter(canvas);
    this.size = 0;
    this.owner = '';
    this.columns = 1;
    /** @type {Map<string, {x: number, y: number, values: Float32Array | null, colours: unknown}>} */
    this.slots = new Map();
    this.changed = false;
  }

  get canvas() { return this.painter.canvas; }

  /**
   * Room for `count` maps of size × size, for the maps of `owner` (e.g. a layout's key);
   * another size or owner, or more maps, empties the atlas (every map is painted again).
   * @param {number} count @param {number} size @param {string} owner
   */
  reserve(count, size, owner) {
    const columns = Math.max(1, Math.ceil(Math.sqrt(count)));
    if (size === this.size && owner === this.owner && count <= this.columns * this.columns) return;
    this.size = size;
    this.owner = owner;
    this.columns = columns;
    this.slots.clear();
    const side = columns * (size + 2);
    this.painter.buffer(side);
    this.painter.pixels.fill(0);
    this.changed = true;
  }

  /**
   * The source rectangle's corner (x, y) of the map `key` (size × size from there), painted
   * first if its values or colours (compared by identity) changed.
   * @param {string} key @param {Float32Array} values @param {ColourOf} colourOf @param {unknown} colours
   * @returns {{x: number, y: number}}
   */
  map(key, values, colourOf, colours) {
    let slot = this.slots.get(key);
    if (!slot) {
      if (this.slots.size >= this.columns * this.columns) throw new Error('MapAtlas: more maps than reserved');
      const index = this.slots.size;
      const stride = this.size + 2;
      slot = { x: (index % this.columns) * stride + 1, y: Math.floor(index / this.columns) * stride + 1,
        values: null, colours: null };
      this.slots.set(key, slot);
    }
    if (slot.values !== values || slot.colours !== colours) {
      this.paintSlot(slot, values, colourOf);
      slot.values = values;
      slot.colours = colours;
      this.changed = true;
    }
    return slot;
  }

  /** @param {{x: number, y: number}} slot @param {Float32Array} values @param {ColourOf} colourOf */
  paintSlot(slot, values, colourOf) {
    const { pixels, lut } = this.painter;
    const size = this.size;
    const stride = this.columns * (size + 2);
    const corner = slot.y * stride + slot.x;
    paintCodes(pixels, stride, corner, mapCodes(values) ?? this.painter.floatCodes(values), size, colourOf, lut);
    // the border repeats the edge pixels (as drawImage's clamping at a canvas's edge does)
    for (let r = 0; r < size; r += 1) {
      const row = corner + r * stride;
      pixels[row - 1] = pixels[row];
      pixels[row + size] = pixels[row + size - 1];
    }
    pixels.copyWithin(corner - stride - 1, corner - 1, corner + size + 1);
    const last = corner + (size - 1) * stride;
    pixels.copyWithin(last + stride - 1, last - 1, last + size + 1);
  }

  /** Write the painted maps to the canvas, when any changed. */
  commit() {
    if (!this.changed || !this.painter.image) return;
    this.painter.put(this.painter.image);
    this.changed = false;
  }
}
