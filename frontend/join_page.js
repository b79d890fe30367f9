// @ts-check
/**
 * The page a join link shows when its code opens no class (unknown, ended, or not a code at
 * all, like /join/ab/cd): it says so over the whole page, with a form to type another code
 * and a link back to the playground. The code is only ever shown as text.
 */

/** Longest part of a code quoted back (a link may carry anything). */
const QUOTED = 40;

/**
 * Cover the page with the "no such class" message.
 * @param {string} code  the code as the link gave it (decoded, not trusted)
 */
export function showUnknownCode(code) {
  document.querySelector('.join-missing')?.remove();
  const page = document.createElement('div');
  page.className = 'join-missing';
  page.dataset.testid = 'unknown-code';
  const card = document.createElement('main');
  card.className = 'join-missing-card';
  card.setAttribute('role', 'alertdialog');
  card.setAttribute('aria-labelledby', 'join-missing-title');
  const title = element('h1', code.trim() ? `No class with the code “${quoted(code)}”` : 'This link has no class code');
  title.id = 'join-missing-title';
  card.append(title,
    element('p', 'It may have ended, or the code is mistyped. The code is on the presenter’s screen.'),
    joinForm(), backLink());
  page.append(card);
  document.body.append(page);
  /** @type {HTMLInputElement} */ (page.querySelector('input')).focus();
}

/** @param {string} code */
function quoted(code) {
  const chars = [...code];
  return chars.length > QUOTED ? `${chars.slice(0, QUOTED).join('')}…` : code;
}

/** @param {string} tag @param {string} text */
function element(tag, text) {
  const node = document.createElement(tag);
  node.textContent = text;
  return node;
}

/** Another code: opens /join/<that code>. */
function joinForm() {
  const form = document.createElement('form');
  form.dataset.testid = 'unknown-code-form';
  const label = element('label', 'Type the class code');
  label.setAttribute('for', 'unknown-code-input');
  const input = document.createElement('input');
  input.id = 'unknown-code-input';
  input.dataset.testid = 'unknown-code-input';
  input.autocomplete = 'off';
  input.maxLength = 16;
  input.placeholder = 'code';
  input.required = true;
  const button = element('button', 'Join');
  form.append(label, input, button);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const code = input.value.trim().toUpperCase();
    if (code) location.assign(`/join/${encodeURIComponent(code)}`);
  });
  return form;
}

function backLink() {
  const link = /** @type {HTMLAnchorElement} */ (element('a', '← Back to the playground'));
  link.href = '/';
  link.dataset.testid = 'unknown-code-back';
  return link;
}
