// @ts-check
/**
 * HTML pieces the inspector's sections share: numbers with their sign, math with italic
 * variables, test hooks that carry the exact value behind a formatted number. Pure string
 * functions (no DOM), so node's test runner imports them directly.
 *
 * @module render/inspector/html
 */

import { formatNumber, formatSigned } from '../format.js';

/** @param {string} text */
export function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A number span coloured by its sign; `signed` adds a leading "+" to positives, `paren`
 * wraps it in parentheses (a factor of a product).
 * @param {number} x @param {{digits?: number, signed?: boolean, paren?: boolean}} [options]
 */
export function num(x, options = {}) {
  const digits = options.digits ?? 4;
  const text = options.signed ? formatSigned(x, digits) : formatNumber(x, digits);
  const sign = Number.isFinite(x) && x !== 0 ? (x < 0 ? ' neg' : ' pos') : '';
  const body = `<span class="num${sign}">${text}</span>`;
  return options.paren ? `(${body})` : body;
}

/** A factor of a product: the number in parentheses. @param {number} x @param {number} [digits] */
export const factor = (x, digits = 4) => num(x, { paren: true, digits });

/**
 * ` data-testid="inspector-<id>" data-value="<raw number>"` (and any further data-*
 * attributes) for tests that read the exact value behind a formatted number.
 * @param {string} id @param {number} [raw] @param {Record<string, string | number | boolean>} [extra]
 */
export function testId(id, raw, extra = {}) {
  const value = raw === undefined ? '' : ` data-value="${String(raw)}"`;
  const more = Object.entries(extra).map(([key, v]) => ` data-${key}="${escapeHtml(String(v))}"`).join('');
  return ` data-testid="inspector-${id}"${value}${more}`;
}

/** A value whose phase has not run yet, in words. @param {string} text */
export const pending = (text) => `<span class="insp-pending">${escapeHtml(text)}</span>`;

/** ∂top/∂bottom with italic letters (HTML allowed in both). @param {string} top @param {string} bottom */
export const dd = (top, bottom) => `∂${top}/∂${bottom}`;

/** An italic variable with an optional subscript. @param {string} name @param {string | number} [index] */
export const v = (name, index) => `<i>${name}</i>${index === undefined ? '' : `<sub>${index}</sub>`}`;

/** @param {string} html */
export const math = (html) => `<span class="math">${html}</span>`;

/** One point's share of the batch gradient: (1/B)·∂ℓ_b/∂θ. @param {number | string} point @param {string} param */
export const share = (point, param) => `(1/${v('B')})·${dd(v('ℓ', point), v(param))}`;

/** A section's small-caps heading. @param {string} html */
export const heading = (html) => `<div class="insp-label">${html}</div>`;

/** One equation line. @param {string} html @param {string} [attributes] */
export const line = (html, attributes = '') => `<div class="insp-eq"${attributes}>${html}</div>`;

/** A one-line explanation under an equation. @param {string} html */
export const note = (html) => `<div class="insp-note">${html}</div>`;

/** ✓ when two numbers agree, else the words given. @param {boolean} agree @param {string} words */
export const check = (agree, words) => (agree ? `<span class="insp-ok" title="${escapeHtml(words)}">✓</span>`
  : `<span class="insp-warn">${words}</span>`);

/** A section of the inspector. @param {string} name @param {string[]} parts */
export const section = (name, parts) => `<div class="insp-section insp-${name}">${parts.join('')}</div>`;

/**
 * A feature name as math HTML: x1 → x₁, x1_squared → x₁², x1_times_x2 → x₁x₂, sin_x1 → sin x₁.
 * @param {string} name
 */
export function featureHtml(name) {
  /** @param {string} axis */
  const x = (axis) => `<i>x</i><sub>${axis}</sub>`;
  const match = /^(?:(sin|cos)_)?x([12])(?:_(squared)|_times_x([12]))?$/.exec(name);
  if (!match) return escapeHtml(name);
  const [, fn, axis, squared, other] = match;
  let html = x(axis);
  if (squared) html += '<sup>2</sup>';
  if (other) html += x(other);
  if (fn) html = `${fn} ${html}`;
  return math(html);
}

/** Single-letter variables of the catalogue's formulas (with a hat: m̂), set in italics. */
const VARIABLE = /(?<![A-Za-z])([abgmvwyzBLt]\u0302?)(?![A-Za-z])/g;

/**
 * A catalogue formula (plain text such as "1 − a²") as HTML with italic variables.
 * @param {string} text @returns {string}
 */
export function formulaHtml(text) {
  return escapeHtml(text).replace(VARIABLE, '<i>$1</i>');
}
