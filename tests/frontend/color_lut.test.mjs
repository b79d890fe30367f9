// The colour lookup tables that paint the maps (frontend/render/color_lut.js), no DOM:
//   node --test tests/frontend/color_lut.test.mjs   (also run by tests/frontend/test_color_lut_js.py,
//   which passes FRAME_FIXTURES: a real q8 frame written by the server's encoder)
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { MapAtlas, MapPainter, packRgb, quantiseMap } from '../../frontend/render/color_lut.js';
import { diverging, usePalette } from '../../frontend/render/palette.js';
import { decodeFrame, mapCodes } from '../../frontend/frame_decoder.js';

/** A canvas stand-in: counts the ImageData it hands out and keeps the last one put. */
function fakeCanvas() {
  const canvas = {
    width: 0, height: 0, created: 0, /** @type {any} */ put: null,
    getContext: () => ({
      createImageData: (/** @type {number} */ w, /** @type {number} */ h) => {
        canvas.created += 1;
        return { width: w, height: h, data: new Uint8ClampedArray(4 * w * h) };
      },
      putImageData: (/** @type {any} */ image) => { canvas.put = image; },
    }),
  };
  return canvas;
}

/** The RGBA bytes of pixel i. @param {{data: Uint8ClampedArray}} image @param {number} i */
const pixel = (image, i) => Array.from(image.data.slice(4 * i, 4 * i + 4));

test('packRgb: an ImageData pixel read as a little-endian Uint32 (r, g, b, opaque)', () => {
  const bytes = new Uint8ClampedArray(4);
  new Uint32Array(bytes.buffer)[0] = packRgb([12, 200, 7]);
  assert.deepEqual(Array.from(bytes), [12, 200, 7, 255]);
});

test('every one of the 256 codes is painted exactly the palette colour of its dequantised value', () => {
  for (const projector of [false, true]) {
    usePalette(projector);
    for (const [low, high] of [[-3.2, 2.7], [0, 1], [-1e-3, 5e-4]]) {
      // 16 × 16 values from low to high: codes 0 … 255, each once
      const values = new Float32Array(256).map((_, i) => low + (i * (high - low)) / 255);
      const canvas = fakeCanvas();
      new MapPainter(/** @type {any} */ (canvas)).paint(values, 16, (v) => diverging(Math.tanh(v)));
      const { codes, low: first, step } = quantiseMap(values);
      assert.deepEqual(Array.from(codes), Array.from({ length: 256 }, (_, c) => c));
      for (let c = 0; c < 256; c += 1) {
        const value = Math.fround(first + c * step);
        assert.equal(new Uint32Array(canvas.put.data.buffer)[c], packRgb(diverging(Math.tanh(value))),
          `code ${c} of [${low}, ${high}], projector ${projector}`);
      }
    }
  }
  usePalette(false);
});

test('MapPainter: each pixel is the palette colour of its value; the ImageData and table are reused', () => {
  const canvas = fakeCanvas();
  const painter = new MapPainter(/** @type {any} */ (canvas));
  const size = 16;
  const values = new Float32Array(size * size).map((_, i) => -2 + (4 * i) / (size * size - 1));
  const colourOf = (/** @type {number} */ v) => diverging(v / 2);
  painter.paint(values, size, colourOf);
  const coded = quantiseMap(values);
  for (let i = 0; i < size * size; i += 1) {
    const value = Math.fround(coded.low + coded.codes[i] * coded.step);
    assert.deepEqual(pixel(canvas.put, i), [...diverging(value / 2), 255], `pixel ${i}`);
  }
  const first = canvas.put;
  const lut = painter.lut;
  for (let k = 0; k < 5; k += 1) painter.paint(values.map((v) => -v), size, colourOf);
  assert.equal(canvas.created, 1, 'one ImageData for every paint of the same size');
  assert.equal(painter.allocations, 1);
  assert.equal(canvas.put, first, 'the same ImageData is put again');
  assert.equal(painter.lut, lut, 'the same table is refilled');
  assert.deepEqual(pixel(canvas.put, 0), [...diverging(2 / 2), 255], 'the repaint shows the new values');
  painter.paint(new Float32Array(8 * 8), 8, colourOf);
  assert.equal(canvas.created, 2, 'a new size: a new ImageData');
  assert.equal(canvas.width, 8);
  assert.deepEqual(pixel(canvas.put, 0), [...diverging(0), 255], 'a constant map is its one colour');
});

test('quantiseMap: 256 levels over min … max; codes within half a level of the value', () => {
  const values = Float32Array.of(-1, 0.25, 3, NaN, 1);
  const { codes, low, step } = quantiseMap(values);
  assert.equal(low, -1);
  assert.equal(step, 4 / 255);
  assert.deepEqual(Array.from(codes), [0, Math.round(1.25 / step), 255, 0, Math.round(2 / step)]);
});

const fixtures = process.env.FRAME_FIXTURES;

test('real frames: q8 maps carry their codes, and each painted map equals the palette on every decoded value',
  { skip: fixtures ? false : 'FRAME_FIXTURES not set (run through pytest)' }, async () => {
    const files = readdirSync(/** @type {string} */ (fixtures)).filter((name) => name.endsWith('.bin') && !/^(delta_|chain_[1-9])/.test(name));
    assert.ok(files.length > 0, 'frames to check');
    let painted = 0;
    for (const file of files) {
      const bytes = readFileSync(join(/** @type {string} */ (fixtures), file));
      const frame = await decodeFrame(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      if (frame.mapsSkipped) continue;  // no maps of its own (protocol.test.mjs checks those)
      const maps = [...frame.outputMaps.map((m) => [m, frame.mainResolution]),
        ...frame.neuronMaps.map((m) => [m, frame.thumbResolution])];
      // a frame whose maps hold a non-finite value sends them as float32 (flag exact_maps)
      const exact = maps.some(([m]) => /** @type {Float32Array} */ (m).some((v) => !Number.isFinite(v)));
      for (const [values, size] of /** @type {[Float32Array, number][]} */ (maps)) {
        const coded = mapCodes(values);
        if (exact) { assert.equal(coded, null, `${file}: float maps have no codes`); continue; }
        assert.ok(coded, `${file}: a q8 map has its codes`);
        assert.equal(coded.codes.length, size * size);
        for (let i = 0; i < values.length; i += 1) {
          assert.equal(Math.fround(coded.low + coded.codes[i] * coded.step), values[i], `${file}: value ${i}`);
        }
        const canvas = fakeCanvas();
        const colourOf = (/** @type {number} */ v) => diverging(Math.tanh(v));
        new MapPainter(/** @type {any} */ (canvas)).paint(values, size, colourOf);
        for (let i = 0; i < values.length; i += 1) {
          assert.deepEqual(pixel(canvas.put, i), [...diverging(Math.tanh(values[i])), 255], `${file}: pixel ${i}`);
        }
        painted += 1;
      }
      assert.equal(mapCodes(frame.layers[0].weights), null, 'weights are float32: no codes');
    }
    assert.ok(painted > 0, 'at least one q8 map was painted');
    assert.equal(mapCodes(new Float32Array(64)), null, 'an array of its own has no codes');
  });

test('MapAtlas: each slot holds the map as MapPainter paints it, a border repeating its edge; repainted only when changed; one write per commit', () => {
  const size = 4;
  const first = new Float32Array(16).map((_, i) => i / 15 - 0.5);
  const second = new Float32Array(16).map((_, i) => 0.5 - i / 15);
  const colourOf = (/** @type {number} */ v) => diverging(Math.tanh(v));
  const alone = fakeCanvas();
  new MapPainter(/** @type {any} */ (alone)).paint(second, size, colourOf);
  const expected = new Uint32Array(alone.put.data.buffer);

  const canvas = fakeCanvas();
  let puts = 0;
  const context = canvas.getContext();
  canvas.getContext = () => ({ ...context, putImageData: (/** @type {any} */ image) => { puts += 1; canvas.put = image; } });
  const atlas = new MapAtlas(/** @type {any} */ (canvas));
  atlas.reserve(2, size, 'layout');
  atlas.map('a', first, colourOf, 'palette');
  const slot = atlas.map('b', second, colourOf, 'palette');
  atlas.commit();
  assert.equal(puts, 1);
  const stride = atlas.columns * (size + 2);
  const pixels = new Uint32Array(canvas.put.data.buffer);
  const at = (/** @type {number} */ x, /** @type {number} */ y) => pixels[(slot.y + y) * stride + slot.x + x];
  for (let y = -1; y <= size; y += 1) {
    for (let x = -1; x <= size; x += 1) {
      const inner = expected[Math.min(size - 1, Math.max(0, y)) * size + Math.min(size - 1, Math.max(0, x))];
      assert.equal(at(x, y), inner, `pixel (${x}, ${y})`);
    }
  }
  atlas.map('a', first, colourOf, 'palette');
  atlas.commit();
  assert.equal(puts, 1, 'nothing changed: no write');
  atlas.map('a', second, colourOf, 'palette');
  atlas.commit();
  assert.equal(puts, 2);
});
