// @ts-check
/**
 * The "Ask the class" card: the question, a viewer's answer buttons, the tally bars (the
 * presenter's live, everyone's after the reveal) and the truth beside them. Draws what the
 * server sent; the buttons carry `data-option` / `data-action` for the wiring to handle.
 */

/** @typedef {import('../types/messages.gen.js').QuestionInfo} QuestionInfo */
/** @typedef {import('../types/messages.gen.js').QuestionTally} QuestionTally */

/**
 * @typedef {object} QuestionView
 * @property {QuestionInfo} question
 * @property {'presenter' | 'viewer'} role
 * @property {QuestionTally | null} tally  the presenter's live tally, or the revealed one
 * @property {{option: string, acked: boolean} | null} mine  a viewer's own answer
 */

/**
 * Fill `card` for `view` (null: hide it). Rebuilt only when what it shows changed, so a
 * button keeps its focus between frames.
 * @param {HTMLElement} card @param {QuestionView | null} view
 */
export function renderQuestionCard(card, view) {
  const key = view ? JSON.stringify(view) : '';
  if (card.dataset.key === key) return;
  card.dataset.key = key;
  card.hidden = !view;
  card.replaceChildren();
  if (!view) return;
  const { question, role } = view;
  card.dataset.status = question.status;
  card.append(header(view), element('div', 'q-prompt', question.prompt));
  const revealed = question.status === 'revealed';
  if (role === 'viewer' && !revealed) card.append(...answerButtons(view));
  if (view.tally && (role === 'presenter' || revealed)) card.append(tallyList(view, view.tally));
  if (revealed && question.truth) card.append(truthLine(view));
  if (role === 'presenter') card.append(presenterButtons(question));
}

/** The kicker and the status ("7 of 12 answered", "the step runs…"). @param {QuestionView} view */
function header({ question, tally, role }) {
  const status = question.status === 'revealing' ? 'revealing: the step runs…'
    : question.status === 'revealed' ? 'revealed'
      : role === 'presenter' && tally ? `${tally.answered} of ${tally.viewers} answered`
        : 'answers open';
  const head = element('div', 'q-head');
  head.append(element('span', 'q-kicker', `Ask the class · question ${question.id}`),
    element('span', 'q-status', status, 'question-status'));
  return head;
}

/** A viewer's big answer buttons and its own answer. @param {QuestionView} view */
function answerButtons({ question, mine }) {
  const row = element('div', 'q-answers');
  for (const option of question.options) {
    const button = element('button', 'q-option', option.label, `answer-${option.id}`);
    button.dataset.option = option.id;
    button.disabled = question.status !== 'open';
    button.setAttribute('aria-pressed', String(mine?.option === option.id));
    row.append(button);
  }
  const label = question.options.find((o) => o.id === mine?.option)?.label;
  const text = !label ? 'Tap your answer: you can change it until the reveal.'
    : `Your answer: ${label}${mine?.acked ? '' : ' (sending…)'} — changeable until the reveal`;
  return [row, element('div', 'q-mine', text, 'my-answer')];
}

/**
 * One bar per option: count and percent of those who answered; the truth outlined.
 * @param {QuestionView} view @param {QuestionTally} tally
 */
function tallyList({ question }, tally) {
  const list = element('ul', 'q-tally');
  const truth = question.status === 'revealed' ? question.truth?.option : undefined;
  for (const option of question.options) {
    const count = tally.counts[option.id] ?? 0;
    const share = tally.answered > 0 ? count / tally.answered : 0;
    const row = element('li', `q-row${option.id === truth ? ' truth' : ''}`, '', `tally-${option.id}`);
    const bar = element('span', 'q-bar');
    const fill = element('span', 'q-fill');
    fill.style.width = `${(100 * share).toFixed(1)}%`;
    bar.append(fill);
    row.append(element('span', 'q-label', option.id === truth ? `✓ ${option.label}` : option.label), bar,
      element('span', 'q-count', `${count} · ${Math.round(100 * share)} %`, `tally-count-${option.id}`));
    list.append(row);
  }
  return list;
}

/** "Truth: yes — batch loss 0.412 → 0.398", and for a viewer whether it was right. @param {QuestionView} view */
function truthLine({ question, role, mine }) {
  const truth = /** @type {NonNullable<QuestionInfo['truth']>} */ (question.truth);
  const label = question.options.find((o) => o.id === truth.option)?.label ?? 'neither';
  const line = element('div', 'q-truth', '', 'question-truth');
  line.append(element('b', '', `Truth: ${label}`), document.createTextNode(` — ${truth.summary}`));
  if (role === 'viewer') {
    const answered = question.options.find((o) => o.id === mine?.option)?.label;
    const verdict = !answered ? 'You did not answer.'
      : mine?.option === truth.option ? `You answered ${answered}: right!` : `You answered ${answered}: not this time.`;
    line.append(element('div', 'q-verdict', verdict, 'my-verdict'));
  }
  return line;
}

/** Reveal (while open) and Close. @param {QuestionInfo} question */
function presenterButtons(question) {
  const row = element('div', 'q-buttons');
  if (question.status !== 'revealed') {
    const reveal = element('button', 'primary', 'Reveal', 'question-reveal');
    reveal.dataset.action = 'reveal';
    reveal.disabled = question.status !== 'open';
    reveal.title = question.kind === 'sweep_winner' ? `Train ${question.steps} steps, then compare`
      : 'Run the update, then show the truth';
    row.append(reveal);
  }
  const close = element('button', '', question.status === 'revealed' ? 'Close' : 'Cancel', 'question-close');
  close.dataset.action = 'close';
  row.append(close);
  return row;
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag @param {string} className @param {string} [text] @param {string} [testid]
 * @returns {HTMLElementTagNameMap[K]}
 */
function element(tag, className, text = '', testid = '') {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  if (testid) node.dataset.testid = testid;
  return node;
}
