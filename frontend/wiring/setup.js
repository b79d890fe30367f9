// @ts-check
/**
 * Start-up from the options document (GET /api/options) and the link: fill the selects and
 * the data-set tiles, read a shared setup from the URL hash, hide what the link hides.
 */

import { BATCH_SIZES, REGULARIZATION_RATES, SPEEDS, speedLabel, buildDatasetTiles, fillSelect } from '../controls.js';
import { configFromHash, hiddenControls } from '../links.js';
import { setLearningRateRange } from './learning_rate.js';
import { readStart } from './start.js';

/** @typedef {import('./app.js').App} App */

/**
 * A select's options from catalogue entries (value: name, label: title).
 * @param {HTMLElement} select @param {{name: string, title: string}[]} entries
 */
function fillEntries(select, entries) {
  const titles = new Map(entries.map((entry) => [entry.name, entry.title]));
  fillSelect(/** @type {HTMLSelectElement} */ (select), entries.map((entry) => entry.name),
    (name) => titles.get(name) ?? name);
}

/** Fetch the options document into the store and build the controls from it. @param {App} app */
export async function loadOptions(app) {
  const { store, $ } = app;
  store.options = await (await fetch('/api/options')).json();
  const [slowest, fastest] = store.options.limits.speed ?? [0.01, 1000];
  const fps = store.options.limits.max_frames_per_second ?? 60;
  fillSelect(/** @type {HTMLSelectElement} */ ($('speed')), SPEEDS.filter((v) => v >= slowest && v <= fastest),
    (v) => speedLabel(v, fps, fastest));
  fillEntries($('activation'), store.options.activations);
  fillEntries($('optimizer'), store.options.optimizers);
  fillSelect(/** @type {HTMLSelectElement} */ ($('batch-size')), BATCH_SIZES);
  fillEntries($('regularization'), store.options.regularizations);
  fillSelect(/** @type {HTMLSelectElement} */ ($('regularization-rate')), REGULARIZATION_RATES);
  setLearningRateRange(app);
  buildDatasetTiles($('datasets'), store.options.datasets,
    (name) => app.configure({ data: { dataset: name } }));
}

/**
 * The setup a shared link asks for goes into `app.linkConfig` (sent with the first hello);
 * why any of its values was ignored becomes a notice.
 * @param {App} app
 */
export function readLink(app) {
  const link = configFromHash(location.hash, app.store.options);
  app.linkConfig = link.given ? link.config : null;
  if (link.notices.length) app.notify({ topic: 'link', level: 'warning', text: `This link’s setup was partly ignored: ${link.notices.join('; ')}.` });
  readStart(app);
}

/** Hide the controls and panels the link names (`#hide=…`), with their labels. */
export function hideLinkedControls() {
  for (const name of hiddenControls(location.hash)) {
    for (const element of document.querySelectorAll(`[data-testid="${name}"], [data-panel="${name}"]`)) {
      const label = element.parentElement?.tagName === 'LABEL' ? element.parentElement : element;
      /** @type {HTMLElement} */ (label).style.display = 'none';
    }
    if (name === 'data') document.body.classList.add('without-data');
  }
}
