// @ts-check
/**
 * The user's own data: click the output map to add a point (shift: the other class, alt:
 * erase one), load a CSV file, clear back to a generated data set; the class picker.
 */

import { fillSelect } from '../controls.js';
import { addPoint, erasePoint, parseCsv } from '../custom_data.js';
import { editPoints } from '../protocol.js';
import { plotToPlane } from '../render/output_plot.js';
import { focusClick } from './phases.js';

/** @typedef {import('./app.js').App} App */

/** What "clear" goes back to, by problem. */
const GENERATED = /** @type {Record<string, string>} */ (
  { binary: 'circle', multiclass: 'blobs3', regression: 'plane' });

/** @param {App} app */
export function wireOwnData(app) {
  const { store, $ } = app;
  const canvas = /** @type {HTMLCanvasElement} */ ($('output-map'));
  canvas.classList.add('editable');
  canvas.addEventListener('click', (event) => clickPoint(app, canvas, event));
  $('clear-points').addEventListener('click', () => {
    app.configure({ data: { dataset: GENERATED[store.data?.problem ?? 'binary'] ?? 'circle' } });
  });
  $('load-csv').addEventListener('change', async (event) => {
    const input = /** @type {HTMLInputElement} */ (event.target);
    const file = input.files?.[0];
    input.value = '';
    if (file && store.data) loadCsv(app, file);
  });
}

/**
 * Add a point where the output map was clicked (shift: the other class or target), or with
 * alt erase the nearest one: live, the network keeps its weights and a running session
 * keeps training (`edit_points`). A click on a ringed batch point chooses the focus point
 * instead.
 * @param {App} app @param {HTMLCanvasElement} canvas @param {MouseEvent} event
 */
function clickPoint(app, canvas, event) {
  const { store, $ } = app;
  if (!app.presenting() || !store.data) return;
  if (focusClick(app, canvas, event)) return;
  const where = plotToPlane(canvas, event.clientX, event.clientY);
  if (!where) return;
  let label = Number(/** @type {HTMLSelectElement} */ ($('point-class')).value);
  if (event.shiftKey && store.data.problem === 'binary') label = 1 - label;
  if (event.shiftKey && store.data.problem === 'regression') label = -label;
  const [at] = addPoint([], where.x1, where.x2, label, store.options.limits);  // on the plane
  if (event.altKey) {
    const points = currentPoints(app);
    const fewer = erasePoint(points, at[0], at[1], store.options.point_edits.erase_radius);
    if (fewer.length && fewer !== points) app.command((id) => editPoints({ erase: [[at[0], at[1]]] }, id));
    return;
  }
  app.command((id) => editPoints({ add: [at] }, id));
}

/**
 * Train on a CSV file's points (the CSV button, a file dropped on the output plot), or say
 * why it was not loaded (notice topic 'csv', cleared once a file loads).
 * @param {App} app @param {File} file
 */
export async function loadCsv(app, file) {
  const { store } = app;
  const parsed = parseCsv(await file.text(),
    { problem: store.data.problem, nClasses: store.data.n_classes, limits: store.options.limits });
  if (parsed.errors.length) {
    const more = parsed.errors.length > 3 ? ` (and ${parsed.errors.length - 3} more)` : '';
    app.notify({ topic: 'csv', level: 'error',
      text: `${file.name} was not loaded: ${parsed.errors.slice(0, 3).join('; ')}${more}` });
    return;
  }
  const reply = await useOwnPoints(app, parsed.points);
  if (reply.type === 'ack') app.clearNotice('csv');
}

/** The data set's points as [x1, x2, label] rows (the user's own, or the generated ones). @param {App} app */
function currentPoints(app) {
  const { store } = app;
  const data = store.config?.data;
  if (data?.dataset === 'custom' && data.points) return [...data.points, ...(data.test_points ?? [])];
  return [...(store.data?.train ?? []), ...(store.data?.test ?? [])];
}

/**
 * Train on these points from now on (the network is rebuilt, as for any data change).
 * @param {App} app @param {number[][]} points
 */
function useOwnPoints(app, points) {
  const { store } = app;
  const network = store.config.network;
  return app.configure({
    data: { dataset: 'custom', points },
    network: { problem: network.problem, loss: network.loss, n_classes: store.data?.n_classes ?? 3 },
  });
}

/** The class picker offers the problem's classes (regression: a target of −1 or +1). @param {App} app */
export function syncPointClasses(app) {
  const { store, $ } = app;
  const select = /** @type {HTMLSelectElement} */ ($('point-class'));
  const key = `${store.data?.problem}:${store.data?.n_classes}`;
  if (!store.data || select.dataset.key === key) return;
  select.dataset.key = key;
  const values = store.data.problem === 'regression' ? [1, -1]
    : Array.from({ length: store.data.n_classes }, (_, i) => i);
  fillSelect(select, store.data.problem === 'binary' ? [1, 0] : values,
    (v) => (store.data.problem === 'regression' ? `target ${v > 0 ? '+1' : '−1'}` : `class ${v}`));
}
