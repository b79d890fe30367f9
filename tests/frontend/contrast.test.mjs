// WCAG 2 contrast of the colours text and chart lines use, against their backgrounds, in
// normal and projector mode: the page's CSS custom properties (frontend/styles.css) and the
// canvas palette (frontend/render/palette.js, charts.js). Text needs 4.5:1, large text, chart
// lines and controls' borders 3:1. The weights' and the gradients' diverging pairs stay
// apart for red–green colour-blind eyes (Viénot–Brettel–Mollon simulation).
//   node --test tests/frontend/contrast.test.mjs   (also run by tests/frontend/test_contrast_js.py)
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { NORMAL, PROJECTOR } from '../../frontend/render/palette.js';
import { layerColors } from '../../frontend/render/charts.js';
import { usePalette } from '../../frontend/render/palette.js';

/** @param {string} color  #rgb, #rrggbb or rgb(r,g,b) @returns {number[]} 0…255 */
export function rgb(color) {
  const text = color.trim();
  const call = text.match(/^rgba?\(([^)]+)\)$/);
  if (call) return call[1].split(',').slice(0, 3).map(Number);
  const hex = text.replace('#', '');
  const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex;
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16));
}

/** Relative luminance (WCAG 2). @param {number[]} c */
const luminance = (c) => {
  const [r, g, b] = c.map((v) => { const s = v / 255; return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};

/** (L1 + 0.05) / (L2 + 0.05), the lighter over the darker. @param {string | number[]} a @param {string | number[]} b */
export function contrast(a, b) {
  const [la, lb] = [a, b].map((c) => luminance(typeof c === 'string' ? rgb(c) : c));
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** The `--name: #hex` declarations of the first CSS block whose selector is `selector`. */
function customProperties(css, selector) {
  const start = css.indexOf(`${selector} {`);
  assert.ok(start >= 0, `no "${selector}" block in styles.css`);
  const block = css.slice(start, css.indexOf('}', start));
  return Object.fromEntries([...block.matchAll(/--([\w-]+):\s*(#[0-9a-fA-F]{3,6})\b/g)].map((m) => [m[1], m[2]]));
}

const css = readFileSync(new URL('../../frontend/styles.css', import.meta.url), 'utf8');
const normal = customProperties(css, ':root');
const projector = { ...normal, ...customProperties(css, 'body.projector') };

// [text colour, background, what] — text on the page (4.5:1)
const TEXT_PAIRS = [
  ['ink', 'panel', 'text'], ['ink', 'bg', 'text on the page background'],
  ['muted', 'panel', 'labels, hints, axes'], ['muted', 'bg', 'labels on the page background'],
  ['muted', 'faint-fill', 'a phase that has not run'], ['accent', 'panel', 'links, the viewer badge'],
  ['accent', 'accent-soft', 'the selected tab, a phase that ran'], ['danger', 'panel', 'errors'],
  ['positive', 'panel', 'positive numbers'], ['negative', 'panel', 'negative numbers'],
];

for (const [mode, vars] of [['normal', normal], ['projector', projector]]) {
  test(`${mode} mode: page text meets 4.5:1 against its background`, () => {
    for (const [fg, bg, what] of TEXT_PAIRS) {
      const ratio = contrast(vars[fg], vars[bg]);
      assert.ok(ratio >= 4.5, `${what}: --${fg} ${vars[fg]} on --${bg} ${vars[bg]} is ${ratio.toFixed(2)}:1`);
    }
    const onAccent = contrast('#ffffff', vars.accent);
    assert.ok(onAccent >= 4.5, `white on --accent (play, primary buttons, the running phase): ${onAccent.toFixed(2)}:1`);
  });

  test(`${mode} mode: form controls' borders meet 3:1`, () => {
    const ratio = contrast(vars['control-line'], vars.panel);
    assert.ok(ratio >= 3, `--control-line ${vars['control-line']}: ${ratio.toFixed(2)}:1`);
  });
}

test('banners and the class card: their text meets 4.5:1 on their fills', () => {
  for (const [fg, bg] of [['#7f1d1d', '#fdecea'], ['#6b3d00', '#fff4e0'], ['#3b1d80', normal['accent-soft']]]) {
    assert.ok(contrast(fg, bg) >= 4.5, `${fg} on ${bg}: ${contrast(fg, bg).toFixed(2)}:1`);
  }
  assert.match(css, /\.banner \{[^}]*color: #7f1d1d/);
  assert.match(css, /\.banner\.saturated \{[^}]*color: #6b3d00/);
});

for (const [mode, p] of [['normal', NORMAL], ['projector', PROJECTOR]]) {
  test(`${mode} palette: the canvas text meets 4.5:1 and the chart lines 3:1 on the background`, () => {
    for (const name of ['ink', 'muted', 'accent', 'train', 'overshoot']) {
      const ratio = contrast(p[name], p.background);
      assert.ok(ratio >= 4.5, `${name} ${p[name]}: ${ratio.toFixed(2)}:1`);
    }
    const line = contrast(p.test, p.background);
    assert.ok(line >= 3, `test line ${p.test}: ${line.toFixed(2)}:1`);
    usePalette(mode === 'projector');
    for (const count of [1, 2, 3, 5]) {
      for (const color of layerColors(count)) {
        assert.ok(contrast(color, p.background) >= 3, `${count} layers: ${color} is ${contrast(color, p.background).toFixed(2)}:1`);
      }
    }
    usePalette(false);
    for (const name of ['positive', 'negative', 'gradientPositive', 'gradientNegative']) {
      const ratio = contrast(p[name], p.background);
      assert.ok(ratio >= 3, `${name} (edges, numbers on the diagram) ${p[name]}: ${ratio.toFixed(2)}:1`);
    }
  });
}

// Viénot, Brettel & Mollon (1999): protanope and deuteranope views, in linear RGB; the
// distance of two colours as seen is their CIELAB ΔE (D65). ΔE ≥ 40: plainly different.
const SIMULATIONS = {
  protan: [[0.11238, 0.88762, 0], [0.11238, 0.88762, 0], [0.00401, -0.00401, 1]],
  deutan: [[0.29275, 0.70725, 0], [0.29275, 0.70725, 0], [-0.02234, 0.02234, 1]],
};
const linear = (c) => c.map((v) => { const s = v / 255; return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; });

/** CIELAB of a linear RGB colour. @param {number[]} c */
function lab([r, g, b]) {
  const xyz = [0.4124 * r + 0.3576 * g + 0.1805 * b, 0.2126 * r + 0.7152 * g + 0.0722 * b, 0.0193 * r + 0.1192 * g + 0.9505 * b];
  const f = (t) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const [fx, fy, fz] = [xyz[0] / 0.95047, xyz[1], xyz[2] / 1.08883].map(f);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** ΔE of two colours (0…255 RGB) as a protanope or deuteranope sees them. */
export function seenApart(a, b, matrix) {
  const see = (c) => lab(matrix.map((row) => row.reduce((sum, k, i) => sum + k * linear(c)[i], 0)));
  const [x, y] = [see(a), see(b)];
  return Math.hypot(...x.map((v, i) => v - y[i]));
}

for (const [mode, p] of [['normal', NORMAL], ['projector', PROJECTOR]]) {
  test(`${mode} palette: the diverging pairs stay apart for colour-blind eyes`, () => {
    for (const [kind, matrix] of Object.entries(SIMULATIONS)) {
      for (const [a, b, what] of [[p.negative, p.positive, 'weights'], [p.gradientNegative, p.gradientPositive, 'gradients'],
        [rgb(p.classes[0]), rgb(p.classes[1]), 'classes 0 and 1'], [rgb(p.train), rgb(p.accent), 'loss line and η marks']]) {
        assert.ok(seenApart(a, b, matrix) >= 40, `${what} under ${kind}: ΔE ${seenApart(a, b, matrix).toFixed(1)}`);
      }
    }
  });
}

test('the colour-blind check bites: red against green is one colour to a deuteranope', () => {
  assert.ok(seenApart([200, 30, 30], [30, 160, 30], SIMULATIONS.deutan) < 20);
  assert.ok(seenApart([200, 30, 30], [30, 160, 30], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]) > 100);
});

test('the contrast formula: black on white is 21:1, a colour on itself 1:1', () => {
  assert.equal(contrast('#000', '#fff'), 21);
  assert.equal(contrast('#7b3fe4', '#7b3fe4'), 1);
  assert.ok(Math.abs(contrast('#767676', '#ffffff') - 4.54) < 0.01);
});
