// @ts-check
/** The server's JSON messages into the store (frames go to state.js's acceptFrame). */

import { hashForConfig } from '../links.js';
import { refusalText } from '../notices.js';
import { loadHistory } from '../state.js';
import { disableControls } from './classroom.js';
import { setProjector } from './projector.js';
import { noteQuestionMessage } from './questions.js';

/** @typedef {import('./app.js').App} App */

/** @param {App} app @param {any} message  a parsed server message */
export function receive(app, message) {
  const { store } = app;
  noteQuestionMessage(message);
  switch (message.type) {
    case 'welcome':
      welcome(app, message);
      break;
    case 'config':
      store.referenceLoss = referenceAfterConfigure(store, message.config);
      store.config = message.config;
      store.data = message.data;
      loadHistory(store, { rows: [] });
      keepSetupInLink(app);
      break;
    case 'data':  // a point edit: the run and its history go on
      store.config = message.config;
      store.data = message.data;
      break;
    case 'rate':
      store.achievedRate = message;
      break;
    case 'state':
      store.serverState = message;
      if (store.config) keepSetupInLink(app);
      store.lrChanges = message.learning_rate_changes;
      store.divergence = message.status === 'diverged' ? message.divergence : null;
      if (store.role === 'viewer' && message.view.projector !== store.ui.projector) {
        setProjector(app, message.view.projector);
      }
      break;
    case 'event':
      if (message.event === 'diverged') store.divergence = message;
      if (message.event === 'class_ended') store.classMessage = message.message;
      break;
    case 'viewers':
      store.viewers = message.count;
      break;
    case 'error':  // a reply to a command is shown by app.command; this one came by itself
      if (message.id === null || message.id === undefined) {
        app.notify({ topic: 'server', level: 'error', text: `The server says: ${refusalText(message)}` });
      }
      break;
    default:
  }
  store.dirty = true;
}

/**
 * The reference curve after a rebuild: switching the loss (same problem) keeps the run so
 * far as "previous: <its loss>"; a rebuild with the same loss keeps the reference there
 * was; another problem drops it. Only the rows of the run itself are kept (ascending steps:
 * a frame of the new run that came before this message is left out).
 * @param {{config: any, history: number[][], options: any, referenceLoss?: import('../state.js').ReferenceLoss | null}} store
 * @param {any} next  the new config
 * @returns {import('../state.js').ReferenceLoss | null}
 */
export function referenceAfterConfigure(store, next) {
  const before = store.config?.network;
  const after = next?.network;
  if (!before || !after || before.problem !== after.problem) return null;
  if (before.loss === after.loss) return store.referenceLoss ?? null;
  const rows = [];
  for (const row of store.history) {
    if (rows.length > 0 && row[0] <= rows[rows.length - 1][0]) break;
    if (Number.isFinite(row[2])) rows.push([row[0], row[2]]);
  }
  if (rows.length < 2) return store.referenceLoss ?? null;  // no run to compare with yet
  const title = (store.options?.losses ?? []).find((/** @type {any} */ l) => l.name === before.loss)?.title ?? before.loss;
  return { label: `previous: ${title}`, rows };
}

/** The first message on a socket: role, setup, state and history. @param {App} app @param {any} message */
function welcome(app, message) {
  const { store } = app;
  store.role = message.role;
  store.viewers = message.viewers;
  if (message.role === 'viewer') {
    disableControls();
    if (message.state.view.projector !== store.ui.projector) setProjector(app, message.state.view.projector);
  }
  store.referenceLoss = referenceAfterConfigure(store, message.config);  // a reconnect keeps it
  store.config = message.config;
  store.data = message.data;
  store.serverState = message.state;
  store.lrChanges = message.state.learning_rate_changes;
  loadHistory(store, message.history);
  keepSetupInLink(app);
}

/** The presenter's URL always holds the current setup, so copying it shares the setup. @param {App} app */
function keepSetupInLink(app) {
  const { store } = app;
  if (store.role !== 'presenter' || !store.config) return;
  history.replaceState(null, '', location.pathname + location.search
    + hashForConfig({ ...store.config, hyper: store.serverState?.hyper ?? store.config.hyper },
      location.hash));
}
