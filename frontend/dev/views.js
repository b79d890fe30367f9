// @ts-check
/**
 * Dev-only demo of the output plot, the charts (and a sweep's loss curves) and the inspector
 * on a synthetic store. Open /dev/views.html on a running server (it reads the catalogue from
 * /api/options). URL switches:
 *   ?projector=1            projector palette and type
 *   ?problem=multiclass     3-class softmax net (also: regression)
 *   ?loss=squared_error     binary tanh output
 *   ?discretize=1 ?test=1 ?log=1   the ui toggles
 *   ?sel=edge|neuron|output|none   what is selected (default edge)
 *   ?phase=forward|loss|backward|update   how far the current step got (default update)
 *   ?optimizer=momentum|adam       ?reg=l2   ?batch=64 (more points than the 32 shown)
 *   ?empty=1                before the first frame   ?tiny=1  smallest view sizes
 */

import { usePalette } from '../render/palette.js';
import { OutputPlot } from '../render/output_plot.js';
import { LossChart, AccuracyChart, GradientNormChart, UpdateRatioChart } from '../render/charts.js';
import { SweepLossChart } from '../render/sweep.js';
import { createStore } from '../state.js';
import { renderInspector } from '../render/inspector.js';

const params = new URLSearchParams(location.search);
const flag = (/** @type {string} */ name) => params.get(name) === '1';
const projector = flag('projector');
usePalette(projector);
document.body.classList.toggle('projector', projector);
document.body.classList.toggle('tiny', flag('tiny'));

/** Deterministic pseudo-random numbers (mulberry32). @param {number} seed */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(7);
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
const sigmoid = (/** @type {number} */ z) => 1 / (1 + Math.exp(-z));

const problem = params.get('problem') ?? 'binary';
const loss = params.get('loss') ?? (problem === 'multiclass' ? 'cross_entropy' : problem === 'regression' ? 'mse' : 'bce');
const classes = problem === 'multiclass' ? 3 : problem === 'binary' ? 2 : 0;
const outputs = problem === 'multiclass' ? 3 : 1;
const layerSizes = [2, 4, 2, outputs];
const G = 64;

// ---------------------------------------------------------------- data and maps
/** The "true" function the fake network learned: per output a score at (x1, x2). */
function scores(/** @type {number} */ x1, /** @type {number} */ x2) {
  const r = Math.hypot(x1, x2);
  if (problem === 'multiclass') {
    const angle = Math.atan2(x2, x1) - r * 0.55;
    return [0, 1, 2].map((k) => 2.2 * Math.cos(angle - (2 * Math.PI * k) / 3) + 0.3 * (r < 1 ? 1 : 0));
  }
  if (problem === 'regression') return [(x1 + x2) / 10 + 0.25 * Math.sin(x1)];
  return [1.8 * (3.2 - r) + 0.25 * x1];
}

/** Output activation values at a point. */
function outputsAt(/** @type {number} */ x1, /** @type {number} */ x2) {
  const s = scores(x1, x2);
  if (problem === 'multiclass') {
    const m = Math.max(...s);
    const e = s.map((v) => Math.exp(v - m));
    const total = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / total);
  }
  if (problem === 'regression') return s;
  return [loss === 'squared_error' ? Math.tanh(s[0]) : sigmoid(s[0])];
}

/** @returns {number[]} [x1, x2, label] */
function makePoint() {
  if (problem === 'multiclass') {
    const k = Math.floor(rand() * 3);
    const t = rand() * 4.6;
    const angle = t * 0.95 + (2 * Math.PI * k) / 3;
    const r = t + 0.3;
    return [r * Math.cos(angle) + gauss() * 0.25, r * Math.sin(angle) + gauss() * 0.25, k];
  }
  if (problem === 'regression') {
    const x1 = rand() * 10 - 5; const x2 = rand() * 10 - 5;
    return [x1, x2, (x1 + x2) / 10];
  }
  const inside = rand() < 0.5;
  const r = inside ? rand() * 2.2 : 3.6 + rand() * 1.4;
  const angle = rand() * 2 * Math.PI;
  return [r * Math.cos(angle), r * Math.sin(angle), inside ? 1 : 0];
}
const train = Array.from({ length: 250 }, makePoint);
const test = Array.from({ length: 250 }, makePoint);

const outputMaps = Array.from({ length: outputs }, () => new Float32Array(G * G));
for (let r = 0; r < G; r += 1) {
  for (let c = 0; c < G; c += 1) {
    const values = outputsAt(-6 + (12 * c) / (G - 1), 6 - (12 * r) / (G - 1));
    values.forEach((v, k) => { outputMaps[k][r * G + c] = v; });
  }
}

// ---------------------------------------------------------------- histories
const steps = 500;
/** @type {number[][]} */
const history = [];
/** @type {import('../state.js').LayerHistoryEntry[]} */
const gradHistory = [];
/** @type {import('../state.js').LayerHistoryEntry[]} */
const updateRatioHistory = [];
/** @type {{step: number, losses: number[]}[]} four runs at η 0.003, 0.03, 0.3, 3 (the last diverges) */
const sweepHistory = [];
const sweepRates = [0.003, 0.03, 0.3, 3];
for (let s = 0; s <= steps; s += 1) {
  const kick = s > 200 && s < 230 ? 0.25 * Math.exp(-(s - 200) / 8) : 0;
  const trainLoss = 0.68 * Math.exp(-s / 110) + 0.04 + kick + 0.012 * Math.abs(gauss());
  const testLoss = trainLoss * 1.12 + 0.015 + 0.01 * Math.abs(gauss());
  const acc = Math.min(1, 0.5 + 0.5 * (1 - Math.exp(-s / 70)) - kick * 0.4);
  history.push([s, s / 25, trainLoss, testLoss, problem === 'regression' ? NaN : acc,
    problem === 'regression' ? NaN : acc * 0.97, trainLoss * (1 + 0.3 * gauss())]);
  const base = 0.6 * Math.exp(-s / 160) + 0.02 + kick * 3;
  const norms = [base * 0.03 * (1 + 0.3 * rand()), base * 0.25 * (1 + 0.3 * rand()), base * (1 + 0.3 * rand())];
  gradHistory.push({ step: s, values: norms });
  updateRatioHistory.push({ step: s, values: norms.map((n, l) => (s === 0 ? NaN : n * 0.03 / (l + 1))) });
  sweepHistory.push({
    step: s,
    losses: sweepRates.map((rate, k) => (k === 3 && s > 40 ? NaN
      : 0.69 * Math.exp(-s * rate * 0.4) + 0.03 + (k === 2 ? 0.05 * Math.abs(Math.sin(s / 9)) : 0))),
  });
}
const lrChanges = [[0, 0.03], [200, 0.3], [350, 0.1]];
const learningRate = 0.1;

// ---------------------------------------------------------------- selection
const phase = /** @type {import('../protocol.js').Phase} */ (params.get('phase') ?? 'update');
const reached = { forward: 1, loss: 2, backward: 3, update: 4 }[phase ?? 'update'] ?? 4;
const sel = params.get('sel') ?? 'edge';
const batchSize = Number(params.get('batch') ?? 10);
const sampleCount = Math.min(32, batchSize);
const optimizer = params.get('optimizer') ?? 'sgd';
const regularization = params.get('reg') ?? 'none';
const regularizationRate = regularization === 'none' ? 0 : 0.003;

/** @returns {import('../protocol.js').FrameSelection | null} */
function makeSelection() {
  if (sel === 'none') return null;
  const isOutput = sel === 'output';
  const kind = sel === 'neuron' ? 'neuron' : 'edge';
  const layer = isOutput ? 2 : 0;
  const source = kind === 'edge' ? (isOutput ? 1 : 0) : null;
  const neuron = isOutput ? outputs - 1 : 1;
  const weightBefore = isOutput ? -1.137 : 0.4126;
  const samples = [];
  const batch = Array.from({ length: batchSize }, makePoint);
  let gradient = 0;
  for (let b = 0; b < batchSize; b += 1) {
    const [x1, x2, label] = batch[b];
    const aSource = kind === 'neuron' ? 1 : isOutput ? Math.tanh(0.3 * x1 - 0.2 * x2) : x1;
    const z = 0.41 * x1 - 0.27 * x2 + 0.1;
    let a; let gradA; let dadz; let delta;
    if (isOutput && problem === 'multiclass') {
      a = outputsAt(x1, x2)[neuron];
      const y = label === neuron ? 1 : 0;
      delta = (a - y) / batchSize; gradA = -y / Math.max(a, 1e-6) / batchSize; dadz = NaN;
    } else if (isOutput && problem === 'binary' && loss === 'bce') {
      a = sigmoid(z); dadz = a * (1 - a);
      gradA = (a - label) / (a * (1 - a)) / batchSize; delta = gradA * dadz;
    } else {
      a = Math.tanh(z); dadz = 1 - a * a;
      gradA = (0.8 * gauss()) / batchSize; delta = gradA * dadz;
    }
    gradient += Math.fround(delta) * Math.fround(aSource);
    if (b < sampleCount) {
      const hasDelta = reached >= 3 || (reached >= 2 && isOutput);
      samples.push({
        aSource, z, a,
        gradA: hasDelta ? gradA : NaN, dadz: hasDelta ? dadz : NaN, delta: hasDelta ? delta : NaN,
      });
    }
  }
  if (kind === 'edge' && regularization === 'l2') gradient += regularizationRate * weightBefore;
  let update = -learningRate * gradient;
  if (optimizer === 'momentum') update = update * 1.8 - 0.0021;
  if (optimizer === 'adam') update = -learningRate * 0.01 * Math.sign(gradient);
  const f32 = (/** @type {number} */ v) => Math.fround(v);
  return {
    kind, layer, source, neuron,
    rule: { learning_rate: learningRate },
    weight: f32(reached >= 4 ? weightBefore + update : weightBefore),
    gradient: reached >= 3 ? f32(gradient) : NaN,
    update: reached >= 4 ? f32(update) : NaN,
    fanOut: new Float32Array(0),  // no focus point here, so no fan-in sum to show
    samples: samples.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, f32(v)])))
      .map((s) => /** @type {import('../protocol.js').SelectionSample} */ (s)),
  };
}

const last = history[history.length - 1];
/** @type {import('../protocol.js').Frame} */
const frame = {
  sequence: 501, step: steps, epoch: 20, epochProgress: 20, phase, running: false, mapsSkipped: false, diverged: false,
  hasSelection: sel !== 'none', sweep: null, batch: null, focus: 0, focusPoint: null, body: null,
  landscape: null, overshot: false, saturation: null, blocks: {}, layerSizes, batchLoss: last[6], trainLoss: last[2], testLoss: last[3],
  trainAccuracy: last[4], testAccuracy: last[5], learningRate, batchSize, mainResolution: G,
  thumbResolution: 16,
  layers: layerSizes.slice(1).map((nOut, l) => {
    const nIn = layerSizes[l];
    const w = () => new Float32Array(nOut * nIn).map(() => gauss() * 0.5);
    const b = () => new Float32Array(nOut).map(() => gauss() * 0.1);
    return { nIn, nOut, weights: w(), bias: b(), gradWeights: w(), gradBias: b(), updateWeights: w(), updateBias: b() };
  }),
  gradientNorms: new Float32Array(gradHistory[gradHistory.length - 1].values),
  updateRatios: new Float32Array(updateRatioHistory[updateRatioHistory.length - 1].values),
  outputMaps,
  neuronMaps: [],
  selection: makeSelection(),
};

const empty = flag('empty');
const store = Object.assign(createStore(), {
  /** @type {import('../catalogue.js').Catalogue} the server's catalogue (the page is served by it) */
  options: await (await fetch('/api/options')).json(),
  config: {
    network: { hidden_layers: [4, 2], features: ['x1', 'x2'], activation: 'tanh', problem, loss, n_classes: classes },
    data: { dataset: problem === 'multiclass' ? 'spiral3' : problem === 'regression' ? 'plane' : 'circle' },
    hyper: { learning_rate: learningRate, batch_size: batchSize, optimizer, momentum: 0.9, regularization, regularization_rate: regularizationRate },
    seed: 0,
  },
  data: { problem, n_classes: classes, train, test },
  frame: empty ? null : frame,
  history: empty ? [] : history,
  gradHistory: empty ? [] : gradHistory,
  updateRatioHistory: empty ? [] : updateRatioHistory,
  sweepHistory: empty ? [] : sweepHistory,
  lrChanges: empty ? [] : lrChanges,
  ui: { projector, logScale: flag('log'), showTest: flag('test'), discretize: flag('discretize') },
});
const sweepStore = {
  ...store,
  frame: empty ? null : {
    ...frame,
    sweep: {
      resolution: 16,
      runs: sweepRates.map((learningRate, k) => ({
        learningRate, trainLoss: NaN, testLoss: NaN, diverged: k === 3, verdict: NaN, stepLength: NaN, minimumStep: NaN,
        map: new Float32Array(256),
      })),
    },
  },
};

const byId = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const views = [
  new OutputPlot(/** @type {HTMLCanvasElement} */ (byId('output-map'))),
  new LossChart(byId('loss-chart'), byId('loss-legend')),
  new AccuracyChart(byId('accuracy-chart'), byId('accuracy-legend')),
  new GradientNormChart(byId('gradient-chart'), byId('gradient-legend')),
  new UpdateRatioChart(byId('update-ratio-chart'), byId('update-ratio-legend')),
];
const sweepChart = new SweepLossChart(byId('sweep-chart'));
function draw() {
  for (const view of views) view.draw(store);
  sweepChart.draw(sweepStore);
  renderInspector(byId('inspector'), store);
}
draw();
new ResizeObserver(() => draw()).observe(document.body);
// for the screenshot script: the store, to poke at from the console
/** @type {any} */ (window).demoStore = store;
/** @type {any} */ (window).demoDraw = draw;
