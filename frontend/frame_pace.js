// @ts-check
/**
 * How many frames a second to ask the server for: what this page can draw. A page that
 * cannot keep up (a big net on a slow computer) would otherwise be sent frames that it only
 * decodes and drops: wasted bandwidth and main-thread time, which make it slower still.
 *
 * Every half second the page compares the frames it received with those it drew (rendered):
 * - since the pace was asked for, it drew fewer than KEEP of them (and more than one frame
 *   fewer): ask for as many a second as it drew, but at least STEP_DOWN of those it received
 *   (it gets them at even intervals, and decodes no more than it draws);
 * - over a second or more at this pace it drew (nearly) all (PROBE), the pace held frames
 *   back (it received about as many as it asked for), and the pace has not come down for
 *   HOLD seconds (twice that after each probe that failed, up to LONGEST_HOLD): ask for
 *   GROWTH more, at least one more; at the server's own rate, no pace at all (null);
 * - else (the run is paused or makes fewer frames than the pace): keep the pace.
 * The steady state is a slow saw-tooth just under what the page can draw. No DOM: node's
 * test runner imports it (tests/frontend/frame_pace.test.mjs).
 *
 * @module frame_pace
 */

/** Below this share of the received frames drawn, the pace comes down to what was drawn. */
export const KEEP = 0.96;
/** The pace comes down to at least this share of the frames received at a time. */
export const STEP_DOWN = 0.5;
/** At or above this share drawn, the pace may go up... */
export const PROBE = 0.99;
/** ... by this share of itself (at least one frame a second)... */
export const GROWTH = 0.15;
/** ... once the figures at this pace span a second... */
const EVIDENCE = 1;
/** ... and the pace has not come down for HOLD seconds: so that probing costs a dropped frame
 * or two every few seconds, not every other second. */
export const HOLD = 4;
/** A pace that went up and comes down within this many seconds was a probe that failed... */
const PROBATION = 3;
/** ... which doubles the hold, up to this many seconds: a page at its limit probes rarely. */
export const LONGEST_HOLD = 16;
/** The figures at one pace are kept for at most this many seconds. */
const MEMORY = 4;
/** The pace never goes below this (frames a second): a page that draws nothing (a hidden
 * tab) still sees the run move when it comes back. */
export const LEAST = 4;
/** With fewer frames a second than this there is nothing to judge. */
export const QUIET = 3;

/** @typedef {{seconds: number, received: number, rendered: number}} Figures */
/**
 * @typedef {{pace: number | null, calm: number, since: Figures, hold: number,
 *   probing: boolean}} Pace  the pace asked for (frames a second, null: every frame), the
 *   seconds since it last came down, the figures since it was asked for, how long it holds
 *   after coming down, and whether it last went up
 */

/** @type {Figures} */
const NONE = Object.freeze({ seconds: 0, received: 0, rendered: 0 });
/** Where a connection starts: no pace, free to go up once it has come down. @type {Pace} */
export const UNPACED = Object.freeze({ pace: null, calm: HOLD, since: NONE, hold: HOLD,
  probing: false });

/**
 * The next pace, given the frames received and drawn in the last `seconds`. It judges the
 * figures since the pace was asked for (at most MEMORY seconds of them): a frame received at
 * an interval's end is drawn in the next one, so one frame fewer drawn than received is no
 * loss.
 * @param {Pace} now
 * @param {number} received @param {number} rendered @param {number} seconds
 * @param {number} most  the server's frame rate (frames a second)
 * @returns {Pace}
 */
export function nextPace(now, received, rendered, seconds, most) {
  if (received < QUIET * seconds) return now;
  const { pace, hold, probing } = now;
  const old = now.since.seconds + seconds > MEMORY ? NONE : now.since;
  const since = { seconds: old.seconds + seconds, received: old.received + received,
    rendered: old.rendered + rendered };
  if (since.rendered < KEEP * since.received - 1) {
    // at most by STEP_DOWN at a time: the figures of a bad moment (the start, a tab switch)
    // would take the pace too far down
    const drawn = Math.max(since.rendered, STEP_DOWN * since.received) / since.seconds;
    return { pace: Math.max(LEAST, Math.floor(drawn)), calm: 0, since: NONE,
      hold: probing ? Math.min(LONGEST_HOLD, 2 * hold) : HOLD, probing: false };
  }
  const calm = now.calm + seconds;
  // a pace that held frames back (about as many came as it let through) may go up
  if (pace === null || since.received < 0.9 * pace * since.seconds
      || since.rendered < PROBE * since.received - 1 || since.seconds < EVIDENCE || calm < hold) {
    return { ...now, calm, since, probing: probing && since.seconds < PROBATION };
  }
  const next = pace + Math.max(1, Math.round(GROWTH * pace));
  return { pace: next >= most ? null : next, calm, since: NONE, hold, probing: true };
}
