// Decodes binary frames written by tests/frontend/test_protocol_js.py (real trainer frames
// from encode_frame: deflated, maps quantised) and checks every field against the values
// Python computed from the same FrameData: float32 blocks exactly, quantised maps within
// (hi − lo)/510 of each value. Run it through pytest:  python3 -m pytest tests/frontend
// (which runs `node --test tests/frontend/` with FRAME_FIXTURES=<fixture dir>).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import * as protocol from '../../frontend/protocol.js';
import { FRAME_LAYOUT } from '../../frontend/wire.gen.js';

const {
  decodeFrame, parseServerMessage, weightAt, gradientAt, updateAt, mapAt, PHASES, PROTOCOL_VERSION,
  FRAME_VERSION, HEADER_BYTES,
} = protocol;

/** A header field's byte offset, from the generated layout. */
const at = (name) => FRAME_LAYOUT.header.find((field) => field.name === name).offset;

const FIXTURES = process.env.FRAME_FIXTURES;
const NO_FIXTURES = 'FRAME_FIXTURES is not set: run this test through pytest '
  + '(python3 -m pytest tests/frontend), which writes the frame fixtures and sets it';

/** @param {string} name */
function loadFixture(name) {
  const bytes = readFileSync(join(/** @type {string} */ (FIXTURES), `${name}.bin`));
  // A fresh, exactly sized ArrayBuffer, as a WebSocket with binaryType 'arraybuffer' gives.
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const expected = JSON.parse(readFileSync(join(/** @type {string} */ (FIXTURES), `${name}.json`), 'utf8'));
  return { buffer, expected };
}

/** Float32 tolerance: the frame holds float32 roundings of Python's float64 values. */
function closeTo(actual, expected) {
  if (expected === 'NaN') return Number.isNaN(actual);
  if (expected === 'Infinity') return actual === Infinity;
  if (expected === '-Infinity') return actual === -Infinity;
  if (!Number.isFinite(actual)) return false;
  return Math.abs(actual - expected) <= 2 ** -23 * Math.abs(expected) + 1e-38;
}

/**
 * A quantised map stack: each value within half a code step, (hi − lo)/510, of its map's
 * range, plus the float32 rounding of the decoded value.
 * @param {Float32Array} actual @param {{quantised: number[][], values: (number | string)[]}} expected
 */
function checkQuantised(actual, expected, path) {
  assert.ok(actual instanceof Float32Array, `${path}: expected a Float32Array`);
  assert.equal(actual.length, expected.values.length, `${path}: length`);
  const area = expected.quantised.length ? expected.values.length / expected.quantised.length : 0;
  for (let i = 0; i < actual.length; i += 1) {
    const [lo, hi] = expected.quantised[Math.floor(i / area)];
    const want = /** @type {number} */ (expected.values[i]);
    const bound = (hi - lo) / 510 + 2 ** -24 * Math.max(Math.abs(lo), Math.abs(hi));
    if (!(Math.abs(actual[i] - want) <= bound)) {
      assert.fail(`${path}[${i}]: ${actual[i]} is not within ${bound} of ${want}`);
    }
  }
}

/**
 * A w8/g8 array of a running frame: w8 within m/254 of each value; g8 with its sign, within
 * 10^(D/252) of |v| down to m·10^−D (smaller ones at m·10^−D); NaN for what is not finite;
 * the largest |value| exact.
 * @param {Float32Array} actual @param {{coded: string, scale: number, values: (number | string)[]}} expected
 */
function checkCoded(actual, expected, path) {
  assert.ok(actual instanceof Float32Array, `${path}: expected a Float32Array`);
  assert.equal(actual.length, expected.values.length, `${path}: length`);
  const m = expected.scale;
  const decades = FRAME_LAYOUT.codes.log_decades;
  for (let i = 0; i < actual.length; i += 1) {
    const want = expected.values[i];
    const got = actual[i];
    let ok;
    if (typeof want !== 'number') ok = Number.isNaN(got);
    else if (expected.coded === 'w8') ok = Math.abs(got - want) <= m / 254 + 2 ** -23 * m;
    else if (want === 0) ok = got === 0;
    else if (Math.abs(want) < m * 10 ** -decades) ok = Math.sign(got) === Math.sign(want) && closeTo(Math.abs(got), m * 10 ** -decades);
    else ok = Math.sign(got) === Math.sign(want) && Math.abs(Math.log10(Math.abs(got / want))) <= decades / 252 + 1e-6;
    if (!ok) assert.fail(`${path}[${i}]: ${got} is not ${expected.coded} code of ${want} (scale ${m})`);
  }
  const finite = expected.values.filter((v) => typeof v === 'number');
  if (finite.length) assert.equal(Math.max(...Array.from(actual).filter(Number.isFinite).map(Math.abs)), Math.fround(m), `${path}: scale`);
}

/**
 * Structural comparison: same keys, same array lengths, floats within float32 tolerance,
 * quantised maps within their step, everything else strictly equal. Expected arrays are
 * plain lists; the decoded ones are Float32Arrays or arrays.
 */
function check(actual, expected, path = 'frame') {
  if (expected !== null && typeof expected === 'object' && 'quantised' in expected) {
    checkQuantised(actual, expected, path);
  } else if (expected !== null && typeof expected === 'object' && 'coded' in expected) {
    checkCoded(actual, expected, path);
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual) || actual instanceof Float32Array,
      `${path}: expected an array, got ${actual}`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    const floats = actual instanceof Float32Array;
    for (let i = 0; i < expected.length; i += 1) {
      if (floats) {
        if (!closeTo(actual[i], expected[i])) {
          assert.fail(`${path}[${i}]: ${actual[i]} is not ${expected[i]} (float32)`);
        }
      } else {
        check(actual[i], expected[i], `${path}[${i}]`);
      }
    }
  } else if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', `${path}: expected an object`);
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${path}: keys`);
    for (const key of Object.keys(expected)) check(actual[key], expected[key], `${path}.${key}`);
  } else if (typeof expected === 'number' || expected === 'NaN' || expected === 'Infinity'
             || expected === '-Infinity') {
    assert.equal(typeof actual, 'number', `${path}: expected a number`);
    assert.ok(closeTo(actual, expected), `${path}: ${actual} is not ${expected} (float32)`);
  } else {
    assert.equal(actual, expected, path);
  }
}

test('fixtures are available', () => {
  assert.ok(FIXTURES, NO_FIXTURES);
});

const names = FIXTURES ? JSON.parse(readFileSync(join(FIXTURES, 'index.json'), 'utf8')) : [];

for (const name of names) {
  test(`decodes frame ${name}`, async () => {
    const { buffer, expected } = loadFixture(name);
    const { body: inflated, ...frame } = await decodeFrame(buffer);
    check(frame, expected);
    assert.ok(inflated instanceof ArrayBuffer, 'the inflated body: the base of a delta frame after it');

    // Exact integer fields and the views' layout.
    assert.equal(frame.sequence, expected.sequence);
    assert.equal(frame.step, expected.step);
    assert.ok(PHASES.includes(frame.phase));
    assert.equal(frame.layers.length, frame.layerSizes.length - 1);
    // Float32 blocks are views on one inflated body of body_bytes (zero copy); coded
    // parameters (running frames) and the NaN updates they leave out are arrays of their own.
    const body = frame.gradientNorms.buffer;
    assert.notEqual(body, buffer);
    assert.equal(body.byteLength, new DataView(buffer).getUint32(at('body_bytes'), true));
    const coded = frame.running;
    for (const layer of frame.layers) {
      for (const key of ['weights', 'bias', 'gradWeights', 'gradBias', 'updateWeights', 'updateBias']) {
        assert.ok(layer[key] instanceof Float32Array, `${key} is a Float32Array`);
        assert.equal(layer[key].buffer === body, !coded, `${key}: a view on the body iff sent as float32`);
      }
    }
    for (const block of FRAME_LAYOUT.blocks) {
      for (const array of frame.blocks[block.name] ?? []) {
        const exact = block.dtype === 'f32' || (block.dtype === 'q8' ? expected.outputMaps.every(Array.isArray) : !coded);
        assert.equal(array.buffer === body, exact, `${block.name}: a view on the body iff sent as float32`);
      }
    }
    const G = frame.mainResolution;
    const T = frame.thumbResolution;
    assert.ok(frame.outputMaps.every((map) => map.length === G * G));
    assert.ok(frame.neuronMaps.every((map) => map.length === T * T));
    assert.equal(frame.neuronMaps.length,
      frame.layerSizes.slice(0, -1).reduce((sum, n) => sum + n, 0));
  });
}

test('helpers index weights, gradients, updates and maps', { skip: !FIXTURES }, async () => {
  // a paused frame after the update phase: weights, gradients and updates all float32
  const { buffer, expected } = loadFixture('spiral3_update_paused');
  const frame = await decodeFrame(buffer);
  const layer = 1;
  const { nIn, nOut } = frame.layers[layer];
  for (let j = 0; j < nOut; j += 1) {
    for (let i = 0; i < nIn; i += 1) {
      assert.ok(closeTo(weightAt(frame, layer, j, i), expected.layers[layer].weights[j * nIn + i]));
      assert.ok(closeTo(gradientAt(frame, layer, j, i), expected.layers[layer].gradWeights[j * nIn + i]));
      assert.ok(closeTo(updateAt(frame, layer, j, i), expected.layers[layer].updateWeights[j * nIn + i]));
    }
    assert.ok(closeTo(weightAt(frame, layer, j, null), expected.layers[layer].bias[j]));
    assert.ok(closeTo(gradientAt(frame, layer, j, null), expected.layers[layer].gradBias[j]));
    assert.ok(closeTo(updateAt(frame, layer, j, null), expected.layers[layer].updateBias[j]));
  }
  assert.throws(() => weightAt(frame, layer, nOut, 0), RangeError);
  assert.throws(() => weightAt(frame, layer, 0, nIn), RangeError);
  assert.throws(() => weightAt(frame, 9, 0, 0), RangeError);
  // sizes [2, 4, 2, 3]: level 0 = inputs, 1 and 2 hidden, 3 = outputs.
  assert.deepEqual(frame.layerSizes, [2, 4, 2, 3]);
  assert.equal(mapAt(frame, 0, 1), frame.neuronMaps[1]);
  assert.equal(mapAt(frame, 1, 0), frame.neuronMaps[2]);
  assert.equal(mapAt(frame, 2, 1), frame.neuronMaps[7]);
  assert.equal(mapAt(frame, 3, 2), frame.outputMaps[2]);
  assert.throws(() => mapAt(frame, 1, 4), RangeError);
  assert.throws(() => mapAt(frame, 4, 0), RangeError);
});

/** A fixture's bytes as an exactly sized ArrayBuffer. @param {string} name */
function fixtureBytes(name) {
  const bytes = readFileSync(join(/** @type {string} */ (FIXTURES), `${name}.bin`));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

test('a frame without its maps keeps the frame before\'s', { skip: !FIXTURES }, async () => {
  const first = await decodeFrame(fixtureBytes('held_first'));
  const second = await decodeFrame(fixtureBytes('held_second'), first);
  const lite = await decodeFrame(fixtureBytes('held_lite'), first);
  assert.ok(lite.mapsSkipped && !second.mapsSkipped && !first.mapsSkipped);
  assert.equal(lite.step, second.step);
  assert.deepEqual(Array.from(lite.layers[1].weights), Array.from(second.layers[1].weights));
  assert.deepEqual(Array.from(lite.blocks.batch[0]), Array.from(second.blocks.batch[0]));
  // the maps are the previous frame's own arrays (its codes too: the painters' tables)
  assert.equal(lite.outputMaps[0].buffer, first.outputMaps[0].buffer);
  assert.deepEqual(Array.from(lite.outputMaps[0]), Array.from(first.outputMaps[0]));
  assert.deepEqual(Array.from(lite.neuronMaps.at(-1)), Array.from(first.neuronMaps.at(-1)));
  assert.deepEqual(protocol.mapCodes(lite.outputMaps[0]), protocol.mapCodes(first.outputMaps[0]));
  // with nothing to keep (the first frame, or another shape) the maps are flat
  const alone = await decodeFrame(fixtureBytes('held_lite'));
  assert.equal(alone.outputMaps[0].length, second.outputMaps[0].length);
  assert.ok(alone.outputMaps[0].every((v) => v === 0));
  const other = await decodeFrame(fixtureBytes('held_lite'), await decodeFrame(loadFixture('spiral3_step_plain').buffer));
  assert.ok(other.neuronMaps.every((map) => map.every((v) => v === 0)));
});

/** Every block of two frames, value for value (NaN equals NaN). */
function sameBlocks(one, other, names = Object.keys(other.blocks)) {
  assert.deepEqual(Object.keys(one.blocks).sort(), Object.keys(other.blocks).sort());
  for (const name of names) {
    assert.deepEqual(one.blocks[name].map((a) => Array.from(a)), other.blocks[name].map((a) => Array.from(a)), name);
  }
}

test('a delta frame plus the body of its base is the whole frame, byte for byte', { skip: !FIXTURES }, async () => {
  const first = await decodeFrame(fixtureBytes('held_first'));
  const second = await decodeFrame(fixtureBytes('held_second'), first);
  const third = await decodeFrame(fixtureBytes('held_third'), second);
  const delta = await decodeFrame(fixtureBytes('delta_second'), first);
  assert.deepEqual(new Uint8Array(delta.body), new Uint8Array(second.body));
  sameBlocks(delta, second);
  assert.equal(delta.step, second.step);
  // a frame dropped undecoded is still read: the next delta adds to it
  const read = await protocol.readFrame(fixtureBytes('delta_second'), first);
  assert.equal(read.sequence, second.sequence);
  const next = await decodeFrame(fixtureBytes('delta_third'), delta, read);
  sameBlocks(next, third);
  // cut before its maps (a lagging link), a delta frame keeps the maps before
  const lite = await decodeFrame(fixtureBytes('delta_lite'), first);
  assert.ok(lite.mapsSkipped && lite.body === null);
  sameBlocks(lite, second, ['weights', 'grad_weights', 'batch', 'focus_delta']);
  assert.equal(lite.outputMaps[0].buffer, first.outputMaps[0].buffer);
  // without its base (none, another frame, or one that left its maps out) it is refused
  await assert.rejects(decodeFrame(fixtureBytes('delta_second')), /difference from frame 1, which this page has not read/);
  await assert.rejects(decodeFrame(fixtureBytes('delta_third'), first), /frame 2/);
  await assert.rejects(decodeFrame(fixtureBytes('delta_third'), lite), /frame 2/);
});

test('frames dropped undecoded (a backlog) are still read: the deltas after them add up', { skip: !FIXTURES }, async () => {
  const { inOrder } = await import('../../frontend/transport.js');
  const decoded = [];
  const handle = inOrder(() => {}, (frame) => decoded.push(frame));
  // all six at once: while the first decodes, five wait, so the second is dropped undecoded
  for (let k = 0; k < 6; k += 1) handle(/** @type {MessageEvent} */ ({ data: fixtureBytes(`chain_${k}`) }));
  const whole = await decodeFrame(fixtureBytes('chain_whole'));
  const deadline = Date.now() + 5000;
  while (decoded.at(-1)?.sequence !== whole.sequence && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.deepEqual(decoded.map((frame) => frame.sequence), [10, 12, 13, 14, 15]);
  sameBlocks(decoded.at(-1), whole);
});

test('a frame without its maps is no base: the delta after it adds to the frame before', { skip: !FIXTURES }, async () => {
  const { inOrder } = await import('../../frontend/transport.js');
  const decoded = [];
  const handle = inOrder(() => {}, (frame) => decoded.push(frame));
  for (const name of ['held_first', 'delta_lite', 'delta_third_on_first']) {
    handle(/** @type {MessageEvent} */ ({ data: fixtureBytes(name) }));
  }
  const deadline = Date.now() + 5000;
  while (decoded.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(decoded.map((frame) => [frame.sequence, frame.mapsSkipped]), [[1, false], [2, true], [3, false]]);
  sameBlocks(decoded[2], await decodeFrame(fixtureBytes('held_third')));
});

/** A copy of a fixture's bytes, changed by `edit(view)`. */
function corrupted(edit) {
  const { buffer } = loadFixture(names[0]);
  const copy = buffer.slice(0);
  edit(new DataView(copy));
  return copy;
}

test('rejects what is not a valid frame', { skip: !FIXTURES }, async () => {
  const { buffer } = loadFixture(names[0]);
  await assert.rejects(decodeFrame(new Uint8Array(buffer)), TypeError);
  await assert.rejects(decodeFrame(new ArrayBuffer(10)), /too short/);
  await assert.rejects(decodeFrame(corrupted((v) => v.setUint8(at('magic') + 3, 0x32))), /magic "BPF2"/);
  await assert.rejects(decodeFrame(corrupted((v) => v.setUint16(at('version'), 1, true))), /version 1/);
  await assert.rejects(decodeFrame(buffer.slice(0, buffer.byteLength - 4)), /length mismatch/);
  await assert.rejects(decodeFrame(corrupted((v) => v.setUint32(at('total_bytes'), 99, true))), /length mismatch/);
  await assert.rejects(decodeFrame(corrupted((v) => v.setUint8(at('phase'), 5))), /phase code 5/);
  await assert.rejects(decodeFrame(corrupted((v) => v.setUint16(at('main_res'), 65, true))), /corrupt frame/);
  await assert.rejects(decodeFrame(corrupted((v) => v.setUint8(at('layer_sizes'), 3))), /n_features/);
  const bodyBytes = new DataView(buffer).getUint32(at('body_bytes'), true);
  await assert.rejects(decodeFrame(corrupted((v) => v.setUint32(at('body_bytes'), bodyBytes + 4, true))),
    /corrupt frame/);
  // A damaged deflate stream, and a body that inflates to less than the header says.
  await assert.rejects(decodeFrame(corrupted((v) => {
    for (let i = HEADER_BYTES + 2; i < HEADER_BYTES + 40; i += 1) v.setUint8(i, v.getUint8(i) ^ 0x5a);
  })), /corrupt frame/);
  const short = new Uint8Array(buffer.slice(0));
  const cut = short.slice(0, HEADER_BYTES + 8);
  new DataView(cut.buffer).setUint32(at('total_bytes'), cut.byteLength, true);
  await assert.rejects(decodeFrame(cut.buffer), /corrupt frame/);
});

test('parses server JSON messages', { skip: !FIXTURES }, () => {
  const [error, state] = JSON.parse(readFileSync(join(FIXTURES, 'server_messages.json'), 'utf8'))
    .map(parseServerMessage);
  assert.deepEqual(error, {
    type: 'error', id: 4, field: 'n', message: 'Input should be greater than or equal to 1',
    dropped: null,
  });
  assert.deepEqual(state, {
    type: 'state', loss: null, curve: [1, null], ok: 2.5, non_finite: ['loss', 'curve[1]'],
  });
  assert.throws(() => parseServerMessage('[1]'), /not a server message/);
  assert.throws(() => parseServerMessage('{"id": 1}'), /not a server message/);
  assert.throws(() => parseServerMessage('{'), SyntaxError);
});

test('command builders', () => {
  assert.equal(PROTOCOL_VERSION, 1);
  assert.equal(FRAME_VERSION, 4);
  assert.deepEqual(PHASES, [null, 'forward', 'loss', 'backward', 'update']);
  const parse = (text) => JSON.parse(text);
  assert.deepEqual(parse(protocol.hello('presenter', 'tok', 1)),
    { v: 1, type: 'hello', id: 1, role: 'presenter', token: 'tok' });
  assert.deepEqual(parse(protocol.hello('viewer')), { v: 1, type: 'hello', role: 'viewer' });
  assert.deepEqual(parse(protocol.hello('viewer', null, undefined, true)),
    { v: 1, type: 'hello', role: 'viewer', deltas: true });
  assert.deepEqual(parse(protocol.play()), { v: 1, type: 'play' });
  assert.deepEqual(parse(protocol.pause('p')), { v: 1, type: 'pause', id: 'p' });
  assert.deepEqual(parse(protocol.step(5)), { v: 1, type: 'step', n: 5 });
  assert.deepEqual(parse(protocol.phaseStep()), { v: 1, type: 'phase_step' });
  assert.deepEqual(parse(protocol.reset(0)), { v: 1, type: 'reset', id: 0 });
  assert.deepEqual(parse(protocol.setHyper({ learningRate: 0.1, momentum: undefined, speed: 3 })),
    { v: 1, type: 'set_hyper', learning_rate: 0.1, speed: 3 });
  assert.deepEqual(parse(protocol.configure({ seed: 3 })), { v: 1, type: 'configure', config: { seed: 3 } });
  assert.deepEqual(parse(protocol.select({ layer: 1, neuron: 2 })),
    { v: 1, type: 'select', target: { layer: 1, neuron: 2, source: null } });
  assert.deepEqual(parse(protocol.select(null)), { v: 1, type: 'select', target: null });
  assert.throws(() => protocol.setHyper({ learning_rate: NaN }), RangeError);
  assert.throws(() => protocol.configure({ data: { noise: -Infinity } }), RangeError);
});
