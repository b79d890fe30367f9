// @ts-check
/**
 * The network diagram's nodes (render/network.js): each input feature, hidden neuron and
 * output as a rounded square showing its own map — painted through the map codes' colour
 * table (render/color_lut.js), the features' and hidden neurons' maps side by side into one
 * atlas canvas, the outputs' (larger) maps into a canvas each, every map repainted only when
 * it or the palette changed — with its bias as a small square and the features' labels.
 *
 * @module render/network_nodes
 */

import { lossOf, signedScale } from '../catalogue.js';
import { mapAt } from '../protocol.js';
import { roundRect } from './canvas.js';
import { MapAtlas, MapPainter } from './color_lut.js';
import { diverging, palette, signColor } from './palette.js';

/** The plane the maps cover: [−EXTENT, EXTENT]² (the frame's map grids). */
const EXTENT = 6;

/** Draws the nodes; keeps each node's painted thumbnail. */
export class NodePainter {
  constructor() {
    /** @type {Map<string, {canvas: HTMLCanvasElement, painter: MapPainter, values: Float32Array | null, palette: unknown}>} the outputs' maps */
    this.thumbs = new Map();
    /** the features' and hidden neurons' maps (frame.thumbResolution) */
    this.atlas = new MapAtlas(document.createElement('canvas'));
  }

  /**
   * Every node's map, painted where it changed: where to draw it from (canvas and the
   * corner of its size × size pixels), by node; null for a node without a map.
   * @param {import('./network.js').Layout} layout @param {import('../protocol.js').Frame} frame
   * @param {import('../state.js').Store} store
   * @returns {({canvas: HTMLCanvasElement | OffscreenCanvas, x: number, y: number, size: number} | null)[][]}
   */
  maps(layout, frame, store) {
    const thumbs = layout.columns.slice(0, -1).reduce((sum, column) => sum + column.length, 0);
    this.atlas.reserve(thumbs, frame.thumbResolution, layout.key);
    const colours = palette();
    let enabledIndex = 0;
    const sources = layout.columns.map((column) => column.map((node) => {
      /** @type {Float32Array | null} */
      let values = null;
      if (node.kind === 'input') {
        if (node.enabled) values = mapAt(frame, 0, enabledIndex++);
      } else if (node.kind === 'hidden') {
        values = mapAt(frame, node.level, node.index);
      } else {
        const key = `${node.level}:${node.index}`;
        const size = frame.mainResolution;
        values = frame.outputMaps[node.index];
        return values ? { canvas: this.thumb(key, values, size, mapScale(node, store)), x: 0, y: 0, size } : null;
      }
      if (!values) return null;
      const scale = mapScale(node, store);
      const slot = this.atlas.map(`${node.level}:${node.index}`, values, (v) => diverging(scale(v)), colours);
      return { canvas: this.atlas.canvas, x: slot.x, y: slot.y, size: frame.thumbResolution };
    }));
    this.atlas.commit();
    return sources;
  }

  /**
   * Every node: its map (clipped to a rounded square, the focus point marked), its frame
   * (accent when selected), a feature's label, a neuron's bias; the column titles.
   * @param {CanvasRenderingContext2D} ctx @param {import('./network.js').Layout} layout
   * @param {import('../protocol.js').Frame} frame @param {import('../state.js').Store} store
   * @param {{label: string}[]} features @param {import('./phase_picture.js').PictureState} picture
   */
  draw(ctx, layout, frame, store, features, picture) {
    const p = palette();
    const focus = picture.focusMarked && frame.batch ? frame.batch[frame.focus] : null;
    const selection = store.serverState?.selection;
    const mapLevels = frame.layerSizes.length;
    const sources = this.maps(layout, frame, store);
    const offRoom = offFeatureRoom(layout.columns[0] ?? []);
    layout.columns.forEach((column, level) => column.forEach((node, i) => {
      const half = node.size / 2;
      const x = node.x - half;
      const y = node.y - half;
      const source = sources[level][i];
      ctx.save();
      roundRect(ctx, x, y, node.size, node.size, 5);
      ctx.fillStyle = node.enabled ? '#fff' : '#f1f2f4';
      ctx.fill();
      if (source) {
        ctx.clip();
        ctx.imageSmoothingEnabled = true;
        ctx.drawImage(source.canvas, source.x, source.y, source.size, source.size, x, y, node.size, node.size);
        if (focus) focusMark(ctx, x, y, node.size, focus);
      }
      ctx.restore();
      roundRect(ctx, x, y, node.size, node.size, 5);
      const chosen = selection && selection.source == null && selection.layer === node.level - 1
        && selection.neuron === node.index && node.kind !== 'input';
      ctx.lineWidth = (chosen ? 3 : 1) * p.lineScale;
      ctx.strokeStyle = chosen ? p.accent : node.enabled ? '#9aa3ad' : '#d5d9de';
      ctx.stroke();
      if (node.kind === 'input') {
        const label = features[node.index].label;
        ctx.fillStyle = node.enabled ? p.ink : p.muted;
        const size = store.ui.projector ? Math.max(18, Math.min(22, node.size * 0.5))
          : Math.max(12, Math.min(15, node.size * 0.42));
        // switched-off features packed tighter than their labels' type: no labels (they
        // would overlap); hovering one names it (the canvas's title)
        if (!node.enabled && offRoom < size) return;
        ctx.font = `${node.enabled ? 600 : 400} ${size}px system-ui, sans-serif`;
        ctx.textAlign = 'right';
        ctx.textBaseline = 'middle';
        ctx.fillText(label, x - 8, node.y);
      } else {
        drawBias(ctx, node, frame);
      }
    }));
    if (mapLevels < 2) return;
    ctx.fillStyle = p.muted;
    ctx.font = `${store.ui.projector ? 18 : 12}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'alphabetic';
    const last = layout.columns.length - 1;
    const names = layout.columns.map((_, level) => (level === 0 ? 'features' : level === last ? 'output'
      : `hidden ${level}`));
    // columns closer than their titles are wide (a phone following projector mode): short ones
    const room = Math.min(...layout.columns.slice(1).map((column, k) => column[0].x - layout.columns[k][0].x));
    const fits = Math.max(...names.map((name) => ctx.measureText(name).width)) + 8 <= room;
    const shown = fits ? names : names.map((name, level) => (level === 0 ? 'in' : level === last ? 'out' : `h${level}`));
    layout.columns.forEach((column, level) => ctx.fillText(shown[level], column[0].x, 14));
  }

  /** The painted thumbnail of one node (re-painted only when its data changed). */
  thumb(key, values, resolution, scale) {
    let entry = this.thumbs.get(key);
    if (!entry) {
      const canvas = document.createElement('canvas');
      entry = { canvas, painter: new MapPainter(canvas), values: null, palette: null };
      this.thumbs.set(key, entry);
    }
    if (entry.values !== values || entry.palette !== palette()) {
      entry.painter.paint(values, resolution, (/** @type {number} */ v) => diverging(scale(v)));
      entry.values = values;
      entry.palette = palette();
    }
    return entry.canvas;
  }
}

/** A small square at the node's lower left: colour = sign of b, size = |b|. */
function drawBias(ctx, node, frame) {
  const layer = frame.layers[node.level - 1];
  const b = layer.bias[node.index];
  const side = Math.max(5, Math.min(node.size * 0.32, 4 + 6 * Math.min(1, Math.abs(b))));
  const x = node.x - node.size / 2 - side * 0.45;
  const y = node.y + node.size / 2 - side * 0.55;
  ctx.fillStyle = signColor(b, 0.95);
  ctx.fillRect(x, y, side, side);
  ctx.strokeStyle = '#ffffff';
  ctx.lineWidth = 1;
  ctx.strokeRect(x, y, side, side);
}


/**
 * The focus point's place on a neuron's map (the map's colour there is its activation).
 * @param {CanvasRenderingContext2D} ctx @param {number} x @param {number} y  the map's corner
 * @param {number} size @param {{x1: number, x2: number}} point
 */
function focusMark(ctx, x, y, size, point) {
  const px = x + ((point.x1 + EXTENT) / (2 * EXTENT)) * size;
  const py = y + ((EXTENT - point.x2) / (2 * EXTENT)) * size;
  const radius = Math.max(3, size * 0.07);
  ctx.beginPath();
  ctx.arc(px, py, radius, 0, 2 * Math.PI);
  ctx.lineWidth = 3;
  ctx.strokeStyle = '#fff';
  ctx.stroke();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = palette().accent;
  ctx.stroke();
}

/**
 * The least distance between the centres of two switched-off features next to each other
 * (Infinity without two such).
 * @param {import('./network.js').NodeBox[]} features  the first column
 */
function offFeatureRoom(features) {
  let least = Infinity;
  for (let i = 1; i < features.length; i += 1) {
    if (!features[i].enabled && !features[i - 1].enabled) least = Math.min(least, features[i].y - features[i - 1].y);
  }
  return least;
}

/**
 * How a node's raw values map to [−1, 1] for colouring: inputs over the plane's extent,
 * outputs over their loss's value range (catalogue), hidden units squashed by tanh.
 */
function mapScale(node, store) {
  if (node.kind === 'input') {
    const extent = store.options?.limits?.coordinate?.[1] ?? 6;
    return (/** @type {number} */ v) => v / extent;
  }
  if (node.kind === 'output') return signedScale(lossOf(store.options, store.config)?.output_range);
  return (/** @type {number} */ v) => Math.tanh(v);
}
