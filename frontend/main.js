// @ts-check
/**
 * Wiring only: the store, the connection, the views and the controls. One
 * requestAnimationFrame loop draws whatever changed; nothing here computes the model.
 */

import { BATCH_SIZES, REGULARIZATION_RATES, SPEEDS, buildDatasetTiles, fillSelect, sliderToRate,
  syncControls } from './controls.js';
import * as protocol from './protocol.js';
import { AccuracyChart, GradientNormChart, LossChart, UpdateRatioChart } from './render/charts.js';
import { formatNumber } from './render/format.js';
import { renderInspector } from './render/inspector.js';
import { NetworkView } from './render/network.js';
import { OutputPlot, plotToPlane } from './render/output_plot.js';
import { usePalette } from './render/palette.js';
import { renderPhases } from './render/phases.js';
import { renderSweep } from './render/sweep.js';
import { acceptFrame, createStore, loadHistory, setHashFlag } from './state.js';
import { composePng, download, fetchSnapshot, historyCsv, importRun } from './exports.js';
import { addPoint, erasePoint, parseCsv } from './custom_data.js';
import { configFromHash, hashForConfig, hiddenControls } from './links.js';
import { Connection, saveToken } from './transport.js';

const store = createStore();
const $ = (/** @type {string} */ testid) => /** @type {HTMLElement} */ (
  document.querySelector(`[data-testid="${testid}"]`));

/** @type {any} */
let linkConfig = null;
const connection = new Connection({
  onFrame: (frame) => acceptFrame(store, frame),
  onMessage: (message) => receive(message),
  onStatus: (status) => { store.connection = status; showConnection(); store.dirty = true; },
  initialConfig: () => linkConfig,
  onNotice: (text) => notice(text),
});

const network = new NetworkView(/** @type {HTMLCanvasElement} */ ($('network')),
  /** @type {HTMLElement} */ (document.getElementById('neuron-buttons')), {
    onSelect: (target) => presenting() && command((id) => protocol.select(target, id)),
    onToggleFeature: (name) => presenting() && toggleFeature(name),
    onNeurons: (layer, delta) => presenting() && changeNeurons(layer, delta),
  });
const outputPlot = new OutputPlot(/** @type {HTMLCanvasElement} */ ($('output-map')));
const charts = {
  loss: new LossChart($('loss-chart'), $('loss-legend')),
  accuracy: new AccuracyChart($('accuracy-chart'), $('accuracy-legend')),
  gradient: new GradientNormChart($('gradient-chart'), $('gradient-legend')),
  updateRatio: new UpdateRatioChart($('update-ratio-chart'), $('update-ratio-legend')),
};

/** @param {any} message */
function receive(message) {
  switch (message.type) {
    case 'welcome':
      store.role = message.role;
      store.viewers = message.viewers;
      if (message.role === 'viewer') {
        disableControls();
        if (message.state.view.projector !== store.ui.projector) setProjector(message.state.view.projector);
      }
      store.config = message.config;
      store.data = message.data;
      store.serverState = message.state;
      store.lrChanges = message.state.learning_rate_changes;
      loadHistory(store, message.history);
      keepSetupInLink();
      break;
    case 'config':
      store.config = message.config;
      store.data = message.data;
      loadHistory(store, { rows: [] });
      keepSetupInLink();
      break;
    case 'state':
      store.serverState = message;
      if (store.config) keepSetupInLink();
      store.lrChanges = message.learning_rate_changes;
      store.divergence = message.status === 'diverged' ? message.divergence : null;
      if (store.role === 'viewer' && message.view.projector !== store.ui.projector) {
        setProjector(message.view.projector);
      }
      break;
    case 'event':
      if (message.event === 'diverged') store.divergence = message;
      if (message.event === 'class_ended') store.classMessage = message.message;
      break;
    case 'viewers':
      store.viewers = message.count;
      break;
    case 'error':
      flash(message.field ? `${message.field}: ${message.message}` : message.message);
      break;
    default:
  }
  store.dirty = true;
}

/**
 * Send a command; show an error if refused.
 * @param {(id: number) => string} build
 */
async function command(build) {
  const reply = await connection.send(build);
  if (reply.type === 'error') flash(reply.field ? `${reply.field}: ${reply.message}` : reply.message);
  return reply;
}

/** @param {any} changes  a partial config */
function configure(changes) {
  return command((id) => protocol.configure(changes, id));
}

function toggleFeature(name) {
  const features = new Set(store.config.network.features);
  if (features.has(name)) features.delete(name); else features.add(name);
  if (features.size === 0) { flash('keep at least one input feature'); return; }
  configure({ network: { features: [...features] } });
}

function changeNeurons(layer, delta) {
  const layers = [...store.config.network.hidden_layers];
  layers[layer] = Math.max(1, Math.min(16, layers[layer] + delta));
  configure({ network: { hidden_layers: layers } });
}

function changeLayers(delta) {
  const layers = [...store.config.network.hidden_layers];
  if (delta > 0 && layers.length < 8) layers.push(layers[layers.length - 1] ?? 4);
  if (delta < 0 && layers.length > 0) layers.pop();
  configure({ network: { hidden_layers: layers } });
}

/** The presenter's URL always holds the current setup, so copying it shares the setup. */
function keepSetupInLink() {
  if (store.role !== 'presenter' || !store.config) return;
  history.replaceState(null, '', location.pathname + location.search
    + hashForConfig({ ...store.config, hyper: store.serverState?.hyper ?? store.config.hyper },
      location.hash));
}

/**
 * A message that stays visible for a while (for example why a link's value was ignored).
 * @param {string} text
 */
function notice(text) {
  store.notices = [...(store.notices ?? []), text];
  flash(text);
}

/** @param {string} text */
function flash(text) {
  const element = $('connection');
  element.textContent = text;
  element.classList.add('bad');
  setTimeout(showConnection, 4000);
}

function showConnection() {
  const element = $('connection');
  const labels = { connecting: 'connecting…', open: 'live', reconnecting: 'reconnecting… (server unreachable)',
    'class-ended': 'class ended', 'no-class': 'no such class' };
  element.textContent = labels[store.connection] ?? store.connection;
  element.classList.toggle('bad', store.connection !== 'open');
}

/** The presenter controls the run; a viewer's page only follows. */
function presenting() {
  return store.role === 'presenter';
}

/** A viewer's controls are visibly off (the server would refuse them anyway). */
function disableControls() {
  const selector = '.run-controls button, .hyperbar select, .data-panel input, .dataset, '
    + '.network-toolbar button, #learning-rate, [data-testid="projector-toggle"]';
  for (const element of document.querySelectorAll(selector)) {
    /** @type {HTMLInputElement} */ (element).disabled = true;
  }
  document.body.classList.add('viewer');
}

/** The presenter's panel in focus is outlined on every viewer's page. */
function wireFocus() {
  for (const panel of document.querySelectorAll('.workspace > .panel')) {
    panel.addEventListener('pointerdown', () => {
      const name = /** @type {HTMLElement} */ (panel).dataset.panel ?? '';
      if (!presenting() || !store.serverState?.class || store.serverState.view?.panel === name) return;
      command((id) => protocol.view({ panel: name }, id));
    });
  }
}

function renderFocus() {
  const focus = store.serverState?.class ? store.serverState?.view?.panel : null;
  for (const panel of document.querySelectorAll('.workspace > .panel')) {
    panel.classList.toggle('focus', Boolean(focus) && /** @type {HTMLElement} */ (panel).dataset.panel === focus);
  }
}

function wireFiles() {
  const stamp = () => `backprop-step${store.frame?.step ?? 0}`;
  $('export-png').addEventListener('click', async () => {
    const canvases = [$('network'), $('output-map'), charts.loss.canvas]
      .filter((canvas) => canvas instanceof HTMLCanvasElement);
    download(await composePng(canvases), `${stamp()}.png`);
  });
  $('export-csv').addEventListener('click', () => download(
    new Blob([historyCsv(store.history)], { type: 'text/csv' }), `${stamp()}-history.csv`));
  $('export-json').addEventListener('click', async () => {
    const id = connection.session?.id;
    if (!id) return;
    try {
      download(new Blob([await fetchSnapshot(id)], { type: 'application/json' }), `${stamp()}-run.json`);
    } catch (error) { flash(String(error)); }
  });
  $('import-json').addEventListener('change', async (event) => {
    const input = /** @type {HTMLInputElement} */ (event.target);
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    try {
      const created = await importRun(file);
      saveToken(created.id, created.presenter_token);
      location.assign(`/#session=${encodeURIComponent(created.id)}`);
      location.reload();
    } catch (error) { flash(error instanceof Error ? error.message : String(error)); }
  });
}

/** The data set's points as [x1, x2, label] rows (the user's own, or the generated ones). */
function currentPoints() {
  const data = store.config?.data;
  if (data?.dataset === 'custom' && data.points) return data.points;
  return [...(store.data?.train ?? []), ...(store.data?.test ?? [])];
}

/** Train on these points from now on (the network is rebuilt, as for any data change). */
function useOwnPoints(points) {
  const network = store.config.network;
  return configure({
    data: { dataset: 'custom', points },
    network: { problem: network.problem, loss: network.loss, n_classes: store.data?.n_classes ?? 3 },
  });
}

function wireOwnData() {
  const canvas = /** @type {HTMLCanvasElement} */ ($('output-map'));
  canvas.classList.add('editable');
  canvas.addEventListener('click', (event) => {
    if (!presenting() || !store.data) return;
    const where = plotToPlane(canvas, event.clientX, event.clientY);
    if (!where) return;
    const points = currentPoints();
    if (event.altKey) {
      const fewer = erasePoint(points, where.x1, where.x2);
      if (fewer.length && fewer !== points) useOwnPoints(fewer);
      return;
    }
    let label = Number(/** @type {HTMLSelectElement} */ ($('point-class')).value);
    if (event.shiftKey && store.data.problem === 'binary') label = 1 - label;
    if (event.shiftKey && store.data.problem === 'regression') label = -label;
    useOwnPoints(addPoint(points, where.x1, where.x2, label, store.options.limits));
  });
  $('clear-points').addEventListener('click', () => {
    const generated = { binary: 'circle', multiclass: 'blobs3', regression: 'plane' };
    configure({ data: { dataset: generated[store.data?.problem ?? 'binary'] ?? 'circle' } });
  });
  $('load-csv').addEventListener('change', async (event) => {
    const input = /** @type {HTMLInputElement} */ (event.target);
    const file = input.files?.[0];
    input.value = '';
    if (!file || !store.data) return;
    const parsed = parseCsv(await file.text(),
      { problem: store.data.problem, nClasses: store.data.n_classes, limits: store.options.limits });
    if (parsed.errors.length) {
      const more = parsed.errors.length > 3 ? ` (and ${parsed.errors.length - 3} more)` : '';
      notice(`${file.name} was not loaded: ${parsed.errors.slice(0, 3).join('; ')}${more}`);
      return;
    }
    useOwnPoints(parsed.points);
  });
}

/** The class picker offers the problem's classes (regression: a target of −1 or +1). */
function syncPointClasses() {
  const select = /** @type {HTMLSelectElement} */ ($('point-class'));
  const key = `${store.data?.problem}:${store.data?.n_classes}`;
  if (!store.data || select.dataset.key === key) return;
  select.dataset.key = key;
  const values = store.data.problem === 'regression' ? [1, -1]
    : Array.from({ length: store.data.n_classes }, (_, i) => i);
  fillSelect(select, store.data.problem === 'binary' ? [1, 0] : values,
    (v) => (store.data.problem === 'regression' ? `target ${v > 0 ? '+1' : '−1'}` : `class ${v}`));
}

/** Rates typed as "0.001, 0.01 0.1": 2 to 8 numbers within the learning-rate limits. */
function parseRates(text) {
  const [low, high] = store.options.limits.learning_rate;
  const rates = text.split(/[\s,;]+/).filter(Boolean).map(Number);
  const bad = rates.find((r) => !Number.isFinite(r) || r < low || r > high);
  if (bad !== undefined) return `each rate must lie between ${low} and ${high}`;
  if (rates.length < 2 || rates.length > 8) return 'give 2 to 8 learning rates';
  return rates;
}

function wireSweep() {
  $('sweep-toggle').addEventListener('click', () => {
    if (store.serverState?.sweep) { command((id) => protocol.sweep(null, id)); return; }
    const rates = parseRates(/** @type {HTMLInputElement} */ ($('sweep-rates')).value);
    if (typeof rates === 'string') { notice(rates); return; }
    command((id) => protocol.sweep(rates, id));
  });
}

function wireClassroom() {
  wireFocus();
  wireSweep();
  wireOwnData();
  wireFiles();
  $('present').addEventListener('click', () => {
    if (store.serverState?.class) { store.classCardOpen = !store.classCardOpen; store.dirty = true; return; }
    store.classCardOpen = true;
    command((id) => protocol.present(id));
  });
  $('end-class').addEventListener('click', () => command((id) => protocol.endClass(id)));
  $('class-card-hide').addEventListener('click', () => { store.classCardOpen = false; store.dirty = true; });
  $('fork').addEventListener('click', () => connection.fork().catch((error) => flash(String(error))));
  $('join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const code = /** @type {HTMLInputElement} */ ($('join-code')).value.trim().toUpperCase();
    if (code) location.assign(`/join/${encodeURIComponent(code)}`);
  });
  const back = new URLSearchParams(location.hash.slice(1)).get('class');
  if (back) {
    const link = /** @type {HTMLAnchorElement} */ ($('back-to-class'));
    link.href = `/join/${encodeURIComponent(back)}`;
    link.hidden = false;
  }
}

/** The join card (presenter), the viewer badge, the class messages. */
function renderClassroom() {
  const info = store.serverState?.class;
  const card = $('class-card');
  const presenter = store.role === 'presenter';
  card.hidden = !(presenter && info && store.classCardOpen);
  $('present').textContent = info ? `Class ${info.code} · ${store.viewers ?? 0}` : 'Present';
  $('present').classList.toggle('on', Boolean(info));
  if (presenter && info && $('class-code').textContent !== info.code) {
    $('class-code').textContent = info.code;
    $('class-link').textContent = `${location.host}${info.path}`;
    /** @type {HTMLImageElement} */ ($('class-qr')).src = `/api/join/${info.code}/qr.svg`;
  }
  $('viewer-count').textContent = String(store.viewers ?? 0);
  const viewer = store.role === 'viewer';
  $('viewer-badge').hidden = !viewer;
  $('fork').hidden = !viewer || store.connection === 'class-ended';
  $('viewer-code').textContent = connection.joinCode ?? '';
  const banner = $('class-banner');
  const message = store.connection === 'class-ended' ? (store.classMessage ?? 'The class has ended.')
    : store.connection === 'no-class' ? `There is no class with the code ${connection.joinCode} (it may have ended).`
      : null;
  banner.hidden = !message;
  if (message) /** @type {HTMLElement} */ (banner.querySelector('.message')).textContent = message;
}

// ------------------------------------------------------------------- controls
function wireControls() {
  $('play').addEventListener('click', () => togglePlay());
  $('step').addEventListener('click', () => command((id) => protocol.step(1, id)));
  $('phase-step').addEventListener('click', () => command((id) => protocol.phaseStep(id)));
  $('reset').addEventListener('click', () => command((id) => protocol.reset(id)));
  $('add-layer').addEventListener('click', () => changeLayers(1));
  $('remove-layer').addEventListener('click', () => changeLayers(-1));
  $('recover').addEventListener('click', async () => {
    const rate = Math.max(1e-5, (store.serverState?.hyper?.learning_rate ?? 0.03) / 10);
    await command((id) => protocol.setHyper({ learning_rate: Number(rate.toPrecision(2)) }, id));
    await command((id) => protocol.reset(id));
  });
  wireLearningRate();
  const hyper = (/** @type {string} */ testid, /** @type {(v: string) => any} */ change) => {
    $(testid).addEventListener('change', (event) => command((id) => protocol.setHyper(
      change(/** @type {HTMLSelectElement} */ (event.target).value), id)));
  };
  hyper('optimizer', (v) => ({ optimizer: v }));
  hyper('batch-size', (v) => ({ batch_size: Number(v) }));
  hyper('regularization', (v) => ({ regularization: v }));
  hyper('regularization-rate', (v) => ({ regularization_rate: Number(v) }));
  hyper('speed', (v) => ({ speed: Number(v) }));
  $('activation').addEventListener('change', (event) => configure(
    { network: { activation: /** @type {HTMLSelectElement} */ (event.target).value } }));
  $('loss').addEventListener('change', (event) => configure(
    { network: { loss: /** @type {HTMLSelectElement} */ (event.target).value } }));
  const data = (/** @type {string} */ testid, /** @type {(v: number) => any} */ change) => {
    $(testid).addEventListener('change', (event) => configure(
      change(Number(/** @type {HTMLInputElement} */ (event.target).value))));
  };
  data('noise', (v) => ({ data: { noise: v / 100 } }));
  data('train-fraction', (v) => ({ data: { train_fraction: v / 100 } }));
  data('seed', (v) => ({ seed: v }));
  for (const [testid, key] of [['show-test', 'showTest'], ['discretize', 'discretize'], ['log-scale', 'logScale']]) {
    $(testid).addEventListener('change', (event) => {
      store.ui[key] = /** @type {HTMLInputElement} */ (event.target).checked;
      store.dirty = true;
    });
  }
  $('projector-toggle').addEventListener('click', () => {
    setProjector(!store.ui.projector);
    command((id) => protocol.view({ projector: store.ui.projector }, id));  // viewers follow
  });
  $('fullscreen').addEventListener('click', () => {
    if (document.fullscreenElement) document.exitFullscreen(); else document.documentElement.requestFullscreen();
  });
  document.addEventListener('keydown', keyboard);
}

function togglePlay() {
  const running = store.frame?.running || store.serverState?.running;
  return command((id) => (running ? protocol.pause(id) : protocol.play(id)));
}

/** The learning-rate slider: live while dragging (≤ 10 messages/s), final on release. */
function wireLearningRate() {
  const slider = /** @type {HTMLInputElement} */ ($('learning-rate'));
  let lastSent = 0;
  let timer = 0;
  const send = async () => {
    lastSent = performance.now();
    const rate = sliderToRate(slider.value);
    const reply = await command((id) => protocol.setHyper({ learning_rate: rate }, id));
    if (reply.type === 'ack') {
      $('learning-rate-ack').textContent = `from step ${reply.step} · ${Math.round(reply.latency)} ms`;
      store.lastLearningRateAck = { rate, step: reply.step, latency: reply.latency };
    }
  };
  slider.addEventListener('input', () => {
    $('learning-rate-value').textContent = formatNumber(sliderToRate(slider.value));
    clearTimeout(timer);
    const wait = 100 - (performance.now() - lastSent);
    timer = window.setTimeout(send, Math.max(0, wait));
  });
  slider.addEventListener('change', () => { clearTimeout(timer); send(); });
}

/** @param {KeyboardEvent} event */
function keyboard(event) {
  if (!presenting()) return;  // a viewer's page follows; its keys change nothing
  const target = /** @type {HTMLElement} */ (event.target);
  if (['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName) && target.getAttribute('type') !== 'checkbox') return;
  if (event.key === ' ') { event.preventDefault(); togglePlay(); }
  else if (event.key === 'ArrowRight' && event.shiftKey) { event.preventDefault(); command((id) => protocol.phaseStep(id)); }
  else if (event.key === 'ArrowRight') { event.preventDefault(); command((id) => protocol.step(1, id)); }
  else if (event.key === 'r' && !event.ctrlKey && !event.metaKey) command((id) => protocol.reset(id));
}

/** @param {boolean} on */
function setProjector(on) {
  store.ui.projector = on;
  document.body.classList.toggle('projector', on);
  $('projector-toggle').classList.toggle('on', on);
  usePalette(on);
  setHashFlag('projector', on);
  network.overlayKey = '';
  store.dirty = true;
}

// ---------------------------------------------------------------- rendering
let lastDrawnSequence = -1;

function render(now) {
  const frame = store.frame;
  const animating = frame && (frame.running || now - store.animation.started < 2000);
  if (store.dirty || animating) {
    network.draw(store, now);
  }
  if (store.dirty) {
    store.dirty = false;
    if (frame && frame.sequence !== lastDrawnSequence) {
      lastDrawnSequence = frame.sequence;
      store.framesRendered += 1;
    }
    outputPlot.draw(store);
    for (const chart of Object.values(charts)) chart.draw(store);
    renderPhases(/** @type {HTMLElement} */ ($('phase')), $('phase-caption'), store);
    renderInspector($('inspector'), store);
    renderCounters();
    renderClassroom();
    renderFocus();
    renderSweep($('sweep-panel'), store, (run) => command((id) => protocol.promote(run, id)));
    $('sweep-toggle').textContent = store.serverState?.sweep ? 'Stop sweep' : 'Sweep';
    syncPointClasses();
    syncControls(document, store);
  }
  requestAnimationFrame(render);
}

function renderCounters() {
  const frame = store.frame;
  if (!frame) return;
  $('step-count').textContent = String(frame.step);
  $('epoch-count').textContent = String(frame.epoch);
  $('loss-train').textContent = formatNumber(frame.trainLoss);
  $('loss-test').textContent = formatNumber(frame.testLoss);
  const running = frame.running;
  const play = $('play');
  play.classList.toggle('running', running);
  play.setAttribute('aria-label', running ? 'Pause' : 'Play');
  const banner = $('divergence-banner');
  const divergence = store.divergence;
  banner.hidden = !divergence;
  if (divergence) {
    /** @type {HTMLElement} */ (banner.querySelector('.message')).textContent = `Diverged at step ${divergence.step}`
      + ` — the learning rate ${formatNumber(divergence.learning_rate)} is too large for these gradients.`;
  }
  document.body.classList.toggle('viewer', store.role === 'viewer');
}

// -------------------------------------------------------------------- start
/**
 * A select's options from catalogue entries (value: name, label: title).
 * @param {HTMLElement} select @param {{name: string, title: string}[]} entries
 */
function fillEntries(select, entries) {
  const titles = new Map(entries.map((entry) => [entry.name, entry.title]));
  fillSelect(/** @type {HTMLSelectElement} */ (select), entries.map((entry) => entry.name),
    (name) => titles.get(name) ?? name);
}

async function start() {
  setProjector(store.ui.projector);
  store.options = await (await fetch('/api/options')).json();
  fillSelect(/** @type {HTMLSelectElement} */ ($('speed')), SPEEDS, (v) => `${v} step${v === 1 ? '' : 's'}/frame`);
  fillEntries($('activation'), store.options.activations);
  fillEntries($('optimizer'), store.options.optimizers);
  fillSelect(/** @type {HTMLSelectElement} */ ($('batch-size')), BATCH_SIZES);
  fillEntries($('regularization'), store.options.regularizations);
  fillSelect(/** @type {HTMLSelectElement} */ ($('regularization-rate')), REGULARIZATION_RATES);
  const limits = store.options.limits;
  const slider = /** @type {HTMLInputElement} */ ($('learning-rate'));
  slider.min = String(Math.log10(limits.learning_rate[0]));
  slider.max = String(Math.log10(limits.learning_rate[1]));
  buildDatasetTiles($('datasets'), store.options.datasets,
    (name) => configure({ data: { dataset: name } }));
  const link = configFromHash(location.hash, store.options);
  linkConfig = link.given ? link.config : null;
  if (link.notices.length) notice(link.notices.join('; '));
  for (const name of hiddenControls(location.hash)) {
    for (const element of document.querySelectorAll(`[data-testid="${name}"], [data-panel="${name}"]`)) {
      const label = element.parentElement?.tagName === 'LABEL' ? element.parentElement : element;
      /** @type {HTMLElement} */ (label).style.display = 'none';
    }
    if (name === 'data') document.body.classList.add('without-data');
  }
  wireControls();
  wireClassroom();
  new ResizeObserver(() => { store.dirty = true; network.overlayKey = ''; }).observe(document.body);
  await connection.start();
  requestAnimationFrame(render);
}

// For tests and the benchmark: the store and frame counters.
Object.assign(window, { playground: { store, connection, network, charts } });
start();
