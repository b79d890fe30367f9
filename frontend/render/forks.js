// @ts-check
/**
 * The presenter's list of the class's forks: anonymous rows ("fork 3 · step 1,200 · test
 * loss 0.040") with a Spotlight button each, under a header that folds the list away. Draws
 * what the server's `forks` message says; nothing here knows whose a fork is.
 */

import { formatNumber, formatPercent } from './format.js';

/** @typedef {import('../types/messages.gen.js').ForksMessage} ForksMessage */
/** @typedef {import('../types/messages.gen.js').ForkRow} ForkRow */

/**
 * One row's words: its number, step and test loss (train loss before a test loss exists).
 * @param {ForkRow} row
 * @returns {string}
 */
export function forkLine(row) {
  const loss = row.test_loss ?? row.train_loss;
  const which = row.test_loss === null && row.train_loss !== null ? 'loss' : 'test loss';
  return [`fork ${row.number}`, `step ${row.step.toLocaleString('en-US')}`,
    `${which} ${loss === null ? '—' : formatNumber(loss, 2)}`].join(' · ');
}

/** The row's tooltip: the rest of its figures. @param {ForkRow} row */
function forkDetails(row) {
  const parts = [`train loss ${formatNumber(row.train_loss, 3)}`];
  if (row.test_accuracy !== null) parts.push(`test accuracy ${formatPercent(row.test_accuracy, 1)}`);
  parts.push(row.running ? 'training now' : 'paused');
  return parts.join(' · ');
}

/**
 * Draw the list into `container` (replacing what was there).
 * @param {HTMLElement} container
 * @param {ForksMessage | null} listing  null: none came yet (no fork yet)
 * @param {{open: boolean, onToggle: () => void, onSpotlight: (number: number) => void}} options
 */
export function renderForkList(container, listing, options) {
  const rows = listing?.forks ?? [];
  const head = document.createElement('button');
  head.type = 'button';
  head.className = 'forks-head';
  head.dataset.testid = 'forks-toggle';
  head.setAttribute('aria-expanded', String(options.open));
  head.textContent = `${options.open ? '▾' : '▸'} Forks of the class · ${rows.length + (listing?.more ?? 0)}`;
  head.addEventListener('click', options.onToggle);
  const body = document.createElement('div');
  body.className = 'forks-body';
  body.hidden = !options.open;
  const list = document.createElement('ol');
  list.className = 'forks-list';
  for (const row of rows) list.append(forkItem(row, listing?.spotlight === row.number, options.onSpotlight));
  if (rows.length > 0) body.append(list);
  if (listing && listing.more > 0) {
    const more = document.createElement('p');
    more.className = 'forks-empty';
    more.textContent = `and ${listing.more} older ones`;
    body.append(more);
  }
  container.replaceChildren(head, body);
}

/**
 * @param {ForkRow} row @param {boolean} shown
 * @param {(number: number) => void} onSpotlight
 */
function forkItem(row, shown, onSpotlight) {
  const item = document.createElement('li');
  item.dataset.testid = `fork-row-${row.number}`;
  item.classList.toggle('shown', shown);
  const text = document.createElement('span');
  text.className = 'fork-line';
  text.textContent = forkLine(row);
  text.title = forkDetails(row);
  const button = document.createElement('button');
  button.type = 'button';
  button.dataset.testid = `spotlight-${row.number}`;
  button.textContent = shown ? 'Showing' : 'Spotlight';
  button.title = `Show fork ${row.number} on this screen, read-only`;
  button.addEventListener('click', () => onSpotlight(row.number));
  item.append(text, button);
  return item;
}
