// @ts-check
/**
 * The right column's four views — output, inspector, loss, step — as tabs. The inspector
 * opens by itself when something is selected (and gives way to the output when the
 * selection is cleared); the loss panel opens during a paused loss phase and the step on the
 * loss landscape during a paused update phase, and the view before them comes back with the
 * next phase. A tab the user picks stays until the next such event. The
 * inspector's weight editor (set_parameter; presenter only) and its clear button.
 */

import * as protocol from '../protocol.js';
import { renderInspector } from '../render/inspector.js';
import { renderLandscape } from '../render/landscape.js';
import { renderLossPanel } from '../render/loss_panel.js';
import { select } from './network_shape.js';

/** @typedef {import('./app.js').App} App */
/** @typedef {'output' | 'inspector' | 'loss' | 'step'} View */

/**
 * What decides the shown view: the view, the one to go back to after the loss phase, and
 * the selection and phase last seen (undefined before the first look).
 * @typedef {{view: View, returnTo: View | null, selectionKey: string | undefined, phaseKey: string | undefined}} SidePanel
 */

/** @returns {SidePanel} */
export function createSidePanel() {
  return { view: 'output', returnTo: null, selectionKey: undefined, phaseKey: undefined };
}

/**
 * The view to show now: a new selection opens the inspector, a cleared one closes it; a
 * paused loss phase opens the loss panel, a paused update phase the step panel, until the
 * phase changes.
 * @param {SidePanel} panel  updated in place
 * @param {{selectionKey: string, phase: string | null, running: boolean, step: number}} now
 * @returns {View}
 */
export function nextView(panel, now) {
  let selected = false;  // a new selection wins over the phase's view
  if (now.selectionKey !== panel.selectionKey) {
    const first = panel.selectionKey === undefined;
    selected = Boolean(now.selectionKey);
    panel.selectionKey = now.selectionKey;
    if (now.selectionKey) {
      panel.view = 'inspector';
      panel.returnTo = null;
    } else if (!first && panel.view === 'inspector') panel.view = 'output';
  }
  const phaseKey = now.running ? 'running' : `${now.step}:${now.phase}`;
  if (phaseKey !== panel.phaseKey) {
    const paused = panel.phaseKey === 'running';  // a pause lands after a whole step: no panel opens
    panel.phaseKey = phaseKey;
    const phaseView = now.running ? null : PHASE_VIEWS[now.phase ?? ''] ?? null;
    // the inspector shows a selected weight's own update: the update phase leaves it there
    const inspecting = phaseView === 'step' && panel.view === 'inspector' && Boolean(now.selectionKey);
    if (phaseView && !selected && !paused && !inspecting) {
      if (panel.view !== phaseView) {
        panel.returnTo = panel.returnTo !== null && panel.view in PHASE_OWNERS ? panel.returnTo : panel.view;
        panel.view = phaseView;
      }
    } else if (panel.returnTo !== null) {
      if (panel.view in PHASE_OWNERS) panel.view = panel.returnTo;
      panel.returnTo = null;
    }
  }
  return panel.view;
}

/** The view a paused phase opens by itself. @type {Record<string, View>} */
const PHASE_VIEWS = { loss: 'loss', update: 'step' };
/** The views a phase opens (the view before them comes back). */
const PHASE_OWNERS = { loss: true, step: true };

/** The user picked a view. @param {SidePanel} panel @param {View} view */
export function chooseView(panel, view) {
  panel.view = view;
  panel.returnTo = null;
}

/** @param {{layer: number, neuron: number, source?: number | null} | null | undefined} target */
const targetKey = (target) => (target ? `${target.layer}:${target.neuron}:${target.source ?? 'bias'}` : '');

const panel = createSidePanel();
/** @type {View | null} */
let shown = null;
/** The editor's selection, to reset it when the selection changes. */
let editorKey = '';

/** Show `view`: its tab pressed, its element visible, the column's width. @param {App} app @param {View} view */
function showView(app, view) {
  shown = view;
  for (const tab of document.querySelectorAll('[data-tab]')) {
    const on = /** @type {HTMLElement} */ (tab).dataset.tab === view;
    tab.setAttribute('aria-selected', String(on));
    tab.classList.toggle('on', on);
  }
  for (const element of document.querySelectorAll('[data-view]')) {
    /** @type {HTMLElement} */ (element).hidden = /** @type {HTMLElement} */ (element).dataset.view !== view;
  }
  document.body.dataset.side = view;
  app.network.overlayKey = '';  // the network's column changes width
  app.store.dirty = true;
}

/** The tabs, the weight editor and the clear button. @param {App} app */
export function wireInspector(app) {
  for (const tab of document.querySelectorAll('[data-tab]')) {
    tab.addEventListener('click', () => {
      chooseView(panel, /** @type {View} */ (/** @type {HTMLElement} */ (tab).dataset.tab));
      showView(app, panel.view);
    });
  }
  app.$('inspector-close').addEventListener('click', () => select(app, null));
  app.$('parameter-editor').addEventListener('submit', (event) => {
    event.preventDefault();
    submitParameter(app);
  });
  showView(app, panel.view);
}

/** Send the typed value of the selected weight or bias. @param {App} app */
async function submitParameter(app) {
  const { store, $ } = app;
  const input = /** @type {HTMLInputElement} */ ($('parameter-input'));
  const status = $('parameter-status');
  const target = store.serverState?.selection;
  const [low, high] = store.options?.limits?.parameter ?? [-100, 100];
  const value = input.value.trim() === '' ? NaN : Number(input.value.replace('−', '-'));
  if (!target) return;
  if (!Number.isFinite(value) || value < low || value > high) {
    status.textContent = `type a number from ${low} to ${high}`;
    status.classList.add('bad');
    return;
  }
  status.textContent = 'sending…';
  status.classList.remove('bad');
  const reply = await app.command((id) => protocol.setParameter(target, value, id));
  if (reply.type === 'ack') {
    status.textContent = `applies from step ${reply.step}`;
  } else {
    status.textContent = reply.field ? `${reply.field}: ${reply.message}` : reply.message;
    status.classList.add('bad');
  }
}

/** The editor follows the selection (and is off for a viewer). @param {App} app */
function syncEditor(app) {
  const { store, $ } = app;
  const selection = store.frame?.selection ?? null;
  const target = store.serverState?.selection ?? null;
  const editor = /** @type {HTMLFormElement} */ ($('parameter-editor'));
  editor.hidden = !selection || !target;
  if (!selection || !target) return;
  const input = /** @type {HTMLInputElement} */ ($('parameter-input'));
  const key = targetKey(target);
  const viewer = store.role === 'viewer';
  for (const control of editor.querySelectorAll('input, button')) /** @type {HTMLInputElement} */ (control).disabled = viewer;
  editor.title = viewer ? 'only the presenter can change a weight' : '';
  const [low, high] = store.options?.limits?.parameter ?? [-100, 100];
  [input.min, input.max] = [String(low), String(high)];
  $('parameter-name').textContent = selection.kind === 'edge' ? 'w' : 'b';
  if (key !== editorKey) {
    editorKey = key;
    $('parameter-status').textContent = '';
  }
  if (document.activeElement !== input) {
    const current = String(Number(selection.weight.toPrecision(6)));
    if (input.value !== current) input.value = current;
  }
}

/** The phase the inspector last scrolled for. */
let followed = '';

/**
 * When the inspector is taller than its column (projector mode), each new phase of a
 * paused run scrolls to its section: the update phase to the update rule, the others to
 * the chain rule at the top.
 * @param {HTMLElement} view @param {import('../protocol.js').Frame | null} frame
 */
function followPhase(view, frame) {
  const key = frame && !frame.running ? `${frame.step}:${frame.phase}` : '';
  if (key === followed) return;
  followed = key;
  if (!frame || frame.running || view.scrollHeight <= view.clientHeight) return;
  const update = /** @type {HTMLElement | null} */ (view.querySelector('.insp-update'));
  view.scrollTop = frame.phase === 'update' && update
    ? Math.max(0, update.offsetTop + update.offsetHeight - view.clientHeight) : 0;
}

/**
 * Once per drawn frame: pick the view and draw the inspector (always, so that it remembers
 * the rule that ran) and, when shown, the loss panel.
 * @param {App} app
 */
export function renderSidePanel(app) {
  const { store, $ } = app;
  const frame = store.frame;
  const view = nextView(panel, {
    selectionKey: targetKey(store.serverState?.selection), phase: frame?.phase ?? null,
    running: Boolean(frame?.running), step: frame?.step ?? 0,
  });
  if (view !== shown) showView(app, view);
  renderInspector($('inspector'), store);
  syncEditor(app);
  if (view === 'inspector') followPhase($('inspector'), frame);
  if (view === 'loss') renderLossPanel($('loss-panel'), store);
  if (view === 'step') renderLandscape($('step-landscape'), store);
}
