// @ts-check
/**
 * The wire protocol, client side: the ONLY frontend module that knows message shapes.
 *
 * - Client → server: JSON commands built by the functions below (`hello`, `play`, …).
 * - Server → client JSON: `parseServerMessage`.
 * - Server → client binary training frames: `decodeFrame`.
 *
 * The server's side is backend/backprop_playground/protocol.py; the layout is documented
 * byte by byte in docs/protocol.md. Keep the three in step.
 *
 * @module protocol
 */

export const PROTOCOL_VERSION = 1;

/** Phase names by phase code (index = code; 0 = no phase of the current step has run). */
export const PHASES = /** @type {const} */ ([null, 'forward', 'loss', 'backward', 'update']);

/** The four bytes every binary frame starts with. */
export const FRAME_MAGIC = 'BPF1';
/** Size of the fixed frame header, in bytes. */
export const HEADER_BYTES = 64;

/** Bits of the header's `flags` field. */
export const FLAG_RUNNING = 1;
export const FLAG_DIVERGED = 2;
export const FLAG_SELECTION = 4;
export const FLAG_SWEEP = 8;

/** Floats at the head of the selection block, and floats per batch-point row after it. */
export const SELECTION_FIELDS = 8;
export const SAMPLE_FIELDS = 6;

/** Selection kind codes (first float of the selection block). */
const SELECTION_KINDS = /** @type {const} */ ({ 1: 'neuron', 2: 'edge' });

// ---------------------------------------------------------------------------- types

/** @typedef {null | 'forward' | 'loss' | 'backward' | 'update'} Phase */

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
 * @property {Float32Array} updateWeights  the last applied change ΔW, nOut × nIn
 * @property {Float32Array} updateBias     the last applied change Δb, nOut
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
 * @property {SelectionSample[]} samples  the first S points of the current minibatch
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
 * @property {boolean} diverged
 * @property {boolean} hasSelection
 * @property {{resolution: number, runs: {learningRate: number, trainLoss: number,
 *   testLoss: number, diverged: boolean, map: Float32Array}[]} | null} sweep
 *   a learning-rate sweep's runs (flag 8), else null
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
 */

// ---------------------------------------------------------------------- binary frames

/**
 * Decode one binary training frame.
 *
 * Header fields are read with a little-endian DataView. The float32 arrays are
 * `Float32Array` views on `buffer` (zero copy; every offset is a multiple of 4). A
 * Float32Array uses the platform's byte order, which is little-endian on every platform a
 * browser (or Node) runs on, matching the frame's little-endian floats.
 * Keep `buffer` alive and unmodified as long as the frame is in use.
 *
 * @param {ArrayBuffer} buffer  one whole binary WebSocket message (binaryType 'arraybuffer')
 * @returns {Frame}
 * @throws {Error} when the buffer is not a frame of this protocol version or is truncated
 */
export function decodeFrame(buffer) {
  if (!(buffer instanceof ArrayBuffer)) {
    throw new TypeError('decodeFrame expects an ArrayBuffer (set ws.binaryType = "arraybuffer")');
  }
  if (buffer.byteLength < HEADER_BYTES) {
    throw new Error(`frame too short: ${buffer.byteLength} bytes, the header alone is ${HEADER_BYTES}`);
  }
  const view = new DataView(buffer);
  const magic = String.fromCharCode(
    view.getUint8(0), view.getUint8(1), view.getUint8(2), view.getUint8(3));
  if (magic !== FRAME_MAGIC) {
    throw new Error(`not a training frame: magic ${JSON.stringify(magic)}, expected "${FRAME_MAGIC}"`);
  }
  const version = view.getUint16(4, true);
  if (version !== PROTOCOL_VERSION) {
    throw new Error(`frame protocol version ${version} is not supported (expected ${PROTOCOL_VERSION})`);
  }
  const totalBytes = view.getUint32(60, true);
  if (totalBytes !== buffer.byteLength) {
    throw new Error(`frame length mismatch: header says ${totalBytes} bytes, got ${buffer.byteLength}`);
  }
  const flags = view.getUint16(6, true);
  const phaseCode = view.getUint8(24);
  if (phaseCode >= PHASES.length) {
    throw new Error(`unknown phase code ${phaseCode}`);
  }
  const nLayers = view.getUint8(25);
  const nFeatures = view.getUint8(26);
  const mainResolution = view.getUint16(52, true);
  const thumbResolution = view.getUint16(54, true);
  const sampleCount = view.getUint16(58, true);
  const hasSelection = (flags & FLAG_SELECTION) !== 0;

  // Layer sizes: n_layers + 1 bytes, zero-padded to a multiple of 4.
  const sizeBytes = nLayers + 1;
  const sizesEnd = HEADER_BYTES + Math.ceil(sizeBytes / 4) * 4;
  if (sizesEnd > buffer.byteLength) {
    throw new Error(`frame truncated in the layer sizes (${buffer.byteLength} bytes)`);
  }
  const layerSizes = Array.from(new Uint8Array(buffer, HEADER_BYTES, sizeBytes));
  if (layerSizes[0] !== nFeatures) {
    throw new Error(`corrupt frame: n_features ${nFeatures} but layer sizes start with ${layerSizes[0]}`);
  }

  // Check the whole float body's size before making any view, for a clear error.
  const parameters = layerSizes.slice(1).reduce((sum, n, l) => sum + n * (layerSizes[l] + 1), 0);
  const outputs = layerSizes[nLayers];
  const neuronCount = layerSizes.slice(0, nLayers).reduce((sum, n) => sum + n, 0);
  let floats = 3 * parameters + 2 * nLayers
    + outputs * mainResolution * mainResolution
    + neuronCount * thumbResolution * thumbResolution
    + (hasSelection ? SELECTION_FIELDS + SAMPLE_FIELDS * sampleCount : 0);
  // A sweep block describes its own size: [K, R], 4 numbers per run, K maps R × R.
  const hasSweep = (flags & FLAG_SWEEP) !== 0;
  let sweepRuns = 0;
  let sweepResolution = 0;
  if (hasSweep) {
    const at = sizesEnd + 4 * floats;
    if (at + 8 > buffer.byteLength) throw new Error('corrupt frame: the sweep block is cut off');
    sweepRuns = view.getFloat32(at, true);
    sweepResolution = view.getFloat32(at + 4, true);
    floats += 2 + 4 * sweepRuns + sweepRuns * sweepResolution * sweepResolution;
  }
  const expected = sizesEnd + 4 * floats;
  if (expected !== buffer.byteLength) {
    throw new Error(`corrupt frame: the header describes ${expected} bytes, the frame has ${buffer.byteLength}`);
  }

  let offset = sizesEnd;
  /** @param {number} length @returns {Float32Array} */
  const take = (length) => {
    const array = new Float32Array(buffer, offset, length);
    offset += 4 * length;
    return array;
  };
  /** @returns {{weights: Float32Array, bias: Float32Array}[]} */
  const parameterSet = () => layerSizes.slice(1).map((nOut, l) => ({
    weights: take(nOut * layerSizes[l]),
    bias: take(nOut),
  }));

  const values = parameterSet();
  const grads = parameterSet();
  const updates = parameterSet();
  /** @type {FrameLayer[]} */
  const layers = values.map((value, l) => ({
    weights: value.weights,
    bias: value.bias,
    gradWeights: grads[l].weights,
    gradBias: grads[l].bias,
    updateWeights: updates[l].weights,
    updateBias: updates[l].bias,
    nIn: layerSizes[l],
    nOut: layerSizes[l + 1],
  }));
  const gradientNorms = take(nLayers);
  const updateRatios = take(nLayers);
  const mainArea = mainResolution * mainResolution;
  const outputMaps = Array.from({ length: outputs }, () => take(mainArea));
  const thumbArea = thumbResolution * thumbResolution;
  const neuronMaps = Array.from({ length: neuronCount }, () => take(thumbArea));
  const selection = hasSelection ? decodeSelection(take(SELECTION_FIELDS), sampleCount, take) : null;
  let sweep = null;
  if (hasSweep) {
    take(2);
    const rows = take(4 * sweepRuns);
    const area = sweepResolution * sweepResolution;
    sweep = {
      resolution: sweepResolution,
      runs: Array.from({ length: sweepRuns }, (_, k) => ({
        learningRate: rows[4 * k], trainLoss: rows[4 * k + 1], testLoss: rows[4 * k + 2],
        diverged: rows[4 * k + 3] > 0.5, map: take(area),
      })),
    };
  }

  return {
    sequence: view.getUint32(8, true),
    step: view.getUint32(12, true),
    epoch: view.getUint32(16, true),
    epochProgress: view.getFloat32(20, true),
    phase: PHASES[phaseCode],
    running: (flags & FLAG_RUNNING) !== 0,
    diverged: (flags & FLAG_DIVERGED) !== 0,
    hasSelection,
    sweep,
    layerSizes,
    batchLoss: view.getFloat32(28, true),
    trainLoss: view.getFloat32(32, true),
    testLoss: view.getFloat32(36, true),
    trainAccuracy: view.getFloat32(40, true),
    testAccuracy: view.getFloat32(44, true),
    learningRate: view.getFloat32(48, true),
    batchSize: view.getUint16(56, true),
    mainResolution,
    thumbResolution,
    layers,
    gradientNorms,
    updateRatios,
    outputMaps,
    neuronMaps,
    selection,
  };
}

/**
 * @param {Float32Array} head  [kind, layer, source, neuron, weight, gradient, update, S]
 * @param {number} sampleCount  S from the header
 * @param {(length: number) => Float32Array} take
 * @returns {FrameSelection}
 */
function decodeSelection(head, sampleCount, take) {
  const kind = SELECTION_KINDS[/** @type {1 | 2} */ (head[0])];
  if (kind === undefined) {
    throw new Error(`corrupt frame: unknown selection kind ${head[0]}`);
  }
  if (head[7] !== sampleCount) {
    throw new Error(`corrupt frame: selection has ${head[7]} samples, header says ${sampleCount}`);
  }
  const rows = take(SAMPLE_FIELDS * sampleCount);
  /** @type {SelectionSample[]} */
  const samples = [];
  for (let s = 0; s < sampleCount; s += 1) {
    const r = s * SAMPLE_FIELDS;
    samples.push({
      aSource: rows[r], z: rows[r + 1], a: rows[r + 2],
      gradA: rows[r + 3], dadz: rows[r + 4], delta: rows[r + 5],
    });
  }
  return {
    kind,
    layer: head[1],
    source: kind === 'neuron' ? null : head[2],
    neuron: head[3],
    weight: head[4],
    gradient: head[5],
    update: head[6],
    samples,
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

// ----------------------------------------------------------------- client commands

/** @typedef {string | number} RequestId  a string of ≤ 64 chars or an integer 0 … 2^53 */
/** @typedef {'presenter' | 'viewer'} Role */

/**
 * Hyperparameter changes for {@link setHyper}; wire (snake_case) or camelCase names.
 * @typedef {object} HyperChanges
 * @property {number} [learning_rate]  @property {number} [learningRate]
 * @property {number} [regularization_rate]  @property {number} [regularizationRate]
 * @property {number} [batch_size]  @property {number} [batchSize]
 * @property {'sgd' | 'momentum' | 'adam'} [optimizer]
 * @property {'none' | 'l1' | 'l2'} [regularization]
 * @property {number} [momentum]
 * @property {number} [beta1]
 * @property {number} [beta2]
 * @property {number} [epsilon]
 * @property {number} [speed]  steps per frame
 */

/** camelCase aliases accepted by setHyper → wire names. */
const HYPER_ALIASES = /** @type {Record<string, string>} */ ({
  learningRate: 'learning_rate',
  regularizationRate: 'regularization_rate',
  batchSize: 'batch_size',
});

/**
 * @typedef {object} SelectTarget
 * @property {number} layer   0 = first hidden layer; the output layer is the last (0 … 8)
 * @property {number} neuron  0 … 15
 * @property {number | null} [source]  edge source in the layer below (0 … 15); null/absent: the neuron
 */

/**
 * Serialize a command. JSON.stringify would silently turn NaN or Infinity into null, so a
 * non-finite number is an error here.
 * @param {string} type
 * @param {Record<string, unknown>} fields
 * @param {RequestId | null | undefined} id
 * @returns {string}
 */
function command(type, fields, id) {
  /** @type {Record<string, unknown>} */
  const message = { v: PROTOCOL_VERSION, type };
  if (id !== undefined && id !== null) message.id = id;
  Object.assign(message, fields);
  return JSON.stringify(message, (key, value) => {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new RangeError(`${type}: ${key || 'value'} must be a finite number, got ${value}`);
    }
    return value;
  });
}

/**
 * First message on a socket. The presenter sends the token it got when creating the
 * session (never put it in the URL); viewers send none.
 * @param {Role} role @param {string | null} [token] @param {RequestId} [id]
 */
export function hello(role, token = null, id = undefined) {
  return command('hello', token === null || token === undefined ? { role } : { role, token }, id);
}

/** Train continuously. @param {RequestId} [id] */
export function play(id = undefined) { return command('play', {}, id); }

/** Stop after the current frame. @param {RequestId} [id] */
export function pause(id = undefined) { return command('pause', {}, id); }

/** Run `n` whole steps (1 … 10000; pauses). @param {number} [n] @param {RequestId} [id] */
export function step(n = 1, id = undefined) { return command('step', { n }, id); }

/** Run the next phase only (pauses). @param {RequestId} [id] */
export function phaseStep(id = undefined) { return command('phase_step', {}, id); }

/** Rebuild the network from its seed; clears history. @param {RequestId} [id] */
export function reset(id = undefined) { return command('reset', {}, id); }

/**
 * Change hyperparameters live (from the next step). Undefined values are left out.
 * @param {HyperChanges} changes @param {RequestId} [id]
 */
export function setHyper(changes, id = undefined) {
  /** @type {Record<string, unknown>} */
  const fields = {};
  for (const [key, value] of Object.entries(changes)) {
    if (value !== undefined) fields[HYPER_ALIASES[key] ?? key] = value;
  }
  return command('set_hyper', fields, id);
}

/**
 * Rebuild with a new config: any of the sections `network`, `data`, `hyper`, `seed` with
 * the trainer's (snake_case) field names; missing sections keep their values.
 * @param {Record<string, unknown>} config @param {RequestId} [id]
 */
export function configure(config, id = undefined) { return command('configure', { config }, id); }

/**
 * Inspect a neuron (`source` null: its bias) or an edge; `null` clears the selection.
 * @param {SelectTarget | null} target @param {RequestId} [id]
 */
export function select(target, id = undefined) {
  const wire = target === null || target === undefined ? null : {
    layer: target.layer, neuron: target.neuron, source: target.source ?? null,
  };
  return command('select', { target: wire }, id);
}

/**
 * Train one run per learning rate side by side (2–8 rates), or one run again (null).
 * @param {number[] | null} learningRates
 * @param {number} [id]
 */
export function sweep(learningRates, id = undefined) {
  return command('sweep', { learning_rates: learningRates }, id);
}

/**
 * Show run ``run`` of the sweep in the main view.
 * @param {number} run
 * @param {number} [id]
 */
export function promote(run, id = undefined) { return command('promote', { run }, id); }

/** @param {number} [id] Start presenting this session to a class (a join code). */
export function present(id = undefined) { return command('present', {}, id); }

/** @param {number} [id] End the class: viewers are told and let go. */
export function endClass(id = undefined) { return command('end_class', {}, id); }

/**
 * What the viewers' pages show (mirrored): projector mode, the panel in focus.
 * @param {{projector?: boolean, panel?: string}} view
 * @param {number} [id]
 */
export function view(view, id = undefined) { return command('view', { ...view }, id); }

// ---------------------------------------------------------- server JSON messages

/**
 * A JSON message from the server. Every message has a `type`. Outgoing JSON never contains
 * NaN or Infinity: such numbers arrive as null and their paths (`"metrics.loss"`,
 * `"points[3]"`) are listed in `non_finite`.
 *
 * @typedef {object} ServerMessageBase
 * @property {'welcome' | 'ack' | 'error' | 'state' | 'config' | 'event' | 'history' | 'viewers'} type
 * @property {string[]} [non_finite]
 */
/**
 * @typedef {ServerMessageBase & {type: 'ack', id: RequestId | null, command: string, step: number}} AckMessage
 * @typedef {ServerMessageBase & {type: 'error', id: RequestId | null, field: string | null, message: string}} ErrorMessage
 * @typedef {ServerMessageBase & Record<string, unknown>} ServerMessage
 */

/**
 * Parse one server JSON (text) message.
 * @param {string} text
 * @returns {ServerMessage}
 * @throws {Error} when the text is not JSON or not an object with a string `type`
 */
export function parseServerMessage(text) {
  const message = JSON.parse(text);
  if (message === null || typeof message !== 'object' || Array.isArray(message)
      || typeof message.type !== 'string') {
    throw new Error(`not a server message (an object with a "type"): ${text.slice(0, 80)}`);
  }
  return message;
}
