// @ts-check
/**
 * The network's shape and selection, from the network view: select a neuron or edge, toggle
 * an input feature, add or remove neurons, and the add/remove layer buttons.
 */

import * as protocol from '../protocol.js';

/** @typedef {import('./app.js').App} App */

/** @param {App} app @param {any} target  a neuron or edge, or null to clear the selection */
export function select(app, target) {
  return app.presenting() && app.command((id) => protocol.select(target, id));
}

/** @param {App} app @param {string} name  an input feature */
export function toggleFeature(app, name) {
  if (!app.presenting()) return false;
  const features = new Set(app.store.config.network.features);
  if (features.has(name)) features.delete(name); else features.add(name);
  if (features.size === 0) { app.notify({ topic: 'features', level: 'warning', text: 'Keep at least one input feature on.' }); return undefined; }
  return app.configure({ network: { features: [...features] } });
}

/** Within the catalogue's limits. @param {App} app @param {number} layer @param {number} delta  +1 or −1 neuron */
export function changeNeurons(app, layer, delta) {
  if (!app.presenting()) return false;
  const [fewest, most] = app.store.options.limits.neurons_per_layer;
  const layers = [...app.store.config.network.hidden_layers];
  layers[layer] = Math.max(fewest, Math.min(most, layers[layer] + delta));
  return app.configure({ network: { hidden_layers: layers } });
}

/** Within the catalogue's limits. @param {App} app @param {number} delta  +1 or −1 hidden layer */
function changeLayers(app, delta) {
  const [fewest, most] = app.store.options.limits.hidden_layers;
  const layers = [...app.store.config.network.hidden_layers];
  if (delta > 0 && layers.length < most) layers.push(layers[layers.length - 1] ?? 4);
  if (delta < 0 && layers.length > fewest) layers.pop();
  app.configure({ network: { hidden_layers: layers } });
}

/** @param {App} app */
export function wireLayerButtons(app) {
  app.$('add-layer').addEventListener('click', () => changeLayers(app, 1));
  app.$('remove-layer').addEventListener('click', () => changeLayers(app, -1));
}
