// @ts-check
/**
 * A sweep run's verdict over its recent steps rather than its last step alone. Each frame
 * carries each run's last step's verdict on its own batch's landscape (render/landscape.js);
 * one step of a run at a large rate may land near its batch's valley while most overshoot,
 * and a tile that showed the last one would flicker between them from frame to frame. The
 * tally keeps the verdicts of the last RECENT frames (one per step shown) and names the
 * most frequent one (a tie: the latest of them); the tile says how many steps it counted.
 * No DOM: node's test runner imports it (tests/frontend/verdict_tally.test.mjs).
 *
 * @module render/verdict_tally
 */

/** How many frames' verdicts a tile counts. */
export const RECENT = 12;

export class VerdictTally {
  constructor() {
    /** the sweep counted (its rates): another sweep starts afresh */
    this.key = '';
    /** the step of the last frame counted */
    this.step = -1;
    /** @type {number[][]} per run, its recent verdicts (indexes), oldest first */
    this.runs = [];
  }

  /**
   * Count one frame's verdicts (NaN: the run has none this frame), once per step.
   * @param {string} key  the sweep @param {number} step  the frame's step
   * @param {number[]} verdicts  per run
   */
  add(key, step, verdicts) {
    if (key !== this.key || step < this.step) {
      [this.key, this.step, this.runs] = [key, -1, []];
    }
    if (step === this.step) return;
    this.step = step;
    verdicts.forEach((verdict, run) => {
      if (!Number.isFinite(verdict)) return;
      const recent = this.runs[run] ?? (this.runs[run] = []);
      recent.push(verdict);
      if (recent.length > RECENT) recent.shift();
    });
  }

  /**
   * A run's most frequent recent verdict, how many of the counted steps had it, and how many
   * were counted; null before any.
   * @param {number} run @returns {{verdict: number, count: number, counted: number} | null}
   */
  common(run) {
    const recent = this.runs[run] ?? [];
    /** @type {Map<number, number>} */
    const counts = new Map();
    /** @type {{verdict: number, count: number} | null} */
    let best = null;
    for (const verdict of recent) {  // oldest first: a later one wins a tie
      const count = (counts.get(verdict) ?? 0) + 1;
      counts.set(verdict, count);
      if (best === null || count >= best.count) best = { verdict, count };
    }
    return best && { ...best, counted: recent.length };
  }
}
