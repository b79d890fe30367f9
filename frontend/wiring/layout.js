// @ts-check
/**
 * The phone layout's menu (layouts.css): one button shows or hides the secondary controls —
 * the settings bar, the data panel, presenting, projector and full screen. It is a real
 * button (Enter / space), says its state in `aria-expanded`, and Escape closes the menu
 * with the focus back on the button. On larger screens the button is not shown and the
 * controls are always there.
 */

/** @typedef {import('./app.js').App} App */

/** Open or close the menu. @param {HTMLElement} button @param {boolean} open */
export function setMenu(button, open) {
  document.body.classList.toggle('menu-open', open);
  button.setAttribute('aria-expanded', String(open));
}

/** How long a class's page waits for the class's view before it shows anyway (ms). */
const PENDING_MS = 4000;

/**
 * A class's page (/join/CODE) is hidden (`body.pending`, set before the first paint) until
 * it knows the presenter's view — its first frame, which comes after the class's state —
 * or that there is no class: it then shows once, in the right mode, without a layout shift.
 * @param {App} app
 */
export function revealWhenReady(app) {
  const started = performance.now();
  const check = () => {
    const { frame, connection } = app.store;
    const known = frame !== null || connection === 'no-class' || connection === 'class-ended';
    if (known || performance.now() - started > PENDING_MS) document.body.classList.remove('pending');
    else requestAnimationFrame(check);
  };
  if (document.body.classList.contains('pending')) check();
}

/** @param {App} app */
export function wireLayout(app) {
  revealWhenReady(app);
  const button = app.$('menu');
  button.addEventListener('click', () => setMenu(button, button.getAttribute('aria-expanded') !== 'true'));
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || button.getAttribute('aria-expanded') !== 'true') return;
    setMenu(button, false);
    button.focus();
  });
}
