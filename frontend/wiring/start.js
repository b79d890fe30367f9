// @ts-check
/**
 * Where a link starts (links.js START_KEYS, docs/lessons.md): read with the link's setup,
 * then, once the new session's first frame is in, brought about with the commands a
 * teacher's clicks would send — select a weight, run step 0 phase by phase up to a phase,
 * open a tab, play — and the page's own controls (pace, the sweep's rates, the controls kept
 * in projector mode). A reload (the session the link named, still there) keeps its state;
 * a viewer only follows. Why a value was not applied becomes a notice.
 */

import { LESSONS } from '../lessons.js';
import { startFromHash } from '../links.js';
import * as protocol from '../protocol.js';
import { hashParam } from '../state.js';

/** @typedef {import('./app.js').App} App */

/** The link's start state and why any of it was refused (readStart). */
let linkStart = /** @type {ReturnType<typeof startFromHash>} */ ({ start: {}, notices: [] });
/** The session the link named when the page opened: a reload keeps it, and its state. */
let linkedSession = /** @type {string | null} */ (null);

/** Read the start keys of the page's link (with its setup, before connecting). @param {App} app */
export function readStart(app) {
  linkStart = startFromHash(location.hash, app.store.options, LESSONS.map((lesson) => lesson.id));
  linkedSession = hashParam('session');
  if (linkStart.notices.length) startNotice(app, linkStart.notices.join('; '));
}

/** The start state the link asks for. */
export function linkedStart() { return linkStart.start; }

/**
 * @param {App} app @param {string} text  why part of the link's start was not done
 * @param {string} [topic]  one notice per topic: the link's values, the network's, the run
 */
function startNotice(app, text, topic = 'link-start') {
  app.notify({ topic, level: 'warning', text: `This link’s start was partly ignored: ${text}.` });
}

/**
 * Keep the controls the link names (`#show=…`) in projector mode, which hides secondary
 * controls: they and the bars holding them stop being secondary.
 */
export function showLinkedControls() {
  for (const name of linkStart.start.show ?? []) {
    for (const element of document.querySelectorAll(`[data-testid="${name}"]`)) {
      for (let node = /** @type {Element | null} */ (element); node && node !== document.body; node = node.parentElement) {
        if (node.classList.contains('secondary')) node.classList.replace('secondary', 'shown-by-link');
      }
    }
  }
}

/**
 * Bring a new session to where the link starts (see the module's comment); the page in
 * projector mode tells the server, so the class follows it. Sets `body[data-start]` to
 * `reached` (or `kept` on a reload) when done.
 * @param {App} app
 */
export async function startAsLinked(app) {
  const { store, $, connection } = app;
  const start = linkStart.start;
  if (start.pace !== undefined) changeControl(/** @type {HTMLSelectElement} */ ($('pace')), String(start.pace));
  if (start.sweep) {
    const rates = /** @type {HTMLInputElement} */ ($('sweep-rates'));
    rates.value = start.sweep.join(', ');
    rates.dataset.edited = '1';
  }
  if (connection.role !== 'presenter') return;
  try {
    await until(() => store.frame !== null && store.serverState !== null && connection.session !== null);
    if (store.ui.projector !== Boolean(store.serverState.view?.projector)) {  // the class sees what the link shows
      await app.command((id) => protocol.view({ projector: store.ui.projector }, id));
    }
    if (connection.session?.id === linkedSession) { document.body.dataset.start = 'kept'; return; }
    if (start.select) await selectLinked(app, start.select);
    if (start.phase) await runToPhase(app, start.phase);
    if (start.tab) {
      await until(() => !store.dirty);  // the phase's own view has opened: the tab wins over it
      /** @type {HTMLElement | null} */ (document.querySelector(`[data-tab="${start.tab}"]`))?.click();
    }
    if (start.playing) await app.command((id) => protocol.play(id));
    document.body.dataset.start = 'reached';  // for tests: the link's start is on screen
  } catch (error) {
    startNotice(app, error instanceof Error ? error.message : String(error), 'link-run');
  }
}

/** @param {App} app */
const frameKey = (app) => `${app.store.frame?.step}:${app.store.frame?.phase}`;

/** Run phases (at most one step's four) until the frame shows `phase`. @param {App} app @param {string} phase */
async function runToPhase(app, phase) {
  for (let tries = 0; tries < 4 && app.store.frame?.phase !== phase; tries += 1) {
    const before = frameKey(app);
    await app.command((id) => protocol.phaseStep(id));
    await until(() => frameKey(app) !== before);
  }
}

/**
 * Select the linked weight or bias if the network has it, else say why not.
 * @param {App} app @param {{layer: number, neuron: number, source: number | null}} target
 */
async function selectLinked(app, target) {
  const sizes = app.store.frame?.layerSizes ?? [];
  const { layer, neuron, source } = target;
  if (layer + 1 >= sizes.length || neuron >= sizes[layer + 1] || (source !== null && source >= sizes[layer])) {
    startNotice(app, `select=${layer}:${neuron}:${source ?? 'b'}: this network has no such ${source === null ? 'bias' : 'weight'}`,
      'link-select');
    return;
  }
  const reply = await app.command((id) => protocol.select(target, id));
  if (reply.type === 'ack') {
    await until(() => app.store.serverState?.selection?.layer === layer && app.store.serverState.selection.neuron === neuron);
  }
}

/** Set a control as a user would (its own change handler runs). @param {HTMLSelectElement} control @param {string} value */
function changeControl(control, value) {
  control.value = value;
  control.dispatchEvent(new Event('change'));
}

/**
 * Resolves when `ready()` holds (checked every 30 ms); rejects after `seconds`.
 * @param {() => boolean} ready @param {number} [seconds]
 * @returns {Promise<void>}
 */
function until(ready, seconds = 15) {
  const deadline = performance.now() + seconds * 1000;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (ready()) resolve();
      else if (performance.now() > deadline) reject(new Error('the page did not reach it in time'));
      else setTimeout(check, 30);
    };
    check();
  });
}
