// @ts-check
/**
 * Files out and in: the PNG picture, the history CSV, the run's JSON, and importing a run.
 * A failure is a notice (topics 'export', 'import') that stays until dismissed or solved.
 */

import { composePng, download, fetchSnapshot, historyCsv, importRun } from '../exports.js';
import { saveToken } from '../transport.js';

/** @typedef {import('./app.js').App} App */

/** @param {App} app */
export function wireFiles(app) {
  wireExports(app);
  wireImport(app);
}

/** @param {App} app */
function wireExports(app) {
  const { store, $, connection, charts } = app;
  const stamp = () => `backprop-step${store.frame?.step ?? 0}`;
  $('export-png').addEventListener('click', async () => {
    const canvases = [$('network'), $('output-map'), charts.loss.canvas]
      .filter((canvas) => canvas instanceof HTMLCanvasElement);
    download(await composePng(canvases), `${stamp()}.png`);
  });
  $('export-csv').addEventListener('click', () => download(
    new Blob([historyCsv(store.history)], { type: 'text/csv' }), `${stamp()}-history.csv`));
  $('export-json').addEventListener('click', async () => {
    const id = connection.session?.id;
    if (!id) return;
    try {
      const run = await fetchSnapshot(id, connection.credential());
      download(new Blob([run], { type: 'application/json' }), `${stamp()}-run.json`);
      app.clearNotice('export');
    } catch (error) {
      app.notify({ topic: 'export', level: 'error', text: `The run could not be exported: ${reason(error)}` });
    }
  });
}

/** A run's JSON file becomes a new session of this browser, opened in this tab. @param {App} app */
function wireImport(app) {
  app.$('import-json').addEventListener('change', async (event) => {
    const input = /** @type {HTMLInputElement} */ (event.target);
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    try {
      const created = await importRun(file);
      saveToken(created.id, created.presenter_token);
      location.assign(`/#session=${encodeURIComponent(created.id)}`);
      location.reload();
    } catch (error) {
      app.notify({ topic: 'import', level: 'error', text: reason(error) });
    }
  });
}

/** @param {unknown} error */
function reason(error) {
  return error instanceof Error ? error.message : String(error);
}
