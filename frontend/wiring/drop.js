// @ts-check
/**
 * A CSV file dropped on the output plot loads like the CSV button (the same loader,
 * own_data.js's loadCsv); the plot is outlined while a file is dragged over it. A file
 * dropped anywhere else does not make the browser leave the page for it: a notice says
 * where to drop it.
 */

import { loadCsv } from './own_data.js';

/** @typedef {import('./app.js').App} App */

/** @param {DragEvent} event  does the drag carry files (not text or a link)? */
const carriesFiles = (event) => Array.from(event.dataTransfer?.types ?? []).includes('Files');

/** @param {File} file */
const looksLikeCsv = (file) => /\.csv$/i.test(file.name) || file.type === 'text/csv';

/** @param {App} app */
export function wireDrop(app) {
  const plot = app.$('output-map');
  const highlight = (/** @type {boolean} */ on) => plot.classList.toggle('drop-target', on);
  plot.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();  // this is a drop target
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    highlight(true);
  });
  plot.addEventListener('dragleave', () => highlight(false));
  plot.addEventListener('drop', (event) => {
    event.preventDefault();
    event.stopPropagation();
    highlight(false);
    dropped(app, Array.from(event.dataTransfer?.files ?? []));
  });
  document.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();  // else the browser opens the file in place of the page
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'none';
  });
  document.addEventListener('drop', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    app.notify({ topic: 'csv', level: 'info', text: 'To load points, drop the CSV file on the output plot.' });
  });
}

/**
 * Load the one CSV file dropped, or say why not (notice topic 'csv').
 * @param {App} app @param {File[]} files
 */
function dropped(app, files) {
  const refuse = (/** @type {string} */ text) => app.notify({ topic: 'csv', level: 'error', text });
  if (files.length === 0) return;
  if (!app.presenting()) {
    app.notify({ topic: 'csv', level: 'info', text: 'Only the presenter changes the class’s data: fork it to use your own points.' });
    return;
  }
  if (files.length > 1) { refuse(`${files.length} files were dropped: drop one CSV file at a time.`); return; }
  const [file] = files;
  if (!looksLikeCsv(file)) {
    refuse(`${file.name} is not a CSV file: drop a .csv file whose first line is x1,x2,label.`);
    return;
  }
  if (app.store.data) loadCsv(app, file);
}
