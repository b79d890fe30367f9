// @ts-check
/**
 * The user's own points: parsing a CSV file (x1,x2,label with a header) with a clear error
 * for every bad row, and editing a point list by clicks. Nothing here trains anything: the
 * points go to the server as a `custom` data set, which validates them again.
 */

/**
 * The limits that apply to points, from GET /api/options: ``custom_points`` [min, max],
 * ``coordinate`` [low, high] for x1 and x2, ``regression_target`` [low, high].
 * @typedef {{custom_points: number[], coordinate: number[], regression_target: number[]}} PointLimits
 * @typedef {{problem: string, nClasses: number, limits: PointLimits}} Problem
 * @typedef {{points: number[][], errors: string[]}} Parsed
 */

/**
 * Parse CSV text. Either every row is good (``errors`` empty) or nothing is returned.
 * @param {string} text
 * @param {Problem} problem
 * @returns {Parsed}
 */
export function parseCsv(text, { problem, nClasses, limits }) {
  const [low, high] = limits.coordinate;
  const most = limits.custom_points[1];
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
    if (x1 < low || x1 > high || x2 < low || x2 > high) {
      errors.push(`row ${row}: x1 and x2 must lie between ${signed(low)} and ${high}`);
      continue;
    }
    const labelError = checkLabel(label, problem, nClasses, limits.regression_target);
    if (labelError) { errors.push(`row ${row}: ${labelError}`); continue; }
    points.push([x1, x2, label]);
  }
  if (points.length + errors.length > most) {
    errors.unshift(`too many points: at most ${most}, the file has ${points.length + errors.length}`);
  }
  if (!errors.length && !points.length) errors.push('the file has no points');
  return errors.length ? { points: [], errors } : { points, errors };
}

/** @param {number} value @returns {string} with a true minus sign */
const signed = (value) => String(value).replace('-', '−');

/**
 * Why a label does not fit the problem, or null.
 * @param {number} label @param {string} problem @param {number} nClasses
 * @param {number[]} targets  [low, high] of a regression target
 */
export function checkLabel(label, problem, nClasses, targets) {
  if (problem === 'regression') {
    const [low, high] = targets;
    return label >= low && label <= high ? null
      : `the target ${label} must lie between ${signed(low)} and ${high}`;
  }
  if (!Number.isInteger(label) || label < 0 || label >= nClasses) {
    return `label ${label} is not a class (0 to ${nClasses - 1})`;
  }
  return null;
}

/**
 * The point list with one point added (at most ``limits.custom_points[1]``, the oldest
 * dropped), its coordinates rounded to 0.01 inside ``limits.coordinate``.
 * @param {number[][]} points @param {number} x1 @param {number} x2 @param {number} label
 * @param {PointLimits} limits
 */
export function addPoint(points, x1, x2, label, limits) {
  const [low, high] = limits.coordinate;
  const clamp = (/** @type {number} */ v) => Math.max(low, Math.min(high, Math.round(v * 100) / 100));
  return [...points, [clamp(x1), clamp(x2), label]].slice(-limits.custom_points[1]);
}

/**
 * The point list without the point nearest to (x1, x2), if one lies within ``radius`` (the
 * server's, GET /api/options `point_edits.erase_radius`).
 * @param {number[][]} points @param {number} x1 @param {number} x2 @param {number} radius
 */
export function erasePoint(points, x1, x2, radius) {
  let best = -1;
  let bestDistance = radius;
  points.forEach(([a, b], index) => {
    const distance = Math.hypot(a - x1, b - x2);
    if (distance < bestDistance) { bestDistance = distance; best = index; }
  });
  return best < 0 ? points : points.filter((_, index) => index !== best);
}
