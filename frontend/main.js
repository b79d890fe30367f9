// @ts-check
/**
 * Wiring only: the store, the connection, the views and the controls, joined by one context
 * (`app`, wiring/app.js) that each concern's module in wiring/ receives. One
 * requestAnimationFrame loop draws whatever changed; nothing here computes the model.
 */

import { showUnknownCode } from './join_page.js';
import { clear, notify } from './notices.js';
import { createCharts } from './render/charts.js';
import { NetworkView } from './render/network.js';
import { OutputPlot } from './render/output_plot.js';
import { acceptFrame, createStore } from './state.js';
import { Connection } from './transport.js';
import { byTestId as $, createApp } from './wiring/app.js';
import { wireClassroom, wireFocus } from './wiring/classroom.js';
import { wireQuestions } from './wiring/questions.js';
import { wireControls, wireKeyboard } from './wiring/controls.js';
import { wireDrop } from './wiring/drop.js';
import { wireFiles } from './wiring/files.js';
import { wireFramePace } from './wiring/frame_pace.js';
import { wireInspector } from './wiring/inspector.js';
import { wireLessons } from './wiring/lessons.js';
import { wireLearningRate } from './wiring/learning_rate.js';
import { wireLayout } from './wiring/layout.js';
import { linkNote } from './wiring/link_note.js';
import { receive } from './wiring/messages.js';
import { changeNeurons, select, toggleFeature, wireLayerButtons } from './wiring/network_shape.js';
import { wireOwnData } from './wiring/own_data.js';
import { wirePhases } from './wiring/phases.js';
import { setProjector, wireProjector } from './wiring/projector.js';
import { startRenderLoop } from './wiring/render_loop.js';
import { hideLinkedControls, loadOptions, readLink } from './wiring/setup.js';
import { showLinkedControls, startAsLinked } from './wiring/start.js';
import { wireSweep } from './wiring/sweep.js';

// The handlers below run only after start(), by which time `app` exists.
const store = createStore();
const noteLink = linkNote(/** @type {HTMLElement} */ ($('maps-held')));
const connection = new Connection({
  onFrame: (frame) => { acceptFrame(store, frame); noteLink(frame); },
  onMessage: (message) => receive(app, message),
  onStatus: (status) => app.setStatus(status),
  initialConfig: () => app.linkConfig,
  onNotice: notify,
  onClearNotice: clear,
  onUnknownCode: showUnknownCode,
});
const network = new NetworkView(/** @type {HTMLCanvasElement} */ ($('network')),
  /** @type {HTMLElement} */ (document.getElementById('neuron-buttons')), {
    onSelect: (target) => select(app, target),
    onToggleFeature: (name) => toggleFeature(app, name),
    onNeurons: (layer, delta) => changeNeurons(app, layer, delta),
  });
const outputPlot = new OutputPlot(/** @type {HTMLCanvasElement} */ ($('output-map')));
const charts = createCharts($);
const app = createApp({ store, $, connection, network, outputPlot, charts });

async function start() {
  setProjector(app, store.ui.projector);
  await loadOptions(app);
  readLink(app);
  hideLinkedControls();
  showLinkedControls();
  wireControls(app);
  wireLayerButtons(app);
  wireLearningRate(app);
  wireProjector(app);
  wireKeyboard(app);
  wirePhases(app);
  wireInspector(app);
  wireFocus(app);
  wireSweep(app);
  wireOwnData(app);
  wireDrop(app);
  wireFiles(app);
  wireClassroom(app);
  wireQuestions(app);
  wireLayout(app);
  wireFramePace(app);
  new ResizeObserver(() => { store.dirty = true; network.overlayKey = ''; }).observe(document.body);
  wireLessons(app);
  await connection.start();
  startRenderLoop(app);
  startAsLinked(app);
}

// For tests and the benchmark: the store and frame counters.
Object.assign(window, { playground: { store, connection, network, outputPlot, charts } });
start();
