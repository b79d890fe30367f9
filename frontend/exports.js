// @ts-check
/**
 * Export and import: a PNG of the view, a CSV of the loss history, the whole run as JSON
 * (from the server's snapshot), and importing such a JSON into a new session.
 */

const HISTORY_COLUMNS = ['step', 'epoch', 'train_loss', 'test_loss', 'train_accuracy',
  'test_accuracy', 'batch_loss'];

/**
 * CSV text of the history rows (NaN as an empty cell).
 * @param {number[][]} rows
 */
export function historyCsv(rows) {
  const lines = [HISTORY_COLUMNS.join(',')];
  for (const row of rows) {
    lines.push(row.map((v) => (Number.isFinite(v) ? String(v) : '')).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Offer ``data`` as a file download.
 * @param {Blob} data
 * @param {string} name
 */
export function download(data, name) {
  const url = URL.createObjectURL(data);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * One PNG of the network, the output plot and the loss chart side by side.
 * @param {HTMLCanvasElement[]} canvases
 * @returns {Promise<Blob>}
 */
export function composePng(canvases) {
  const gap = 16;
  const height = Math.max(...canvases.map((c) => c.height));
  const width = canvases.reduce((sum, c) => sum + c.width, 0) + gap * (canvases.length + 1);
  const sheet = document.createElement('canvas');
  sheet.width = width;
  sheet.height = height + 2 * gap;
  const ctx = /** @type {CanvasRenderingContext2D} */ (sheet.getContext('2d'));
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, sheet.width, sheet.height);
  let x = gap;
  for (const canvas of canvases) {
    ctx.drawImage(canvas, x, gap);
    x += canvas.width + gap;
  }
  return new Promise((resolve, reject) => sheet.toBlob(
    (blob) => (blob ? resolve(blob) : reject(new Error('could not draw the PNG'))), 'image/png'));
}

/**
 * The whole run as the server exports it; ``credential`` is the presenter's token or a
 * viewer's member token (the server exports a run to nobody else).
 * @param {string} sessionId
 * @param {string | null} credential
 */
export async function fetchSnapshot(sessionId, credential) {
  const headers = credential ? { authorization: `Bearer ${credential}` } : undefined;
  const response = await fetch(`/api/sessions/${encodeURIComponent(sessionId)}/snapshot`,
    { headers });
  if (!response.ok) throw new Error(`export failed: ${response.status}`);
  return response.text();
}

/**
 * Create a session from an exported JSON file; resolves with the server's answer, or
 * rejects with the server's message naming the bad field.
 * @param {File} file
 * @returns {Promise<{id: string, presenter_token: string}>}
 */
export async function importRun(file) {
  const text = await file.text();
  try {
    JSON.parse(text);
  } catch (error) {
    throw new Error(`${file.name} is not JSON: ${error}`);
  }
  // The run goes to the server as the file wrote it: parsed and written again by the page,
  // its generator state (integers of 128 bits) would lose digits and not import.
  const response = await fetch('/api/sessions', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: `{"snapshot": ${text}}`,
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = answer.detail ?? {};
    const where = typeof detail === 'object' && detail.field ? `${detail.field}: ` : '';
    const message = typeof detail === 'object' ? detail.message ?? JSON.stringify(detail) : detail;
    throw new Error(`could not import ${file.name}: ${where}${message}`);
  }
  return answer;
}
