// @ts-check
/**
 * Says so while the server sends this page frames without their maps (its link lags, so
 * the server leaves the maps out before it leaves frames out): the numbers and the network
 * are current, the maps are the last ones that came. The page simplifies, so it tells.
 * No DOM at import (tests/frontend/link_note.test.mjs).
 *
 * @module wiring/link_note
 */

/** The note shows while one of this many last frames came without its maps (~1 s). */
export const NOTE_FRAMES = 30;

/**
 * A frame handler that shows `note` (hidden = false) while a recent frame came without maps.
 * @param {{hidden: boolean | string}} note  an element
 * @returns {(frame: {mapsSkipped: boolean}) => void}
 */
export function linkNote(note) {
  let sinceSkipped = Infinity;
  return (frame) => {
    sinceSkipped = frame.mapsSkipped ? 0 : sinceSkipped + 1;
    const held = sinceSkipped < NOTE_FRAMES;
    if (Boolean(note.hidden) === held) note.hidden = !held;
  };
}
