// @ts-check
/** Projector mode (large type, dark palette, mirrored to viewers) and full screen. */

import * as protocol from '../protocol.js';
import { usePalette } from '../render/palette.js';
import { setHashFlag } from '../state.js';

/** @typedef {import('./app.js').App} App */

/** @param {App} app @param {boolean} on */
export function setProjector(app, on) {
  const { store, $ } = app;
  store.ui.projector = on;
  document.body.classList.toggle('projector', on);
  $('projector-toggle').classList.toggle('on', on);
  usePalette(on);
  setHashFlag('projector', on);
  app.network.overlayKey = '';
  store.dirty = true;
}

/** The projector and full-screen buttons. @param {App} app */
export function wireProjector(app) {
  const { store, $ } = app;
  $('projector-toggle').addEventListener('click', () => {
    setProjector(app, !store.ui.projector);
    app.command((id) => protocol.view({ projector: store.ui.projector }, id));  // viewers follow
  });
  $('fullscreen').addEventListener('click', () => {
    if (document.fullscreenElement) document.exitFullscreen(); else document.documentElement.requestFullscreen();
  });
}
