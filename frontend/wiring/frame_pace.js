// @ts-check
/**
 * The presenter's page asks the server for the frames it can draw (frame_pace.js), judged
 * every INTERVAL while it is connected and visible, from the WARM_UP-th interval with frames
 * on (the first ones hold the start's extra work: the first pictures, the code warming up).
 * A new connection starts without a pace (the server's default); a new network shape lifts
 * the pace (it costs another time to draw) and is judged afresh. Viewers send only answers
 * (docs/protocol.md), so they keep every frame their link carries.
 */

import { QUIET, UNPACED, nextPace } from '../frame_pace.js';
import * as protocol from '../protocol.js';

/** How often the pace is judged (ms). */
const INTERVAL = 500;
/** Intervals with frames before the first judgement (the start's extra work passes). */
const WARM_UP = 2;

/** @param {import('./app.js').App} app */
export function wireFramePace(app) {
  const { store, connection } = app;
  /** @type {import('../frame_pace.js').Pace} */
  let pace = UNPACED;
  /** @type {WebSocket | null} the socket the pace was asked on */
  let socket = null;
  let received = store.framesReceived;
  let rendered = store.framesRendered;
  let busy = 0;  // intervals in a row with frames coming
  let shape = '';  // the network's layer sizes the pace was judged on
  setInterval(() => {
    const [gotNow, drewNow] = [store.framesReceived, store.framesRendered];
    const [got, drew] = [gotNow - received, drewNow - rendered];
    [received, rendered] = [gotNow, drewNow];
    const sizes = String(store.frame?.layerSizes ?? '');
    if (connection.socket !== socket || sizes !== shape) {
      // a new connection starts unpaced; on the same one, a new shape lifts the pace
      const lift = connection.socket === socket && pace.pace !== null && store.connection === 'open';
      if (lift) connection.send((id) => protocol.frameRate(null, id));
      [socket, shape, pace, busy] = [connection.socket, sizes, UNPACED, 0];
    }
    busy = got >= (QUIET * INTERVAL) / 1000 ? busy + 1 : 0;
    if (store.role !== 'presenter' || store.connection !== 'open' || document.hidden || busy < WARM_UP) return;
    const most = store.options?.limits.max_frames_per_second ?? 60;
    const next = nextPace(pace, got, drew, INTERVAL / 1000, most);
    const changed = next.pace !== pace.pace;
    pace = next;
    if (changed) connection.send((id) => protocol.frameRate(next.pace, id));
  }, INTERVAL);
}
