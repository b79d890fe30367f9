// The network diagram's edge layer: which rectangles a new picture repaints and which edges
// are stroked again there (render/network_edges.js). No DOM needed:
//   node --test tests/frontend/network_edges.test.mjs
import test from 'node:test';
import assert from 'node:assert/strict';

import { changedRects, edgesInRects, strokeWidthOf } from '../../frontend/render/network_edges.js';

/** An edge of layer `level` from (x0, y0) to (x1, y1), horizontal tangents. */
function edge(level, x0, y0, x1, y1) {
  const mid = (x1 - x0) / 2;
  return { level, neuron: 0, source: 0, points: [[x0, y0], [x1, y1]], length: x1 - x0,
    bezier: [x0, y0, x0 + mid, y0, x1 - mid, y1, x1, y1] };
}

/** Looks for `n` edges: one colour, width 0.5, uncovered. */
function looks(n) {
  return { colours: Array(n).fill('rgba(0,114,178,0.8)'), widths: new Float64Array(n).fill(0.5),
    covers: new Float64Array(n), chosen: null };
}

const edges = [edge(0, 10, 10, 100, 50), edge(0, 10, 50, 100, 10), edge(1, 140, 20, 230, 80)];

test('strokeWidthOf rounds to quarter pixels, at least one quarter', () => {
  assert.equal(strokeWidthOf(0.1), 0.25);
  assert.equal(strokeWidthOf(0.6), 0.5);
  assert.equal(strokeWidthOf(1.9), 2);
});

test('changedRects: nothing painted before means repaint everything (null)', () => {
  assert.equal(changedRects(edges, null, looks(3), 1, 1, 400, 300), null);
});

test('changedRects: the same looks need no repaint', () => {
  assert.deepEqual(changedRects(edges, looks(3), looks(3), 1, 1, 400, 300), []);
});

test('changedRects: a changed edge gives its box grown by half its wider stroke and 2 px, in whole device px', () => {
  const after = looks(3);
  after.widths[2] = 1.5;
  // half of 1.5 + 2 = 2.75 px around x 140…230, y 20…80; device scale 2
  assert.deepEqual(changedRects(edges, looks(3), after, 2, 2, 800, 600),
    [[Math.floor(137.25 * 2), Math.floor(17.25 * 2), Math.ceil(232.75 * 2), Math.ceil(82.75 * 2)]]);
});

test('changedRects: a change repaints its whole layer of edges (every edge of it, so that no edge crosses the sides)', () => {
  const after = looks(3);
  after.colours[0] = 'rgba(213,94,0,0.8)';
  // edge 0 changed; edge 1 of the same layer did not, and is inside all the same
  assert.deepEqual(changedRects(edges, looks(3), after, 1, 1, 400, 300), [[7, 7, 103, 53]]);
  after.covers[2] = 0.5;
  assert.deepEqual(changedRects(edges, looks(3), after, 1, 1, 400, 300), [[7, 7, 103, 53], [137, 17, 233, 83]]);
});

test('changedRects: a repaint of more than about a third of the picture is a whole repaint', () => {
  const after = looks(3);
  after.widths[0] = 1;
  assert.equal(changedRects(edges, looks(3), after, 1, 1, 100, 60), null);
});

test('changedRects: a changed layer with a stroke shared by edges wider than a device px is a whole repaint', () => {
  const before = looks(3);
  before.widths[1] = 2;  // edges 0 and 1 share a layer; edge 1 is in a shared 2 px stroke
  const after = { ...before, colours: before.colours.slice() };
  after.colours[0] = 'rgba(213,94,0,0.8)';
  assert.equal(changedRects(edges, before, after, 1, 1, 400, 300), null);
  // at device scale 2 the same edge is 4 px: a stroke of its own, so a part repaint will do
  assert.equal(changedRects(edges, before, after, 2, 2, 800, 600)?.length, 1);
});

test('edgesInRects: every edge that reaches into a rectangle, none that does not, none fully covered', () => {
  const shown = looks(3);
  assert.deepEqual(Array.from(edgesInRects(edges, shown, [[50, 25, 60, 35]], 1, 1, 400, 300)), [1, 1, 0]);
  shown.covers[1] = 1;
  assert.deepEqual(Array.from(edgesInRects(edges, shown, [[50, 25, 60, 35]], 1, 1, 400, 300)), [1, 0, 0]);
  assert.deepEqual(Array.from(edgesInRects(edges, shown, [[300, 200, 320, 220]], 1, 1, 400, 300)), [0, 0, 0]);
});
