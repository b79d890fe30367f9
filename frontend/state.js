// @ts-check
/**
 * The one store every view reads, and the URL hash (projector flag, session link).
 * Setters only mark the store dirty; wiring/render_loop.js draws once per animation frame.
 */

/** @typedef {import('./protocol.js').Frame} Frame */
/** @typedef {{step: number, values: number[]}} LayerHistoryEntry  one value per layer at a step */

/**
 * @typedef {{
 *   options: any, config: any, data: any, serverState: any,
 *   frame: Frame | null, history: number[][],
 *   gradHistory: LayerHistoryEntry[], updateRatioHistory: LayerHistoryEntry[],
 *   lrChanges: number[][], role: string, connection: string, divergence: any,
 *   ui: {projector: boolean, logScale: boolean, showTest: boolean, discretize: boolean,
 *     pace: number, reducedMotion: boolean},
 *   animation: Animation,
 *   framesReceived: number, framesRendered: number, dirty: boolean,
 *   viewers?: number, classMessage?: string, lastLearningRateAck?: any, classCardOpen?: boolean,
 *   sweepHistory?: {step: number, losses: number[]}[],
 *   referenceLoss?: ReferenceLoss | null,
 *   overshotHistory: number[][], trainingPace: TrainingPace,
 *   achievedRate?: import('./types/messages.gen.js').RateMessage | null,
 * }} Store
 */

/**
 * The previous run's training loss, kept on the page when the loss is switched (the server
 * clears its history on configure): `rows` are [step, train loss], `label` names its loss.
 * @typedef {{label: string, rows: number[][]}} ReferenceLoss
 */

/**
 * The phase animation of a paused run: which phase, when it (re)started, how long it runs;
 * `settled` once its last picture has been drawn (the picture then stays, undrawn, until
 * something changes). `replays` counts restarts by replay or pace.
 * @typedef {{phase: string | null, started: number, seconds: number, replays: number,
 *   settled: boolean, focus: number}} Animation
 */

/**
 * The live training rate from the frames received: epochs per second, smoothed; `time`
 * (ms) and `progress` (epochs) of the last sample, `rate` NaN until known.
 * @typedef {{time: number, progress: number, rate: number}} TrainingPace
 */

const HISTORY_LIMIT = 4000;
/** Rows of [step, overshot 0/1] kept for the loss chart's overshoot strip. */
const OVERSHOT_LIMIT = 2000;
/** The pace control's choices: seconds one phase's animation takes. */
export const PACES = [0.5, 1, 1.5, 2, 3, 4, 6];
export const DEFAULT_PACE = 1.5;

/** @returns {Store} */
export function createStore() {
  return {
    options: null, config: null, data: null, serverState: null, frame: null,
    history: [], gradHistory: [], updateRatioHistory: [], lrChanges: [], role: 'presenter', connection: 'connecting',
    divergence: null,
    ui: { projector: hashFlag('projector'), logScale: false, showTest: false, discretize: false,
      pace: DEFAULT_PACE, reducedMotion: prefersReducedMotion() },
    animation: { phase: null, started: 0, seconds: DEFAULT_PACE, replays: 0, settled: true, focus: 0 },
    framesReceived: 0, framesRendered: 0, dirty: true,
    overshotHistory: [], trainingPace: { time: NaN, progress: NaN, rate: NaN },
  };
}

/**
 * Take a decoded frame: keep it, extend the histories, start the phase animation.
 * @param {Store} store
 * @param {Frame} frame
 */
export function acceptFrame(store, frame) {
  const previous = store.frame;
  store.frame = frame;
  store.framesReceived += 1;
  const last = store.history[store.history.length - 1];
  if (!last || last[0] !== frame.step) {
    store.history.push([frame.step, frame.epochProgress, frame.trainLoss, frame.testLoss,
      frame.trainAccuracy, frame.testAccuracy, frame.batchLoss]);
    if (frame.phase === 'update' || frame.phase === null) {
      // copies: the frame's arrays are views on its whole buffer
      store.gradHistory.push({ step: frame.step, values: Array.from(frame.gradientNorms) });
      store.updateRatioHistory.push({ step: frame.step, values: Array.from(frame.updateRatios) });
    }
    if (frame.landscape && frame.step > 0) {
      store.overshotHistory = store.overshotHistory ?? [];
      store.overshotHistory.push([frame.step, frame.overshot ? 1 : 0]);
      if (store.overshotHistory.length > OVERSHOT_LIMIT) store.overshotHistory.splice(0, OVERSHOT_LIMIT / 2);
    }
    trim(store.history);
    trim(store.gradHistory);
    trim(store.updateRatioHistory);
    if (frame.sweep) {
      store.sweepHistory = store.sweepHistory ?? [];
      store.sweepHistory.push({ step: frame.step, losses: frame.sweep.runs.map((r) => r.trainLoss) });
      trim(store.sweepHistory);
    }
  }
  const phase = frame.phase;
  const newPhase = !previous || previous.phase !== frame.phase || previous.step !== frame.step;
  // a new focus point flows through the forward pass again
  const newFocus = phase === 'forward' && frame.focus !== store.animation.focus;
  if (!frame.running && phase && (newPhase || newFocus)) {
    store.animation = { phase, started: performance.now(), seconds: phaseSeconds(store), replays: 0,
      settled: false, focus: frame.focus };
  }
  store.animation.focus = frame.focus;
  store.trainingPace = store.trainingPace ?? { time: NaN, progress: NaN, rate: NaN };
  measurePace(store.trainingPace, frame, Date.now());
  store.dirty = true;
}

/**
 * Update the epochs-per-second estimate from a frame received at `now` (ms): samples at
 * least 250 ms apart (wall-clock time), smoothed (a paused run's rate is 0; a reset starts over).
 * @param {TrainingPace} pace @param {{epochProgress: number, running: boolean}} frame @param {number} now
 */
export function measurePace(pace, frame, now) {
  if (!frame.running) { Object.assign(pace, { time: now, progress: frame.epochProgress, rate: 0 }); return; }
  if (!Number.isFinite(pace.time) || frame.epochProgress < pace.progress) {
    Object.assign(pace, { time: now, progress: frame.epochProgress });
    return;
  }
  const seconds = (now - pace.time) / 1000;
  if (seconds < 0.25) return;
  const rate = (frame.epochProgress - pace.progress) / seconds;
  pace.rate = Number.isFinite(pace.rate) && pace.rate > 0 ? 0.6 * pace.rate + 0.4 * rate : rate;
  Object.assign(pace, { time: now, progress: frame.epochProgress });
}

/**
 * Whether the user asked for less motion (the `prefers-reduced-motion: reduce` media query);
 * false where there is no window (node's test runner).
 */
export function prefersReducedMotion() {
  return typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
}

/**
 * How long a phase's animation runs, in seconds: the chosen pace, or 0 (its last picture at
 * once, nothing moving) with reduced motion.
 * @param {Store} store
 */
export function phaseSeconds(store) {
  return store.ui.reducedMotion ? 0 : store.ui.pace;
}

/**
 * How far the phase animation is: 0 at its start, 1 from its end on (at once when it lasts 0 s).
 * @param {Animation} animation @param {number} now  performance.now()
 */
export function animationProgress(animation, now) {
  if (!animation.phase) return 1;
  if (!(animation.seconds > 0)) return 1;
  // to the nanosecond: (start + 750) − start is 750 exactly, not 749.9999999999
  const elapsed = Math.round((now - animation.started) * 1e6) / 1e6;
  return Math.max(0, Math.min(1, elapsed / (1000 * animation.seconds)));
}

/** Run the current phase's animation again from its start. @param {Store} store @param {number} now */
export function replayAnimation(store, now) {
  const animation = store.animation;
  if (!animation.phase) return;
  Object.assign(animation, { started: now, seconds: phaseSeconds(store), replays: animation.replays + 1, settled: false });
  store.dirty = true;
}

/** Set the pace (seconds per phase) and replay the current phase at it. @param {Store} store @param {number} seconds @param {number} now */
export function setPace(store, seconds, now) {
  store.ui.pace = seconds;
  replayAnimation(store, now);
}

/**
 * Whether the network must be drawn again for the animation (every frame until its last
 * picture has been drawn once); marks it settled after that last picture.
 * @param {Store} store @param {number} now
 */
export function animationPending(store, now) {
  const animation = store.animation;
  if (animation.settled) return false;
  if (animationProgress(animation, now) >= 1) animation.settled = true;
  return true;
}

/** @param {any[]} rows */
function trim(rows) {
  if (rows.length > HISTORY_LIMIT) {
    const kept = rows.filter((_, i) => i % 2 === 0);
    rows.length = 0;
    rows.push(...kept);
  }
}

/**
 * Replace the history with the server's (welcome) rows; nulls become NaN.
 * @param {Store} store
 * @param {{rows: (number | null)[][]}} history
 */
export function loadHistory(store, history) {
  store.history = (history?.rows ?? []).map((row) => row.map((v) => (v === null ? NaN : v)));
  store.gradHistory = [];
  store.updateRatioHistory = [];
  store.sweepHistory = [];
  store.overshotHistory = [];
  store.dirty = true;
}

/**
 * A value from the URL hash (`#a=1&b=x`), or null.
 * @param {string} name
 */
export function hashParam(name) {
  return new URLSearchParams(location.hash.slice(1)).get(name);
}

/**
 * Set (or, with null, remove) a value in the URL hash without reloading.
 * @param {string} name
 * @param {string | null} value
 */
export function setHashParam(name, value) {
  const params = new URLSearchParams(location.hash.slice(1));
  if (value === null) params.delete(name); else params.set(name, value);
  const text = params.toString();
  history.replaceState(null, '', `${location.pathname}${location.search}${text ? `#${text}` : ''}`);
}

/** @param {string} name  a flag is on as `#name=1` (or a bare `#name`) */
export function hashFlag(name) {
  const value = hashParam(name);
  return value === '1' || value === '';
}

/** @param {string} name @param {boolean} on */
export function setHashFlag(name, on) {
  setHashParam(name, on ? '1' : null);
}
