// @ts-check
/**
 * Small pure helpers shared by the views: compact number formatting with a real minus sign
 * (U+2212), axis tick labels (the charts' tick positions come from uPlot), and soft hyphens
 * in long words. No DOM access, so node's test runner can import this module directly.
 *
 * @module render/format
 */

/** The typographic minus sign; reads better than a hyphen next to digits. */
export const MINUS = '\u2212';

const SUPERSCRIPTS = /** @type {Record<string, string>} */ ({
  0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹', '-': '⁻', [MINUS]: '⁻',
});

/**
 * Remove trailing zeros (and a dangling point) from a plain decimal string: "1.200" → "1.2".
 * @param {string} text
 */
function trimZeros(text) {
  if (!text.includes('.')) return text;
  return text.replace(/0+$/, '').replace(/\.$/, '');
}

/**
 * A compact, human-friendly number: `digits` significant digits, trailing zeros dropped,
 * an exponent for very small or very large magnitudes (`1.2e−5`, `3.4e7`) and a real minus
 * sign. NaN (and null/undefined) → '—', ±Infinity → '∞' / '−∞'.
 *
 * Examples: 0.123456 → '0.123', 12.5 → '12.5', 1234.5 → '1235', −0.5 → '−0.5',
 * 0.0000123 → '1.23e−5', 2.5e7 → '2.5e7'.
 *
 * @param {number | null | undefined} x
 * @param {number} [digits]  significant digits, 1 … 15 (default 3)
 * @returns {string}
 */
export function formatNumber(x, digits = 3) {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (x === Infinity) return '∞';
  if (x === -Infinity) return `${MINUS}∞`;
  if (x === 0) return '0';
  const d = Math.max(1, Math.min(15, Math.round(digits)));
  const sign = x < 0 ? MINUS : '';
  const a = Math.abs(x);
  let body;
  if (a >= 1e-3 && a < 1e5) {
    if (a >= 10 ** d) {
      body = String(Math.round(a));
    } else {
      body = a.toPrecision(d);
      // 999.96.toPrecision(3) is '1.00e+3': fall back to the plain number
      body = body.includes('e') ? String(Number(body)) : trimZeros(body);
    }
  } else {
    const [mantissa, exponent] = a.toExponential(d - 1).split('e');
    const e = Number(exponent);
    body = `${trimZeros(mantissa)}e${e < 0 ? MINUS : ''}${Math.abs(e)}`;
  }
  return sign + body;
}

/**
 * Like {@link formatNumber} but always with a sign: '+0.12', '−0.12', '+0', '+∞'.
 * @param {number | null | undefined} x
 * @param {number} [digits]
 * @returns {string}
 */
export function formatSigned(x, digits = 3) {
  const text = formatNumber(x, digits);
  if (text === '—' || text.startsWith(MINUS)) return text;
  return `+${text}`;
}

/**
 * A percentage from a fraction 0 … 1: 0.9734 → '97.3 %' (narrow no-break space; NaN → '—').
 * @param {number | null | undefined} fraction
 * @param {number} [decimals]
 * @returns {string}
 */
export function formatPercent(fraction, decimals = 1) {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  const value = (fraction * 100).toFixed(decimals);
  return `${value.replace('-', MINUS)}\u202f%`;  // narrow no-break space
}

/**
 * Unicode superscript digits for an integer: −3 → '⁻³'.
 * @param {number} n
 */
export function superscript(n) {
  return String(Math.round(n)).split('').map((c) => SUPERSCRIPTS[c] ?? c).join('');
}

/**
 * Number of decimals needed to print multiples of `step` exactly (0.25 → 2, 5 → 0).
 * @param {number} step
 */
export function stepDecimals(step) {
  if (!(step > 0) || !Number.isFinite(step)) return 0;
  for (let d = 0; d <= 12; d += 1) {
    const scaled = step * 10 ** d;
    if (Math.abs(Math.round(scaled) - scaled) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return 12;
}

/**
 * A tick label for a linear axis whose ticks are `step` apart: exact decimals, a real minus
 * sign, and thousands as 'k' for big round values (12000 → '12k').
 * @param {number} value
 * @param {number} step
 * @returns {string}
 */
export function formatTick(value, step) {
  if (!Number.isFinite(value)) return formatNumber(value);
  if (value === 0) return '0';
  if (Math.abs(value) >= 1e4 && step >= 1000 && value % 1000 === 0) {
    return `${value < 0 ? MINUS : ''}${Math.abs(value) / 1000}k`;
  }
  if (Math.abs(value) >= 1e-4 && Math.abs(value) < 1e7) {
    return value.toFixed(stepDecimals(step)).replace('-', MINUS);
  }
  return formatNumber(value, 2);
}

/**
 * A tick label for a log axis: plain numbers near 1 (0.01 … 1000), '10⁻⁵' style for other
 * powers of ten (or for every power when `powers` is true, so one axis reads consistently),
 * compact numbers for 2× and 5× ticks.
 * @param {number} value  > 0
 * @param {boolean} [powers]  write every power of ten as 10ⁿ
 * @returns {string}
 */
export function formatLogTick(value, powers = false) {
  if (!(value > 0) || !Number.isFinite(value)) return formatNumber(value);
  const k = Math.round(Math.log10(value));
  const isPower = Math.abs(value / Number(`1e${k}`) - 1) < 1e-9;
  if (isPower && (powers || k < -2 || k > 3)) return `10${superscript(k)}`;
  return formatNumber(value, 2);
}

/** Where the long words the page shows in narrow boxes may break, with a hyphen (a sweep
 * tile in projector type, a data-set tile at 1024 px): Chromium on Linux does not hyphenate
 * by itself. */
const SOFT_BREAKS = /** @type {[RegExp, string][]} */ ([
  [/(under|over)(shoot)/g, '$1\u00ad$2'], [/(diver)(gence)/g, '$1\u00ad$2'],
  [/(Gauss)(ian)/g, '$1\u00ad$2'], [/(Regres)(sion)/g, '$1\u00ad$2'],
]);

/** `text` with soft hyphens in its long words. @param {string} text */
export function softHyphens(text) {
  return SOFT_BREAKS.reduce((out, [word, broken]) => out.replace(word, broken), text);
}
