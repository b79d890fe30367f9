// @ts-check
/**
 * The wire protocol, client side: the ONLY frontend module that knows message shapes.
 *
 * - Client → server: JSON commands built by the functions below (`hello`, `play`, …).
 * - Server → client JSON: `parseServerMessage`.
 * - Server → client binary training frames: `decodeFrame`, in frame_decoder.js, re-exported
 *   here with its layout constants, `Frame` types and accessors (`weightAt`, `mapAt`, …).
 *
 * @module protocol
 */

import { PROTOCOL_VERSION } from './frame_decoder.js';

export * from './frame_decoder.js';

// ----------------------------------------------------------------- client commands

/** @typedef {import('./types/messages.gen.js').ClientCommand} ClientCommand */
/** @typedef {NonNullable<import('./types/messages.gen.js').Hello['id']>} RequestId  a string of ≤ 64 chars or an integer 0 … 2^53 */
/** @typedef {import('./types/messages.gen.js').Hello['role']} Role */

/**
 * Hyperparameter changes for {@link setHyper}: the set_hyper command's fields (generated
 * from the server's model), or the camelCase aliases below.
 * @typedef {Omit<import('./types/messages.gen.js').SetHyper, 'v' | 'id' | 'type'>
 *   & {learningRate?: number, regularizationRate?: number, batchSize?: number}} HyperChanges
 */

/** camelCase aliases accepted by setHyper → wire names. */
const HYPER_ALIASES = /** @type {Record<string, string>} */ ({
  learningRate: 'learning_rate',
  regularizationRate: 'regularization_rate',
  batchSize: 'batch_size',
});

/** @typedef {import('./types/messages.gen.js').Selection} SelectTarget  an edge or (source null) a neuron */

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
 * session (never put it in the URL); viewers send none. `deltas`: this client reads `delta`
 * frames (it keeps the last frame's body to add them to).
 * @param {Role} role @param {string | null} [token] @param {RequestId} [id] @param {boolean} [deltas]
 */
export function hello(role, token = null, id = undefined, deltas = false) {
  const fields = token === null || token === undefined ? { role } : { role, token };
  return command('hello', deltas ? { ...fields, deltas } : fields, id);
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
 * Follow point `index` of the current minibatch (an index into the frame's listed batch
 * points, 0 = the first) in the forward pass's wave; kept across steps.
 * @param {number} index @param {RequestId} [id]
 */
export function focus(index, id = undefined) { return command('focus', { index }, id); }

/**
 * Type in the weight of an edge (or, `source` null, a neuron's bias) of the shown run,
 * between two steps; it trains from the next step on (the ack's `step`). `value` must lie
 * within the catalogue's `limits.parameter`; mid-step the server refuses it.
 * @param {SelectTarget} target @param {number} value @param {RequestId} [id]
 */
export function setParameter(target, value, id = undefined) {
  const wire = { layer: target.layer, neuron: target.neuron, source: target.source ?? null };
  return command('set_parameter', { target: wire, value }, id);
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

/**
 * Edit the data while the run goes on: add training points [x1, x2, label] and erase the
 * points nearest to positions [x1, x2]; the weights and the step counter are kept.
 * @param {{add?: number[][], erase?: number[][]}} edit @param {RequestId} [id]
 */
export function editPoints({ add = [], erase = [] }, id = undefined) {
  return command('edit_points', { add, erase }, id);
}

/**
 * This socket's pace: at most `framesPerSecond` running frames a second (null: every frame).
 * @param {number | null} framesPerSecond  1 … 240 @param {RequestId} [id]
 */
export function frameRate(framesPerSecond, id = undefined) {
  return command('frame_rate', { frames_per_second: framesPerSecond }, id);
}

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

/**
 * Ask the class (pauses the run): `update_lowers_loss`, `weight_direction` (the selected
 * parameter) or `sweep_winner` after `steps` more steps (1 … 10000; default 50).
 * @param {import('./types/messages.gen.js').OpenQuestion['kind']} kind
 * @param {number | null} [steps] @param {RequestId} [id]
 */
export function openQuestion(kind, steps = null, id = undefined) {
  return command('open_question', steps === null || steps === undefined ? { kind } : { kind, steps }, id);
}

/** Close the answers, run the step and show the tally beside the truth. @param {RequestId} [id] */
export function revealQuestion(id = undefined) { return command('reveal_question', {}, id); }

/** Cancel the open question or put the revealed one away. @param {RequestId} [id] */
export function closeQuestion(id = undefined) { return command('close_question', {}, id); }

/**
 * A viewer's answer (changeable until the reveal): an option id of question `questionId`.
 * @param {number} questionId @param {string} option @param {RequestId} [id]
 */
export function answer(questionId, option, id = undefined) {
  return command('answer', { question_id: questionId, option }, id);
}

/**
 * On a fork of a class, its owner: may the class's presenter list and show it (read-only)?
 * @param {boolean} listed @param {RequestId} [id]
 */
export function setListing(listed, id = undefined) { return command('set_listing', { listed }, id); }

// ---------------------------------------------------------- server JSON messages

/**
 * A JSON message from the server (generated from the server's models). Every message has a
 * `type`. Outgoing JSON never contains NaN or Infinity: such numbers arrive as null and
 * their paths (`"metrics.loss"`, `"points[3]"`) are listed in `non_finite`.
 * @typedef {import('./types/messages.gen.js').ServerMessage} ServerMessage
 * @typedef {import('./types/messages.gen.js').AckMessage} AckMessage
 * @typedef {import('./types/messages.gen.js').ErrorMessage} ErrorMessage
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
