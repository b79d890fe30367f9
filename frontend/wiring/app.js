// @ts-check
/**
 * The one context every wiring module receives: the store, the connection, the views, and
 * the few actions they all use (send a command, rebuild, show a notice). main.js builds it
 * once; nothing here draws or computes the model.
 */

import { clear, notify, refusalText } from '../notices.js';
import * as protocol from '../protocol.js';

/** @typedef {ReturnType<typeof import('../render/charts.js').createCharts>} Charts */

/**
 * @typedef {object} App
 * @property {import('../state.js').Store} store  the one store every view reads
 * @property {(testid: string) => HTMLElement} $  the element with this data-testid
 * @property {import('../transport.js').Connection} connection
 * @property {import('../render/network.js').NetworkView} network
 * @property {import('../render/output_plot.js').OutputPlot} outputPlot
 * @property {Charts} charts
 * @property {(build: (id: number) => string) => Promise<any>} command
 *   send a command; a refusal becomes a notice naming the field (topic 'command')
 * @property {(changes: any) => Promise<any>} configure  rebuild with a partial config
 * @property {(notice: import('../notices.js').Notice) => void} notify
 *   a notice in the page's notice area (notices.js): it stays until dismissed or replaced
 * @property {(topic: string) => void} clearNotice  the problem of this topic is solved
 * @property {(status: string) => void} setStatus  the connection's status changed
 * @property {() => boolean} presenting  the presenter controls the run; a viewer only follows
 * @property {any} linkConfig  the setup a shared link asked for (sent with hello), or null
 */

/** @param {string} testid @returns {HTMLElement} */
export function byTestId(testid) {
  return /** @type {HTMLElement} */ (document.querySelector(`[data-testid="${testid}"]`));
}

/** The status line's text for each connection status. */
const STATUS_LABELS = /** @type {Record<string, string>} */ ({
  connecting: 'connecting…', open: 'live', reconnecting: 'reconnecting… (server unreachable)',
  'class-ended': 'class ended', 'spotlight-ended': 'no longer shown', 'no-class': 'no such class', waiting: 'waiting to look the code up',
});

/**
 * @param {{store: App['store'], $: App['$'], connection: App['connection'],
 *   network: App['network'], outputPlot: App['outputPlot'], charts: Charts}} parts
 * @returns {App}
 */
export function createApp(parts) {
  const { store, $, connection } = parts;
  const showConnection = () => {
    const element = $('connection');
    element.textContent = STATUS_LABELS[store.connection] ?? store.connection;
    element.classList.toggle('bad', store.connection !== 'open');
  };
  /** @param {(id: number) => string} build */
  const command = async (build) => {
    const reply = await connection.send(build);
    if (reply.type === 'error') notify({ topic: 'command', level: 'error', text: `Refused: ${refusalText(reply)}` });
    return reply;
  };
  return {
    ...parts,
    command,
    configure: (changes) => command((id) => protocol.configure(changes, id)),
    notify,
    clearNotice: clear,
    setStatus: (status) => { store.connection = status; showConnection(); store.dirty = true; },
    presenting: () => store.role === 'presenter',
    linkConfig: null,
  };
}
