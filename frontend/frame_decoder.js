// @ts-check
/**
 * Binary training frames, client side: `decodeFrame` inflates one binary WebSocket message
 * and turns it into a `Frame` of `Float32Array`s (zero-copy views on the inflated body for
 * every float32 block; the 8-bit maps dequantised into arrays of their own); `weightAt`,
 * `gradientAt`, `updateAt` and `mapAt` read one parameter or map out of it.
 *
 * Everything is read from the one layout definition (backend/backprop_playground/wire/frame.py),
 * generated into wire.gen.js; docs/protocol.md shows the same tables. protocol.js re-exports
 * this module, so `import … from './protocol.js'` reaches all of it.
 *
 * @module frame_decoder
 */

import { FRAME_LAYOUT } from './wire.gen.js';

/** The JSON protocol's version (commands' `v`). */
export const PROTOCOL_VERSION = FRAME_LAYOUT.version;
/** The binary frame's format version (the header's `version` field). */
export const FRAME_VERSION = FRAME_LAYOUT.frame_version;

/** Phase names by phase code (index = code; 0 = no phase of the current step has run). */
export const PHASES = FRAME_LAYOUT.phases;

/** The four bytes every binary frame starts with. */
export const FRAME_MAGIC = FRAME_LAYOUT.magic;
/** Size of the fixed frame header, in bytes. */
export const HEADER_BYTES = FRAME_LAYOUT.header_bytes;

/** @param {string} name @returns {number} the header flag bit of `name` */
const flagBit = (name) => 1 << FRAME_LAYOUT.flags.indexOf(/** @type {any} */ (name));
/** Bits of the header's `flags` field. */
export const FLAG_RUNNING = flagBit('running');
export const FLAG_DIVERGED = flagBit('diverged');
export const FLAG_SELECTION = flagBit('selection');
export const FLAG_SWEEP = flagBit('sweep');
const FLAG_EXACT_MAPS = flagBit('exact_maps');
const FLAG_CODED = flagBit('coded');
const FLAG_UPDATES = flagBit('updates');
const FLAG_MAPS_SKIPPED = flagBit('maps_skipped');
const FLAG_DELTA = flagBit('delta');
/** `g8` codes span this many decades below an array's largest |value|. */
const LOG_DECADES = FRAME_LAYOUT.codes.log_decades;
/** The `w8`/`g8` code of a value that is not finite. */
const NOT_FINITE = FRAME_LAYOUT.codes.not_finite;

/**
 * @typedef {(typeof FRAME_LAYOUT.blocks)[number]} LayoutBlock
 * @typedef {(typeof FRAME_LAYOUT.header)[number]} LayoutField
 */

/** @param {string} name @returns {LayoutBlock} */
function layoutBlock(name) {
  const block = FRAME_LAYOUT.blocks.find((b) => b.name === name);
  if (!block) throw new Error(`the frame layout has no block ${name}`);
  return block;
}

/**
 * Column indexes of a record block's rows, by field name.
 * @param {string} name @returns {Record<string, number>}
 */
function columns(name) {
  return Object.fromEntries(layoutBlock(name).fields.map((field, i) => [field, i]));
}

const SELECTION = columns('selection');
/** The selection record's fields from here on are the update rule's inputs (frame.py). */
const RULE_FROM = SELECTION.learning_rate;
const SAMPLE = columns('selection_samples');
const SWEEP = columns('sweep');
const BATCH = columns('batch');
const SWEEP_FIELDS = layoutBlock('sweep').fields.length;
/** Floats at the head of the selection block, and floats per batch-point row after it. */
export const SELECTION_FIELDS = layoutBlock('selection').fields.length;
export const SAMPLE_FIELDS = layoutBlock('selection_samples').fields.length;

/** Selection kind codes (the selection block's `kind`). */
const SELECTION_KINDS = /** @type {const} */ ({ 1: 'neuron', 2: 'edge' });

// ---------------------------------------------------------------------------- types

/** @typedef {(typeof PHASES)[number]} Phase */

/**
 * One layer's parameters as float32 views into the frame's buffer (no copies).
 * Weights are row-major (nOut × nIn): `weights[j * nIn + i]` is the weight from input
 * (feature or neuron of the layer below) i to neuron j.
 *
 * @typedef {object} FrameLayer
 * @property {number} nIn            neurons (or features) of the layer below
 * @property {number} nOut           neurons of this layer
 * @property {Float32Array} weights        nOut × nIn
 * @property {Float32Array} bias           nOut
 * @property {Float32Array} gradWeights    dL/dW, nOut × nIn (from the last backward phase)
 * @property {Float32Array} gradBias       dL/db, nOut
 * @property {Float32Array} updateWeights  the last applied change ΔW, nOut × nIn (all NaN in
 *   a running frame, which leaves the updates out)
 * @property {Float32Array} updateBias     the last applied change Δb, nOut
 *
 * In a running frame (flag `coded`) weights and biases are 8-bit codes (within 1/254 of the
 * layer's largest |w|) and gradients sign-log codes (within 3.7 % down to 10⁻⁴ of the largest);
 * each array's largest |value| is exact. They are drawn; what the page prints comes from the
 * selection blocks, which are always float32.
 */

/**
 * One batch point's numbers for the selected neuron or edge (NaN where the phase that
 * produces the value has not run yet in this step).
 *
 * @typedef {object} SelectionSample
 * @property {number} aSource  activation of the edge's source (1 for a neuron's bias)
 * @property {number} z        pre-activation of the selected neuron
 * @property {number} a        activation of the selected neuron
 * @property {number} gradA    dL/da
 * @property {number} dadz     da/dz (NaN for a softmax output: no elementwise derivative)
 * @property {number} delta    dL/dz
 */

/**
 * @typedef {object} FrameSelection
 * @property {'neuron' | 'edge'} kind  a neuron (its bias) or an edge source → neuron
 * @property {number} layer            0 = first hidden layer; the output layer is the last
 * @property {number | null} source    the edge's source index in the layer below; null for a neuron
 * @property {number} neuron           the neuron's index in `layer`
 * @property {number} weight           the parameter's value (the bias for a neuron)
 * @property {number} gradient         dL/dθ of the parameter
 * @property {number} update           the last applied change Δθ of the parameter
 * @property {Record<string, number>} rule  what the step's update rule read for it, by the
 *   layout's names: learning_rate, penalty (the L1/L2 term of the gradient), the optimizer's
 *   constants (momentum, beta1, beta2, epsilon), t, and its memory before and after
 *   (velocity_before, velocity, m_before, m, v_before, v); NaN where it does not apply
 * @property {SelectionSample[]} samples  the first S points of the current minibatch
 * @property {Float32Array} fanOut  a selected hidden neuron j: w_kj to each neuron k of the
 *   next layer as the step's backward pass used them (before its update); empty otherwise
 */

/**
 * The last step on the loss landscape: f(s) = the batch objective at distance s along the
 * update from the weights before it (s = stepLength is where the step landed).
 * @typedef {object} Landscape
 * @property {Float32Array} s  @property {Float32Array} loss  the samples
 * @property {Record<string, number>} info  step, step_length, gradient_norm, learning_rate,
 *   slope, loss_before, loss_after, minimum_step, minimum_loss, minimum_at_edge, verdict
 *   (an index into the catalogue's landscape_verdicts)
 */

/**
 * One point of the current minibatch (NaN where the phase that computes a value has not run).
 * @typedef {object} BatchPoint
 * @property {number} index   its index in the training set (rows of `data.train`)
 * @property {number} x1 @property {number} x2  its position
 * @property {number} label   its class (or regression target)
 * @property {number} target  y of the output unit the loss compares (±1 for tanh, 0/1 for
 *   sigmoid, 1 for the point's class under softmax)
 * @property {number} output  a of that unit
 * @property {number} pTrue   the predicted probability of its own class (NaN: regression)
 * @property {number} loss    its term ℓ_b of L = 1/B Σ ℓ_b (after the loss phase)
 * @property {number} gradOutput  dL/da of that unit, with the 1/B (after the loss phase)
 */

/**
 * The focus point's numbers, per layer (first hidden layer first; the output layer last).
 * @typedef {object} FocusPoint
 * @property {Float32Array} inputs   its feature values
 * @property {Float32Array[]} z      pre-activations per layer
 * @property {Float32Array[]} a      activations per layer
 * @property {Float32Array[]} delta  δ = dL/dz per layer (NaN before the backward phase)
 */

/**
 * A decoded training frame. Every float is a float32 value (NaN and ±Infinity pass through).
 *
 * @typedef {object} Frame
 * @property {number} sequence        frame counter (u32, wraps)
 * @property {number} step            completed updates
 * @property {number} epoch           completed passes over the training data
 * @property {number} epochProgress   fractional epochs
 * @property {Phase} phase            last completed phase of the current step
 * @property {boolean} running
 * @property {boolean} mapsSkipped  the frame left its maps out (the link lagged): its maps
 *   are the frame before's
 * @property {boolean} diverged
 * @property {boolean} hasSelection
 * @property {{resolution: number, runs: {learningRate: number, trainLoss: number,
 *   testLoss: number, diverged: boolean, verdict: number, stepLength: number,
 *   minimumStep: number, map: Float32Array}[]} | null} sweep
 *   a learning-rate sweep's runs, else null; `verdict` indexes the catalogue's
 *   landscape_verdicts (NaN: no step to judge)
 * @property {Landscape | null} landscape  the last step on the loss landscape of its batch
 *   (after the update phase), else null
 * @property {boolean} overshot  the last step raised its own batch's loss
 * @property {Float32Array | null} saturation  per layer, the share of saturated units while
 *   the run is saturated (its gradients vanished), else null
 * @property {number[]} layerSizes    [n_0 (features), hidden…, n_L (outputs)]
 * @property {number} batchLoss       NaN before the loss phase of a step
 * @property {number} trainLoss
 * @property {number} testLoss
 * @property {number} trainAccuracy   NaN for regression
 * @property {number} testAccuracy    NaN for regression
 * @property {number} learningRate
 * @property {number} batchSize       size of the current minibatch (0 before the first step)
 * @property {number} mainResolution  G: output maps are G × G
 * @property {number} thumbResolution T: neuron maps are T × T
 * @property {FrameLayer[]} layers    L layers, first hidden layer first
 * @property {Float32Array} gradientNorms  ‖dL/d[W_l | b_l]‖₂ per layer (L)
 * @property {Float32Array} updateRatios   ‖Δθ_l‖ / ‖θ_l‖ per layer (L)
 * @property {Float32Array[]} outputMaps   one G × G map per output, row 0 = top (x2 = +6)
 * @property {Float32Array[]} neuronMaps   one T × T map per input feature, then per hidden
 *                                         neuron (layer by layer)
 * @property {FrameSelection | null} selection
 * @property {BatchPoint[] | null} batch  the first N points of the current minibatch, once
 *   the step's forward phase has run (null before)
 * @property {number} focus  the focus point: its index in `batch`
 * @property {FocusPoint | null} focusPoint  the focus point's numbers layer by layer
 * @property {Record<string, Float32Array[]>} blocks  every present block of the layout by
 *   name (wire.gen.js), one array per layer for per-layer blocks (`q8` blocks dequantised):
 *   a new block reaches the page here without a change to this module
 * @property {ArrayBuffer | null} body  the inflated body: what a `delta` frame after this one
 *   is added to (null for a frame that left its maps out)
 */

/**
 * @typedef {{sequence: number, body: ArrayBuffer | null}} FrameBase  the last frame read with
 *   its maps: a `delta` frame whose `base` is its sequence is the difference from its body
 */

// ---------------------------------------------------------------------- binary frames

/**
 * Decode one binary training frame.
 *
 * Header fields are read with a little-endian DataView at the offsets of FRAME_LAYOUT; the
 * body after the header is inflated (zlib, `DecompressionStream('deflate')`) into one new
 * ArrayBuffer. Every float32 block is a `Float32Array` view on that buffer (zero copy: each
 * block starts at a multiple of 4 bytes); a Float32Array uses the platform's byte order,
 * little-endian on every platform a browser (or Node) runs on, matching the frame. `q8`
 * blocks (the maps) are dequantised into Float32Arrays of their own.
 *
 * A frame that left its maps out (flag `maps_skipped`: the server does so while the link
 * lags) takes them from `previous`, the frame decoded before it, when they have its shapes
 * (else flat maps of 0); `mapsSkipped` says so.
 *
 * A `delta` frame is the difference from `base`'s body (docs/protocol.md), by default
 * `previous`: the last frame the page read with its maps, decoded or not.
 *
 * @param {ArrayBuffer} buffer  one whole binary WebSocket message (binaryType 'arraybuffer')
 * @param {Frame | null} [previous]  the frame decoded before this one
 * @param {FrameBase | null} [base]  the last frame read with its maps
 * @returns {Promise<Frame>}
 * @throws {Error} (the promise rejects) when the buffer is not a frame of this version, is
 *   truncated or its body does not inflate to what the header describes
 */
export async function decodeFrame(buffer, previous = null, base = previous) {
  const { header, layerSizes, present, lengths, body, mapsSkipped } = await readFrame(buffer, base);
  const blocks = readBlocks(body, header, present, lengths);
  if (mapsSkipped) holdMaps(blocks, header, layerSizes, previous);
  return assemble(header, layerSizes, blocks, mapsSkipped ? null : body);
}

/**
 * One frame's header checked and its body inflated (a `delta` frame's with its base's body
 * added back, byte by byte modulo 256): what decodeFrame decodes, and all a frame dropped
 * undecoded still has to give, the base of the next.
 * @param {ArrayBuffer} buffer  one whole binary WebSocket message
 * @param {FrameBase | null} [base]  the last frame read with its maps
 * @returns {Promise<{header: ReturnType<typeof readHeader>, layerSizes: number[], present: LayoutBlock[],
 *   lengths: number[][], body: ArrayBuffer, sequence: number, mapsSkipped: boolean}>}
 *   (`sequence` and `body`: the base of the next frames, unless the frame left its maps out)
 * @throws {Error} as decodeFrame; for a delta frame whose base is not `base`
 */
export async function readFrame(buffer, base = null) {
  if (!(buffer instanceof ArrayBuffer)) {
    throw new TypeError('decodeFrame expects an ArrayBuffer (set ws.binaryType = "arraybuffer")');
  }
  if (buffer.byteLength < HEADER_BYTES) {
    throw new Error(`frame too short: ${buffer.byteLength} bytes, the header alone is ${HEADER_BYTES}`);
  }
  const header = readHeader(new DataView(buffer));
  if (header.magic !== FRAME_MAGIC) {
    throw new Error(`not a training frame: magic ${JSON.stringify(header.magic)}, expected "${FRAME_MAGIC}"`);
  }
  if (header.version !== FRAME_VERSION) {
    throw new Error(`frame protocol version ${header.version} is not supported (expected ${FRAME_VERSION})`);
  }
  if (header.total_bytes !== buffer.byteLength) {
    throw new Error(`frame length mismatch: header says ${header.total_bytes} bytes, got ${buffer.byteLength}`);
  }
  if (header.phase >= PHASES.length) throw new Error(`unknown phase code ${header.phase}`);
  const layerSizes = header.layer_sizes.slice(0, header.n_layers + 1);
  if (layerSizes[0] !== header.n_features) {
    throw new Error(`corrupt frame: n_features ${header.n_features} but layer sizes start with ${layerSizes[0]}`);
  }
  const present = presentBlocks(header);
  const lengths = present.map((block) => blockLengths(block, header, layerSizes));
  const expected = lengths.reduce((sum, arrays, b) => sum + arrays.reduce(
    (total, length) => total + arrayBytes(present[b], length, header), 0), 0);
  if (expected !== header.body_bytes) {
    throw new Error(`corrupt frame: the header describes a body of ${expected} bytes, says ${header.body_bytes}`);
  }
  const body = await inflate(new Uint8Array(buffer, HEADER_BYTES));
  if (body.byteLength !== header.body_bytes) {
    throw new Error(`corrupt frame: the body inflates to ${body.byteLength} bytes, the header says ${header.body_bytes}`);
  }
  if ((header.flags & FLAG_DELTA) !== 0) addBase(body, header, base);
  const mapsSkipped = (header.flags & FLAG_MAPS_SKIPPED) !== 0;
  return { header, layerSizes, present, lengths, body, sequence: header.sequence, mapsSkipped };
}

/**
 * A delta frame's inflated `body` plus its base's, in place (Uint8Array stores wrap modulo 256).
 * @param {ArrayBuffer} body @param {Record<string, number>} header @param {FrameBase | null} base
 */
function addBase(body, header, base) {
  const from = base?.sequence === header.base ? base.body : null;
  if (!from || from.byteLength < body.byteLength) {
    throw new Error(`delta frame ${header.sequence} is the difference from frame ${header.base}, which this page has not read`);
  }
  const out = new Uint8Array(body);
  const add = new Uint8Array(from, 0, out.length);
  for (let i = 0; i < out.length; i += 1) out[i] += add[i];
}

/**
 * Put the map blocks a frame left out into `blocks`: `previous`'s arrays where it is a
 * frame of the same network and map resolutions, else arrays of 0.
 * @param {Record<string, Float32Array[]>} blocks @param {Record<string, number>} header
 * @param {number[]} layerSizes @param {Frame | null} previous
 */
function holdMaps(blocks, header, layerSizes, previous) {
  const sameGrid = previous !== null && previous.mainResolution === header.main_res
    && previous.thumbResolution === header.thumb_res && (previous.sweep?.resolution ?? 0) === header.sweep_res
    && previous.layerSizes.join() === layerSizes.join();
  for (const block of FRAME_LAYOUT.blocks) {
    if (block.dtype !== 'q8' || (block.flag !== null && (header.flags & flagBit(block.flag)) === 0)) continue;
    const lengths = blockLengths(block, header, layerSizes);
    const old = sameGrid ? previous.blocks[block.name] : undefined;
    const fits = old !== undefined && old.length === lengths.length && old.every((a, i) => a.length === lengths[i]);
    blocks[block.name] = fits ? old : lengths.map((n) => new Float32Array(n));
  }
}

/**
 * The raw deflate stream `bytes`, inflated into one ArrayBuffer.
 * @param {Uint8Array<ArrayBuffer>} bytes @returns {Promise<ArrayBuffer>}
 */
async function inflate(bytes) {
  const stream = new DecompressionStream('deflate-raw');
  const writer = stream.writable.getWriter();
  writer.write(bytes).catch(() => {});  // a corrupt stream rejects the read below too
  writer.close().catch(() => {});
  try {
    return await new Response(stream.readable).arrayBuffer();
  } catch (error) {
    throw new Error(`corrupt frame: the body does not inflate (${error instanceof Error ? error.message : error})`);
  }
}

/**
 * Every header field by name: numbers, the magic as text, the layer sizes as bytes.
 * @param {DataView} view
 * @returns {Record<string, number> & {magic: string, layer_sizes: number[]}}
 */
function readHeader(view) {
  /** @type {Record<string, any>} */
  const header = {};
  for (const field of FRAME_LAYOUT.header) {
    const at = field.offset;
    if (field.type === 'magic' || field.type === 'sizes') {
      const bytes = Array.from(new Uint8Array(view.buffer, at, field.size));
      header[field.name] = field.type === 'magic' ? String.fromCharCode(...bytes) : bytes;
    } else if (field.type === 'u8') header[field.name] = view.getUint8(at);
    else if (field.type === 'u16') header[field.name] = view.getUint16(at, true);
    else if (field.type === 'u32') header[field.name] = view.getUint32(at, true);
    else if (field.type === 'u64') header[field.name] = Number(view.getBigUint64(at, true));
    else header[field.name] = view.getFloat32(at, true);
  }
  return /** @type {any} */ (header);
}

/**
 * The shapes of a block's arrays (one per layer for a per-layer block).
 * @param {LayoutBlock} block @param {Record<string, number>} header @param {number[]} sizes
 * @returns {number[]} the float count of each array
 */
function blockLengths(block, header, sizes) {
  /** @param {Record<string, number>} symbols */
  const length = (symbols) => block.shape.reduce(
    (/** @type {number} */ product, /** @type {string | number} */ dim) =>
      product * (typeof dim === 'number' ? dim : symbols[dim]), 1);
  if (!block.per_layer) return [length(header)];
  return sizes.slice(1).map((nOut, l) => length({ ...header, n_in: sizes[l], n_out: nOut }));
}

/**
 * The blocks the frame carries: each whose flag (if any) is set, no maps with the flag
 * `maps_skipped`.
 * @param {Record<string, number>} header @returns {LayoutBlock[]}
 */
function presentBlocks(header) {
  const skipped = (header.flags & FLAG_MAPS_SKIPPED) !== 0;
  return FRAME_LAYOUT.blocks.filter(
    (block) => (block.flag === null || (header.flags & flagBit(block.flag)) !== 0)
      && !(skipped && block.dtype === 'q8'));
}

/**
 * How a block's arrays come in this frame: float32, 8-bit map codes (`q8`), or parameter
 * codes (`w8` linear, `g8` sign-log) in a `coded` frame.
 * @param {LayoutBlock} block @param {Record<string, number>} header
 * @returns {'f32' | 'q8' | 'w8' | 'g8'}
 */
function sentAs(block, header) {
  if (block.dtype === 'q8') return (header.flags & FLAG_EXACT_MAPS) === 0 ? 'q8' : 'f32';
  if (block.dtype === 'w8' || block.dtype === 'g8') return (header.flags & FLAG_CODED) !== 0 ? block.dtype : 'f32';
  return 'f32';
}

/**
 * Bytes one array of `length` values takes in the body: 4 per float32; a q8 array: a
 * float32 (lo, hi) per map, then one byte per value; w8/g8: a float32 scale, then one byte
 * per value; codes padded to a multiple of 4.
 * @param {LayoutBlock} block @param {number} length @param {Record<string, number>} header
 */
function arrayBytes(block, length, header) {
  const kind = sentAs(block, header);
  if (kind === 'f32') return 4 * length;
  const head = kind === 'q8' ? 8 * mapCount(block, length, header) : 4;
  return head + Math.ceil(length / 4) * 4;
}

/**
 * How many maps a q8 array of `length` values holds (its last two axes are one map).
 * @param {LayoutBlock} block @param {number} length @param {Record<string, number>} header
 */
function mapCount(block, length, header) {
  const area = block.shape.slice(-2).reduce(
    (/** @type {number} */ product, /** @type {string | number | undefined} */ dim) =>
      product * dimension(dim, header), 1);
  return area === 0 ? 0 : length / area;
}

/**
 * A shape entry's size: a number, or a header symbol.
 * @param {string | number | undefined} dim @param {Record<string, number>} header
 */
function dimension(dim, header) {
  return typeof dim === 'number' ? dim : header[dim ?? ''] ?? 0;
}

/**
 * Every present block (per-layer blocks: one array per layer) out of the inflated body:
 * float32 blocks as views on it, q8 blocks dequantised.
 * @param {ArrayBuffer} body @param {Record<string, number>} header
 * @param {LayoutBlock[]} present @param {number[][]} lengths  values of each array
 * @returns {Record<string, Float32Array[]>}
 */
function readBlocks(body, header, present, lengths) {
  let offset = 0;
  /** @type {Record<string, Float32Array[]>} */
  const views = {};
  present.forEach((block, b) => {
    const kind = sentAs(block, header);
    views[block.name] = lengths[b].map((length) => {
      const array = kind === 'q8'
        ? dequantise(body, offset, length, mapCount(block, length, header), dimension(block.shape.at(-1), header))
        : kind === 'f32' ? new Float32Array(body, offset, length) : decodeParameters(body, offset, length, kind);
      offset += arrayBytes(block, length, header);
      return array;
    });
  });
  return views;
}

/**
 * The codes behind every dequantised array (keyed by its own buffer), so that a painter can
 * colour a map through a 256-entry table (render/color_lut.js) instead of value by value.
 * @type {WeakMap<ArrayBufferLike, {codes: Uint8Array, ranges: Float32Array, area: number}>}
 */
const quantisedMaps = new WeakMap();

/**
 * A map's 8-bit codes (a view, not a copy) and its dequantisation, value(c) =
 * fround(low + c·step) exactly as the decoded values; null for a map that came as float32
 * (flag `exact_maps`) or for an array that is not one whole map of a frame.
 * @param {Float32Array} map  e.g. frame.outputMaps[k], mapAt(frame, level, index), a sweep map
 * @returns {{codes: Uint8Array, low: number, step: number} | null}
 */
export function mapCodes(map) {
  const info = quantisedMaps.get(map.buffer);
  if (!info || info.area === 0 || map.length !== info.area) return null;
  const index = map.byteOffset / 4 / info.area;
  if (!Number.isInteger(index)) return null;
  const low = info.ranges[2 * index];
  return { codes: info.codes.subarray(index * info.area, (index + 1) * info.area), low,
    step: (info.ranges[2 * index + 1] - low) / 255 };
}

/**
 * The values of a q8 array at `offset` of the body: `maps` float32 (lo, hi) pairs, then
 * `length` bytes, each the difference (mod 256) between a code and its prediction from the
 * decoded neighbours (left + up − up-left clamped to 0 … 255; the left one on the first row,
 * the upper one in the first column, 0 for the first code). value = lo + code·(hi − lo)/255.
 * @param {ArrayBuffer} body @param {number} offset @param {number} length
 * @param {number} maps @param {number} width  columns of a map
 * @returns {Float32Array}
 */
function dequantise(body, offset, length, maps, width) {
  const ranges = new Float32Array(body, offset, 2 * maps);
  const codes = new Uint8Array(body, offset + 8 * maps, length).slice();
  const values = new Float32Array(length);
  const area = maps === 0 ? 0 : length / maps;
  quantisedMaps.set(values.buffer, { codes, ranges, area });
  for (let m = 0; m < maps; m += 1) {
    const low = ranges[2 * m];
    const step = (ranges[2 * m + 1] - low) / 255;
    for (let k = 0; k < area; k += 1) {
      const i = m * area + k;
      const column = k % width;
      let guess = 0;
      if (k < width) guess = column === 0 ? 0 : codes[i - 1];
      else if (column === 0) guess = codes[i - width];
      else {
        guess = codes[i - 1] + codes[i - width] - codes[i - width - 1];
        guess = guess < 0 ? 0 : guess > 255 ? 255 : guess;
      }
      codes[i] = (codes[i] + guess) & 255;
      values[i] = low + codes[i] * step;
    }
  }
  return values;
}

/**
 * A `w8` or `g8` array at `offset` of the body: its scale m (float32), then one int8 code
 * per value. w8: value = c · (m / 127); g8: 0 → 0, ±c → ±m · 10^(−D·(127 − c)/126) with D
 * the layout's log_decades; the not-finite code → NaN.
 * @param {ArrayBuffer} body @param {number} offset @param {number} length @param {'w8' | 'g8'} kind
 * @returns {Float32Array}
 */
function decodeParameters(body, offset, length, kind) {
  const scale = new Float32Array(body, offset, 1)[0];
  const codes = new Int8Array(body, offset + 4, length);
  const values = new Float32Array(length);
  for (let i = 0; i < length; i += 1) {
    const c = codes[i];
    if (c === NOT_FINITE) values[i] = NaN;
    else if (kind === 'w8') values[i] = c * (scale / 127);
    else if (c !== 0) values[i] = Math.sign(c) * scale * 10 ** (-LOG_DECADES * (127 - Math.abs(c)) / 126);
  }
  return values;
}

/**
 * This step's updates, or (a running frame leaves them out) NaN arrays of their shapes.
 * @param {Record<string, Float32Array[]>} blocks @param {number[]} layerSizes @param {number} flags
 * @returns {{weights: Float32Array[], biases: Float32Array[]}}
 */
function updatesOf(blocks, layerSizes, flags) {
  if ((flags & FLAG_UPDATES) !== 0) return { weights: blocks.update_weights, biases: blocks.update_biases };
  const sizes = layerSizes.slice(1).map((nOut, l) => [nOut * layerSizes[l], nOut]);
  return {
    weights: sizes.map(([n]) => new Float32Array(n).fill(NaN)),
    biases: sizes.map(([, n]) => new Float32Array(n).fill(NaN)),
  };
}

/**
 * The Frame object the views read, from the header and the block views.
 * @param {Record<string, number>} header @param {number[]} layerSizes
 * @param {Record<string, Float32Array[]>} blocks @param {ArrayBuffer | null} body
 * @returns {Frame}
 */
function assemble(header, layerSizes, blocks, body) {
  const G = header.main_res;
  const T = header.thumb_res;
  const updates = updatesOf(blocks, layerSizes, header.flags);
  /** @type {FrameLayer[]} */
  const layers = layerSizes.slice(1).map((nOut, l) => ({
    weights: blocks.weights[l], bias: blocks.biases[l],
    gradWeights: blocks.grad_weights[l], gradBias: blocks.grad_biases[l],
    updateWeights: updates.weights[l], updateBias: updates.biases[l],
    nIn: layerSizes[l], nOut,
  }));
  const hasSelection = (header.flags & FLAG_SELECTION) !== 0;
  return {
    blocks,
    body,
    sequence: header.sequence,
    step: header.step,
    epoch: header.epoch,
    epochProgress: header.epoch_progress,
    phase: PHASES[header.phase],
    running: (header.flags & FLAG_RUNNING) !== 0,
    mapsSkipped: (header.flags & FLAG_MAPS_SKIPPED) !== 0,
    diverged: (header.flags & FLAG_DIVERGED) !== 0,
    hasSelection,
    sweep: blocks.sweep ? decodeSweep(blocks.sweep[0], blocks.sweep_maps[0], header) : null,
    batch: blocks.batch ? decodeBatch(blocks.batch[0]) : null,
    landscape: blocks.landscape ? decodeLandscape(blocks.landscape[0], blocks.landscape_info[0]) : null,
    overshot: (header.flags & flagBit('overshot')) !== 0,
    saturation: blocks.saturation ? blocks.saturation[0] : null,
    focus: header.focus,
    focusPoint: blocks.batch ? {
      inputs: blocks.focus_inputs[0], z: blocks.focus_z, a: blocks.focus_a, delta: blocks.focus_delta,
    } : null,
    layerSizes,
    batchLoss: header.batch_loss,
    trainLoss: header.train_loss,
    testLoss: header.test_loss,
    trainAccuracy: header.train_accuracy,
    testAccuracy: header.test_accuracy,
    learningRate: header.learning_rate,
    batchSize: header.batch_size,
    mainResolution: G,
    thumbResolution: T,
    layers,
    gradientNorms: blocks.gradient_norms[0],
    updateRatios: blocks.update_ratios[0],
    outputMaps: split(blocks.output_maps[0], G * G),
    neuronMaps: split(blocks.neuron_maps[0], T * T),
    selection: hasSelection
      ? decodeSelection(blocks.selection[0], blocks.selection_samples[0], header.selection_samples,
        blocks.selection_fan_out[0])
      : null,
  };
}

/**
 * Consecutive views of `size` floats on the same buffer.
 * @param {Float32Array} array @param {number} size @returns {Float32Array[]}
 */
function split(array, size) {
  const count = size === 0 ? 0 : array.length / size;
  return Array.from({ length: count },
    (_, i) => new Float32Array(array.buffer, array.byteOffset + 4 * i * size, size));
}

/**
 * @param {Float32Array} samples  P × 2: s, f(s)  @param {Float32Array} record  LANDSCAPE_RECORD
 * @returns {Landscape}
 */
function decodeLandscape(samples, record) {
  const count = samples.length / 2;
  /** @type {Record<string, number>} */
  const info = {};
  layoutBlock('landscape_info').fields.forEach((name, i) => { info[name] = record[i]; });
  return {
    s: Float32Array.from({ length: count }, (_, i) => samples[2 * i]),
    loss: Float32Array.from({ length: count }, (_, i) => samples[2 * i + 1]),
    info,
  };
}

/**
 * @param {Float32Array} rows  N × BATCH_FIELDS point rows
 * @returns {BatchPoint[]}
 */
function decodeBatch(rows) {
  const width = layoutBlock('batch').fields.length;
  return Array.from({ length: rows.length / width }, (_, i) => {
    const r = i * width;
    return {
      index: rows[r + BATCH.index], x1: rows[r + BATCH.x1], x2: rows[r + BATCH.x2],
      label: rows[r + BATCH.label], target: rows[r + BATCH.target], output: rows[r + BATCH.output],
      pTrue: rows[r + BATCH.p_true], loss: rows[r + BATCH.loss], gradOutput: rows[r + BATCH.grad_output],
    };
  });
}

/**
 * @param {Float32Array} rows  K × 4 run rows  @param {Float32Array} maps  K maps R × R
 * @param {Record<string, number>} header
 */
function decodeSweep(rows, maps, header) {
  const width = SWEEP_FIELDS;
  const area = header.sweep_res * header.sweep_res;
  const runMaps = split(maps, area);
  return {
    resolution: header.sweep_res,
    runs: Array.from({ length: header.sweep_runs }, (_, k) => ({
      learningRate: rows[width * k + SWEEP.learning_rate],
      trainLoss: rows[width * k + SWEEP.train_loss],
      testLoss: rows[width * k + SWEEP.test_loss],
      diverged: rows[width * k + SWEEP.diverged] > 0.5,
      verdict: rows[width * k + SWEEP.verdict],
      stepLength: rows[width * k + SWEEP.step_length],
      minimumStep: rows[width * k + SWEEP.minimum_step],
      map: runMaps[k],
    })),
  };
}

/**
 * @param {Float32Array} head  the selection block (kind, layer, source, neuron, …)
 * @param {Float32Array} rows  S × SAMPLE_FIELDS per batch point
 * @param {number} sampleCount  S from the header
 * @param {Float32Array} fanOut  the selection_fan_out block
 * @returns {FrameSelection}
 */
function decodeSelection(head, rows, sampleCount, fanOut) {
  const kind = SELECTION_KINDS[/** @type {1 | 2} */ (head[SELECTION.kind])];
  if (kind === undefined) {
    throw new Error(`corrupt frame: unknown selection kind ${head[SELECTION.kind]}`);
  }
  if (head[SELECTION.samples] !== sampleCount) {
    throw new Error(`corrupt frame: selection has ${head[SELECTION.samples]} samples, header says ${sampleCount}`);
  }
  /** @type {SelectionSample[]} */
  const samples = [];
  for (let s = 0; s < sampleCount; s += 1) {
    const r = s * SAMPLE_FIELDS;
    samples.push({
      aSource: rows[r + SAMPLE.a_source], z: rows[r + SAMPLE.z], a: rows[r + SAMPLE.a],
      gradA: rows[r + SAMPLE.grad_a], dadz: rows[r + SAMPLE.da_dz], delta: rows[r + SAMPLE.delta],
    });
  }
  /** @type {Record<string, number>} */
  const rule = {};
  layoutBlock('selection').fields.slice(RULE_FROM).forEach((name, i) => { rule[name] = head[RULE_FROM + i]; });
  return {
    kind,
    rule,
    layer: head[SELECTION.layer],
    source: kind === 'neuron' ? null : head[SELECTION.source],
    neuron: head[SELECTION.neuron],
    weight: head[SELECTION.weight],
    gradient: head[SELECTION.gradient],
    update: head[SELECTION.update],
    samples,
    fanOut,
  };
}

// -------------------------------------------------------------------- frame helpers

/**
 * @param {Frame} frame
 * @param {number} layer   0 = first hidden layer
 * @param {number} neuron  index in `layer`
 * @param {number | null} source  index in the layer below, or null for the neuron's bias
 * @param {'' | 'grad' | 'update'} which
 */
function parameterAt(frame, layer, neuron, source, which) {
  const l = frame.layers[layer];
  if (!l || neuron < 0 || neuron >= l.nOut || (source !== null && (source < 0 || source >= l.nIn))) {
    throw new RangeError(`no parameter at layer ${layer}, neuron ${neuron}, source ${source}`);
  }
  const weights = which === 'grad' ? l.gradWeights : which === 'update' ? l.updateWeights : l.weights;
  const bias = which === 'grad' ? l.gradBias : which === 'update' ? l.updateBias : l.bias;
  return source === null ? bias[neuron] : weights[neuron * l.nIn + source];
}

/**
 * The weight from `source` (layer below) to `neuron` of `layer`; `source` null: the bias.
 * @param {Frame} frame @param {number} layer @param {number} neuron @param {number | null} source
 * @returns {number}
 */
export function weightAt(frame, layer, neuron, source) {
  return parameterAt(frame, layer, neuron, source, '');
}

/**
 * dL/dθ of the weight (or, `source` null, the bias) like {@link weightAt}.
 * @param {Frame} frame @param {number} layer @param {number} neuron @param {number | null} source
 * @returns {number}
 */
export function gradientAt(frame, layer, neuron, source) {
  return parameterAt(frame, layer, neuron, source, 'grad');
}

/**
 * The last applied change Δθ of the weight (or bias) like {@link weightAt}.
 * @param {Frame} frame @param {number} layer @param {number} neuron @param {number | null} source
 * @returns {number}
 */
export function updateAt(frame, layer, neuron, source) {
  return parameterAt(frame, layer, neuron, source, 'update');
}

/**
 * The map of neuron `index` at `level`, where levels index `frame.layerSizes`: 0 = input
 * features, 1 … L−1 = hidden layers (T × T thumbnails), L = outputs (G × G maps).
 * @param {Frame} frame @param {number} level @param {number} index
 * @returns {Float32Array}
 */
export function mapAt(frame, level, index) {
  const sizes = frame.layerSizes;
  if (level < 0 || level >= sizes.length || index < 0 || index >= sizes[level]) {
    throw new RangeError(`no neuron ${index} at level ${level}`);
  }
  if (level === sizes.length - 1) return frame.outputMaps[index];
  let start = 0;
  for (let l = 0; l < level; l += 1) start += sizes[l];
  return frame.neuronMaps[start + index];
}
