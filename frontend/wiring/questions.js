// @ts-check
/**
 * Ask the class: the presenter's "Ask the class" menu (three questions, each disabled with
 * its reason when it does not apply), the question card's buttons (answer, reveal, close),
 * the presenter's live tally and a viewer's own answer. The card is drawn by
 * render/questions.js from the state's `question`.
 */

import * as protocol from '../protocol.js';
import { renderQuestionCard } from '../render/questions.js';

/** @typedef {import('./app.js').App} App */
/** @typedef {import('../types/messages.gen.js').TallyMessage} TallyMessage */
/** @typedef {import('../types/messages.gen.js').OpenQuestion['kind']} QuestionKind */

/** The presenter's latest live tally. @type {TallyMessage | null} */
let liveTally = null;
/** A viewer's own answer (the server keeps one per connection). @type {{questionId: number, option: string, acked: boolean} | null} */
let mine = null;

/** The menu's questions: label and why one does not apply (null: it does). */
const QUESTIONS = /** @type {{kind: QuestionKind, label: string, unavailable: (state: any) => string | null}[]} */ ([
  { kind: 'update_lowers_loss', label: 'Will this update lower the batch loss?', unavailable: () => null },
  { kind: 'weight_direction', label: 'Will the selected weight go up or down?',
    unavailable: (state) => (state?.selection ? null : 'Select a weight first: click an edge (or a neuron for its bias)') },
  { kind: 'sweep_winner', label: 'Which learning rate ends lowest after N steps?',
    unavailable: (state) => (state?.sweep ? null : 'Start a learning-rate sweep first (Sweep)') },
]);

/**
 * What the question module needs from every server message: the presenter's tally; a new
 * connection (welcome) starts without an answer, as the server's count does.
 * @param {any} message
 */
export function noteQuestionMessage(message) {
  if (message.type === 'tally') liveTally = message;
  if (message.type === 'welcome') { liveTally = null; mine = null; }
}

/** @param {App} app */
export function wireQuestions(app) {
  const { $ } = app;
  const menu = buildAskMenu(app);
  $('present').after(menu);
  $('question-card').addEventListener('click', (event) => {
    const button = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (event.target).closest('button'));
    if (!button || /** @type {HTMLButtonElement} */ (button).disabled) return;
    if (button.dataset.option) sendAnswer(app, button.dataset.option);
    if (button.dataset.action === 'reveal') app.command((id) => protocol.revealQuestion(id));
    if (button.dataset.action === 'close') app.command((id) => protocol.closeQuestion(id));
  });
}

/** The "Ask the class" button and its menu. @param {App} app */
function buildAskMenu(app) {
  const wrap = document.createElement('div');
  wrap.className = 'ask presenter-only';
  wrap.innerHTML = `<button type="button" data-testid="ask" class="toggle" aria-haspopup="menu"
      aria-expanded="false" aria-label="Ask the class">Ask<span class="long"> the class</span></button>
    <div class="ask-menu" data-testid="ask-menu" role="menu" hidden></div>`;
  const toggle = /** @type {HTMLButtonElement} */ (wrap.querySelector('[data-testid="ask"]'));
  const list = /** @type {HTMLElement} */ (wrap.querySelector('.ask-menu'));
  for (const { kind, label } of QUESTIONS) {
    const item = document.createElement('div');
    item.className = 'ask-item';
    item.innerHTML = kind === 'sweep_winner'
      ? `<button type="button" role="menuitem" data-testid="ask-${kind}" data-kind="${kind}">Which learning rate ends lowest after</button>
         <input type="number" data-testid="ask-steps" min="1" max="10000" step="1" value="50" aria-label="steps"> steps?`
      : `<button type="button" role="menuitem" data-testid="ask-${kind}" data-kind="${kind}">${label}</button>`;
    list.append(item);
  }
  const open = (/** @type {boolean} */ on) => { list.hidden = !on; toggle.setAttribute('aria-expanded', String(on)); };
  toggle.addEventListener('click', () => {
    if (toggle.getAttribute('aria-disabled') === 'true') { app.notify({ topic: 'ask', level: 'error', text: toggle.title }); return; }
    open(Boolean(list.hidden));
  });
  list.addEventListener('click', (event) => {
    const button = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (event.target).closest('button[data-kind]'));
    if (!button) return;
    if (button.getAttribute('aria-disabled') === 'true') { app.notify({ topic: 'ask', level: 'error', text: button.title }); return; }
    const kind = /** @type {QuestionKind} */ (button.dataset.kind);
    const steps = kind === 'sweep_winner'
      ? Number(/** @type {HTMLInputElement} */ (list.querySelector('[data-testid="ask-steps"]')).value) : null;
    open(false);
    app.command((id) => protocol.openQuestion(kind, steps, id));
  });
  document.addEventListener('keydown', (event) => { if (event.key === 'Escape') open(false); });
  document.addEventListener('pointerdown', (event) => {
    if (!wrap.contains(/** @type {Node} */ (event.target))) open(false);
  });
  return wrap;
}

/** Send (or change) a viewer's answer; shown at once, confirmed by the ack. @param {App} app @param {string} option */
async function sendAnswer(app, option) {
  const question = app.store.serverState?.question;
  if (!question || question.status !== 'open') return;
  const before = mine;
  mine = { questionId: question.id, option, acked: false };
  app.store.dirty = true;
  const reply = await app.command((id) => protocol.answer(question.id, option, id));
  if (mine?.questionId === question.id && mine.option === option) {
    mine = reply.type === 'ack' ? { ...mine, acked: true } : before;
  }
  app.store.dirty = true;
}

/** The Ask menu's state and the question card. @param {App} app */
export function renderQuestions(app) {
  const { store, $ } = app;
  const state = store.serverState;
  renderAskMenu(app, state);
  const question = state?.question ?? null;
  if (!question) { renderQuestionCard($('question-card'), null); return; }
  if (mine && mine.questionId !== question.id) mine = null;
  const role = store.role === 'presenter' ? 'presenter' : 'viewer';
  const latest = liveTally;
  const live = latest && latest.question_id === question.id ? latest.tally : null;
  const zero = { counts: Object.fromEntries(question.options.map((o) => [o.id, 0])), answered: 0,
    viewers: store.viewers ?? 0 };
  const tally = question.status === 'revealed' ? question.tally : live ?? zero;
  renderQuestionCard($('question-card'), { question, role, tally,
    mine: mine ? { option: mine.option, acked: mine.acked } : null });
}

/** Disable what does not apply, saying why in the tooltip. @param {App} app @param {any} state */
function renderAskMenu(app, state) {
  const toggle = app.$('ask');
  if (!toggle) return;
  const reason = state?.class ? null : 'Present the class first: questions are for its viewers';
  setUnavailable(toggle, reason, 'Ask the class to predict, then reveal');
  for (const { kind, unavailable } of QUESTIONS) {
    const button = app.$(`ask-${kind}`);
    if (button) setUnavailable(button, unavailable(state), 'Pauses the run and asks the class');
  }
}

/** @param {HTMLElement} element @param {string | null} reason @param {string} title */
function setUnavailable(element, reason, title) {
  const value = reason ? 'true' : 'false';
  if (element.getAttribute('aria-disabled') !== value) element.setAttribute('aria-disabled', value);
  const text = reason ?? title;
  if (element.title !== text) element.title = text;
}
