// @ts-check
/**
 * Spotlight a fork (docs/protocol.md, "Forks of a class and the spotlight").
 *
 * - The presenter's page of a class: the Forks list (render/forks.js) from the server's
 *   `forks` messages, and the spotlight — fork N shown read-only over the page, with a
 *   header "Fork N — read-only · Back to class". The fork is shown by the page itself,
 *   opened in a frame as a viewer of the fork with the spotlight code (/join/CODE): the
 *   viewer path as it is, its controls off, and the server refuses its commands anyway.
 *   The class's own page, socket and run stay as they were underneath; "Back to class"
 *   closes the frame (its socket) and tells the server.
 * - A fork's own page: the switch "Let the teacher show my fork" (on by default).
 * - The page inside the frame (/join/CODE?spotlight=N, #projector=1 when the presenter's
 *   page is in projector mode): no Fork button or class badge, and the presenter's
 *   projector choice rather than the fork owner's.
 */

import * as protocol from '../protocol.js';
import { renderForkList } from '../render/forks.js';
import { authorized } from '../transport.js';

/** @typedef {import('./app.js').App} App */
/** @typedef {import('../types/messages.gen.js').ForksMessage} ForksMessage */

/** What the presenter's page knows of the class's forks and the fork it shows. */
const forks = {
  /** @type {ForksMessage | null} */
  listing: null,
  open: true,
  /** @type {{number: number, path: string} | null} */
  shown: null,
  /** @type {number | null} the fork shown last, until the server says why it ended */
  closed: null,
  drawn: '',
};

/** @param {App} app */
export function wireSpotlight(app) {
  if (new URLSearchParams(location.search).has('spotlight')) {
    wireSpotlitPage(app, app.store.ui.projector);
    return;
  }
  listen(app, (message) => {
    if (message.type === 'forks') {
      forks.listing = message;
      if (forks.shown && message.spotlight !== forks.shown.number) close(app, null);
    }
    // the event may come before or after the listing that already closed the frame
    if (message.type === 'event' && message.event === 'spotlight_ended'
      && (forks.shown?.number ?? forks.closed) === message.number) {
      if (forks.shown) close(app, message.message);
      else app.notify({ topic: 'spotlight', level: 'info', text: message.message });
      forks.closed = null;
    }
    if (message.type === 'state' && !message.class && forks.listing) {
      forks.listing = null;
      close(app, null);
    }
  });
  window.addEventListener('keydown', (event) => {
    if (!forks.shown) return;
    event.stopImmediatePropagation();  // the class underneath takes no keys meanwhile
    if (event.key === 'Escape') backToClass(app);
  }, true);
  window.addEventListener('message', (event) => {
    if (event.origin === location.origin && event.data?.spotlight === 'lost' && forks.shown) {
      close(app, `Fork ${forks.shown.number} can no longer be shown from here: press Spotlight again.`);
    }
  });
  wireListingSwitch(app);
}

/**
 * Hear every server message before the page does (the connection's one message handler).
 * @param {App} app @param {(message: any) => void} hear
 */
function listen(app, hear) {
  const handlers = app.connection.handlers;
  const pass = handlers.onMessage;
  handlers.onMessage = (message) => { hear(message); pass(message); };
}

/**
 * The page in the spotlight frame: what a viewer's page is, less what belongs to a class
 * member, in the presenter's projector mode whatever the fork's owner shows.
 * @param {App} app @param {boolean} projector
 */
function wireSpotlitPage(app, projector) {
  document.body.classList.add('spotlit');
  listen(app, (message) => {
    if (message.type === 'welcome') message.state.view.projector = projector;
    if (message.type === 'state') message.view.projector = projector;
  });
  const handlers = app.connection.handlers;
  const pass = handlers.onStatus;
  handlers.onStatus = (status) => {
    pass(status);  // a code that no longer opens the fork (it expired while reconnecting)
    if (status === 'no-class') window.parent.postMessage({ spotlight: 'lost' }, location.origin);
  };
}

/** @param {App} app @param {number} number */
async function spotlight(app, number) {
  const { connection } = app;
  const id = connection.session?.id;
  if (!id) return;
  const response = await fetch(`/api/sessions/${encodeURIComponent(id)}/forks/${number}/spotlight`, {
    method: 'POST', headers: authorized(connection.credential()), body: '{}',
  });
  if (!response.ok) {
    const detail = (await response.json().catch(() => ({}))).detail;
    app.notify({ topic: 'spotlight', level: 'warning',
      text: `Fork ${number} cannot be shown: ${detail?.message ?? `status ${response.status}`}` });
    return;
  }
  const shown = await response.json();
  forks.shown = { number, path: shown.path };
  app.clearNotice('spotlight');
  open(app);
}

/** Show the spotlight over the page. @param {App} app */
function open(app) {
  const { $, store } = app;
  const shown = /** @type {{number: number, path: string}} */ (forks.shown);
  const overlay = $('spotlight');
  const bar = document.createElement('div');
  bar.className = 'spotlight-bar';
  const title = document.createElement('span');
  title.className = 'spotlight-title';
  title.dataset.testid = 'spotlight-title';
  title.textContent = `Fork ${shown.number} — read-only`;
  const note = document.createElement('span');
  note.className = 'spotlight-note';
  note.textContent = 'a student’s copy; the class waits as it was';
  const back = document.createElement('button');
  back.type = 'button';
  back.className = 'primary';
  back.dataset.testid = 'spotlight-back';
  back.textContent = 'Back to class';
  back.addEventListener('click', () => backToClass(app));
  bar.append(title, note, back);
  const frame = document.createElement('iframe');
  frame.dataset.testid = 'spotlight-frame';
  frame.title = `Fork ${shown.number}, read-only`;
  frame.src = `${shown.path}?spotlight=${shown.number}${store.ui.projector ? '#projector=1' : ''}`;
  overlay.replaceChildren(bar, frame);
  overlay.hidden = false;
  document.body.classList.add('spotlighting');
  back.focus();
  store.dirty = true;
}

/** "Back to class": close the frame, and tell the server (its code stops working). @param {App} app */
function backToClass(app) {
  const id = app.connection.session?.id;
  close(app, null);
  if (id) {
    fetch(`/api/sessions/${encodeURIComponent(id)}/spotlight`, {
      method: 'DELETE', headers: authorized(app.connection.credential()),
    }).catch(() => {});  // the code expires by itself anyway
  }
}

/** @param {App} app @param {string | null} reason  said in a notice when the spotlight ended by itself */
function close(app, reason) {
  if (!forks.shown) return;
  forks.closed = forks.shown.number;
  forks.shown = null;
  const overlay = app.$('spotlight');
  overlay.replaceChildren();  // the frame goes, and with it its socket
  overlay.hidden = true;
  document.body.classList.remove('spotlighting');
  if (reason) app.notify({ topic: 'spotlight', level: 'info', text: reason });
  app.store.dirty = true;
}

/** The fork's own page: a banner with its switch (on by default). @param {App} app */
function wireListingSwitch(app) {
  const banner = app.$('fork-banner');
  const words = document.createElement('span');
  words.className = 'message';
  const label = document.createElement('label');
  label.className = 'fork-listing';
  label.dataset.testid = 'fork-listing';
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.dataset.testid = 'fork-listed';
  box.checked = true;
  label.append(box, 'Let the teacher show my fork');
  banner.append(words, label);
  box.addEventListener('change', () => app.command((id) => protocol.setListing(box.checked, id)));
}

/** Per frame: the Forks list, the fork's switch. @param {App} app */
export function renderSpotlight(app) {
  const { store, $ } = app;
  if (document.body.classList.contains('spotlit')) return;  // the frame shows a fork, that is all
  const presenter = store.role === 'presenter';
  const panel = $('forks');
  const classOn = presenter && Boolean(store.serverState?.class);
  const listed = (forks.listing?.forks.length ?? 0) + (forks.listing?.more ?? 0);
  panel.hidden = !classOn || listed === 0;  // nothing to show: no panel over the network
  const key = classOn ? JSON.stringify([forks.listing, forks.open, forks.shown?.number]) : '';
  if (classOn && key !== forks.drawn) {
    renderForkList(panel, forks.listing, {
      open: forks.open,
      onToggle: () => { forks.open = !forks.open; store.dirty = true; },
      onSpotlight: (number) => { spotlight(app, number); },
    });
  }
  forks.drawn = key;
  renderForkBanner(app, presenter ? store.serverState?.fork ?? null : null,
    presenter ? null : store.serverState?.spotlight ?? null);
}

/**
 * The card on a fork's page (its switch), or on a class viewer's page while the presenter
 * shows a fork (`shownNumber`).
 * @param {App} app
 * @param {import('../types/messages.gen.js').ForkInfo | null} fork
 * @param {number | null} shownNumber
 */
function renderForkBanner(app, fork, shownNumber) {
  const banner = app.$('fork-banner');
  banner.hidden = !fork && shownNumber === null;
  const label = /** @type {HTMLElement} */ (banner.querySelector('label'));
  label.hidden = !fork;
  if (!fork) {
    const words = /** @type {HTMLElement} */ (banner.querySelector('.message'));
    const text = `The teacher is showing fork ${shownNumber}: a classmate’s copy, read-only.`;
    if (shownNumber !== null && words.textContent !== text) words.textContent = text;
    banner.classList.remove('shown');
    return;
  }
  const box = /** @type {HTMLInputElement} */ (banner.querySelector('input'));
  if (document.activeElement !== box) box.checked = fork.listed;
  const text = fork.shown ? `The teacher is showing your fork (fork ${fork.number}) to the class now.`
    : `Your own copy: fork ${fork.number}. The teacher sees only its number, step and loss `
      + '(never your name) and may show it to the class.';
  const words = /** @type {HTMLElement} */ (banner.querySelector('.message'));
  if (words.textContent !== text) words.textContent = text;
  banner.classList.toggle('shown', fork.shown);
}
