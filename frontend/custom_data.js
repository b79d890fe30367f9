// @ts-check
/**
 * The user's own points: parsing a CSV file (x1,x2,label with a header) with a clear error
 * for every bad row, and editing a point list by clicks. Nothing here trains anything: the
 * points go to the server as a `custom` data set, which validates them again.
 */

export const MAX_POINTS = 2000;
export const EXTENT = 6;

/**
 * @typedef {{problem: string, nClasses: number}} Problem
 * @typedef {{points: number[][], errors: string[]}} Parsed
 */

/**
 * Parse CSV text. Either every row is good (``errors`` empty) or nothing is returned.
 * @param {string} text
 * @param {Problem} problem
 * @returns {Parsed}
 */
export function parseCsv(text, { problem, nClasses }) {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const errors = [];
  const header = (lines[0] ?? '').split(',').map((cell) => cell.trim().toLowerCase());
  if (header.join(',') !== 'x1,x2,label') {
    return { points: [], errors: ['row 1: the first line must be the header x1,x2,label'] };
  }
  const points = [];
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index].trim();
    if (line === '') continue;
    const row = index + 1;
    const cells = line.split(',').map((cell) => cell.trim());
    if (cells.length !== 3) { errors.push(`row ${row}: expected 3 values, got ${cells.length}`); continue; }
    const values = cells.map((cell) => (cell === '' ? NaN : Number(cell)));
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) { errors.push(`row ${row}: ${['x1', 'x2', 'label'][bad]} “${cells[bad].slice(0, 20)}” is not a number`); continue; }
    const [x1, x2, label] = values;
    if (Math.abs(x1) > EXTENT || Math.abs(x2) > EXTENT) {
      errors.push(`row ${row}: x1 and x2 must lie between −${EXTENT} and ${EXTENT}`);
      continue;
    }
    const labelError = checkLabel(label, problem, nClasses);
    if (labelError) { errors.push(`row ${row}: ${labelError}`); continue; }
    points.push([x1, x2, label]);
  }
  if (points.length + errors.length > MAX_POINTS) {
    errors.unshift(`too many points: at most ${MAX_POINTS}, the file has ${points.length + errors.length}`);
  }
  if (!errors.length && !points.length) errors.push('the file has no points');
  return errors.length ? { points: [], errors } : { points, errors };
}

/**
 * Why a label does not fit the problem, or null.
 * @param {number} label @param {string} problem @param {number} nClasses
 */
export function checkLabel(label, problem, nClasses) {
  if (problem === 'regression') {
    return Math.abs(label) <= 10 ? null : `the target ${label} must lie between −10 and 10`;
  }
  if (!Number.isInteger(label) || label < 0 || label >= nClasses) {
    return `label ${label} is not a class (0 to ${nClasses - 1})`;
  }
  return null;
}

/**
 * The point list with one point added (at most MAX_POINTS).
 * @param {number[][]} points @param {number} x1 @param {number} x2 @param {number} label
 */
export function addPoint(points, x1, x2, label) {
  const clamp = (/** @type {number} */ v) => Math.max(-EXTENT, Math.min(EXTENT, Math.round(v * 100) / 100));
  return [...points, [clamp(x1), clamp(x2), label]].slice(-MAX_POINTS);
}

/**
 * The point list without the point nearest to (x1, x2), if one lies within ``radius``.
 * @param {number[][]} points @param {number} x1 @param {number} x2 @param {number} [radius]
 */
export function erasePoint(points, x1, x2, radius = 0.6) {
  let best = -1;
  let bestDistance = radius;
  points.forEach(([a, b], index) => {
    const distance = Math.hypot(a - x1, b - x2);
    if (distance < bestDistance) { bestDistance = distance; best = index; }
  });
  return best < 0 ? points : points.filter((_, index) => index !== best);
}
