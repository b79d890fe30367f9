// @ts-check
/**
 * The classroom: present a session to a class (join code, QR card), join or fork one, end it;
 * a viewer's page with its controls off; the presenter's panel in focus on every page.
 */

import * as protocol from '../protocol.js';
import { renderSpotlight, wireSpotlight } from './spotlight.js';

/** @typedef {import('./app.js').App} App */

/** @param {App} app */
export function wireClassroom(app) {
  const { store, $, connection } = app;
  $('present').addEventListener('click', () => {
    if (store.serverState?.class) { store.classCardOpen = !store.classCardOpen; store.dirty = true; return; }
    store.classCardOpen = true;
    app.command((id) => protocol.present(id));
  });
  $('end-class').addEventListener('click', () => app.command((id) => protocol.endClass(id)));
  $('class-card-hide').addEventListener('click', () => { store.classCardOpen = false; store.dirty = true; });
  $('fork').addEventListener('click', () => connection.fork().catch((error) => app.notify({ topic: 'fork', level: 'error', text: `Fork failed: ${error instanceof Error ? error.message : error}` })));
  $('join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const code = /** @type {HTMLInputElement} */ ($('join-code')).value.trim().toUpperCase();
    if (code) location.assign(`/join/${encodeURIComponent(code)}`);
  });
  const back = new URLSearchParams(location.hash.slice(1)).get('class');
  if (back) {
    const link = /** @type {HTMLAnchorElement} */ ($('back-to-class'));
    link.href = `/join/${encodeURIComponent(back)}`;
    link.hidden = false;
  }
  wireSpotlight(app);
}

/** A viewer's controls are visibly off (the server would refuse them anyway). */
export function disableControls() {
  const selector = '.run-controls button, .hyperbar select, .data-panel input, .dataset, '
    + '.network-toolbar button, #learning-rate, [data-testid="projector-toggle"]';
  for (const element of document.querySelectorAll(selector)) {
    /** @type {HTMLInputElement} */ (element).disabled = true;
  }
  document.body.classList.add('viewer');
}

/** The presenter's panel in focus is outlined on every viewer's page. @param {App} app */
export function wireFocus(app) {
  const { store } = app;
  for (const panel of document.querySelectorAll('.workspace > .panel')) {
    panel.addEventListener('pointerdown', () => {
      const name = /** @type {HTMLElement} */ (panel).dataset.panel ?? '';
      if (!app.presenting() || !store.serverState?.class || store.serverState.view?.panel === name) return;
      app.command((id) => protocol.view({ panel: name }, id));
    });
  }
}

/** @param {App} app */
export function renderFocus(app) {
  const { store } = app;
  const focus = store.serverState?.class ? store.serverState?.view?.panel : null;
  for (const panel of document.querySelectorAll('.workspace > .panel')) {
    panel.classList.toggle('focus', Boolean(focus) && /** @type {HTMLElement} */ (panel).dataset.panel === focus);
  }
}

/** The join card (presenter), the viewer badge, the class messages. @param {App} app */
export function renderClassroom(app) {
  renderClassCard(app);
  renderViewerBadge(app);
  renderSpotlight(app);
}

/** The Present button and, for the presenter, the join card with code, link and QR. @param {App} app */
function renderClassCard(app) {
  const { store, $ } = app;
  const info = store.serverState?.class;
  const presenter = store.role === 'presenter';
  $('class-card').hidden = !(presenter && info && store.classCardOpen);
  $('present').textContent = info ? `Class ${info.code} · ${store.viewers ?? 0}` : 'Present';
  $('present').classList.toggle('on', Boolean(info));
  if (presenter && info && $('class-code').textContent !== info.code) {
    $('class-code').textContent = info.code;
    $('class-link').textContent = `${location.host}${info.path}`;
    /** @type {HTMLImageElement} */ ($('class-qr')).src = `/api/join/${info.code}/qr.svg`;
  }
  $('viewer-count').textContent = String(store.viewers ?? 0);
}

/** A viewer's badge, its Fork button, and the banner when the class has ended. @param {App} app */
function renderViewerBadge(app) {
  const { store, $, connection } = app;
  const viewer = store.role === 'viewer';
  $('viewer-badge').hidden = !viewer;
  $('fork').hidden = !viewer || store.connection === 'class-ended';
  $('viewer-code').textContent = connection.joinCode ?? '';
  const banner = $('class-banner');
  // an unknown code gets the page of its own (join_page.js), not a banner
  const message = store.connection === 'class-ended' ? (store.classMessage ?? 'The class has ended.') : null;
  banner.hidden = !message;
  if (message) /** @type {HTMLElement} */ (banner.querySelector('.message')).textContent = message;
}
