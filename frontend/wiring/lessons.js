// @ts-check
/**
 * The Lessons menu and the lesson's script beside the network. The menu lists the lessons
 * of lessons.js as real links (`<a href="#…">`, so a teacher can copy one); following one
 * opens its setup in a new session (a link opened in this tab without a session — from the
 * menu or pasted — loads the page again from it). The script is a collapsible note
 * (`<details>`) with numbered steps, the current one highlighted (next / prev buttons, or
 * a click on a step), and what students should now be able to explain. Presenter only:
 * a viewer follows the class without the teacher's notes.
 */

import { LESSONS, lessonById } from '../lessons.js';
import { linkFor } from '../links.js';
import { linkedStart } from './start.js';

/** @typedef {import('./app.js').App} App */
/** @typedef {import('../lessons.js').Lesson} Lesson */

/** @param {string} tag @param {Record<string, string>} [attributes] @param {(Node | string)[]} [children] */
function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/**
 * The menu's content: a button (summary) and one link per lesson with its one-line summary.
 * @param {HTMLDetailsElement} menu  the `[data-testid=lessons-menu]` element of index.html
 */
export function buildLessonsMenu(menu) {
  const summary = element('summary', { 'data-testid': 'lessons-button', title: 'Ready-made lessons: a link and a script each' }, ['Lessons']);
  const items = LESSONS.map((lesson, index) => element('li', {}, [
    element('a', { href: linkFor(lesson.link), 'data-testid': `lesson-link-${lesson.id}` }, [
      element('span', { class: 'lesson-title' }, [`${index + 1}. ${lesson.title}`]),
      element('span', { class: 'lesson-summary' }, [lesson.summary]),
    ]),
  ]));
  menu.replaceChildren(summary, element('ul', { class: 'lessons-list', 'aria-label': 'Lessons' }, items));
  menu.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && menu.open) {
      menu.open = false;
      /** @type {HTMLElement} */ (menu.querySelector('summary')).focus();
    }
  });
  document.addEventListener('click', (event) => {
    if (menu.open && !menu.contains(/** @type {Node} */ (event.target))) menu.open = false;
  });
}

/** @param {string} label @param {string} text */
const labelled = (label, text) => [element('span', { class: 'lesson-label' }, [`${label}: `]), text];

/** One numbered step: what to click, what to say, what they see, the question. @param {import('../lessons.js').LessonStep} step @param {number} index */
function stepItem(step, index) {
  return element('li', { 'data-step': String(index + 1), 'data-testid': `lesson-step-${index + 1}` }, [
    element('p', { class: 'lesson-do' }, [step.do]),
    element('p', { class: 'lesson-say' }, [step.say]),
    element('p', { class: 'lesson-see' }, labelled('They see', step.see)),
    ...(step.ask ? [element('p', { class: 'lesson-ask' }, labelled('Ask', step.ask))] : []),
  ]);
}

/**
 * The lesson's script as a collapsible note: a toggle with the title, then prev / position /
 * next, the numbered steps and the explain line.
 * @param {HTMLElement} note  the `[data-testid=lesson-note]` element of index.html
 * @param {Lesson} lesson
 */
export function buildLessonNote(note, lesson) {
  const toggle = element('button', { type: 'button', class: 'lesson-toggle', 'data-testid': 'lesson-toggle',
    'aria-expanded': 'true', 'aria-controls': 'lesson-body', title: 'Show or hide the lesson’s script' }, [
    element('span', { class: 'lesson-kicker' }, ['Lesson']), element('span', { class: 'lesson-name' }, [lesson.title]),
  ]);
  const body = element('div', { class: 'lesson-body', id: 'lesson-body' }, [
    element('div', { class: 'lesson-nav' }, [
      element('button', { type: 'button', 'data-testid': 'lesson-prev', title: 'The previous step of the script' }, ['‹ prev']),
      element('span', { class: 'lesson-position', 'data-testid': 'lesson-position', title: 'the step of the script you are at' }),
      element('button', { type: 'button', 'data-testid': 'lesson-next', title: 'The next step of the script' }, ['next ›']),
    ]),
    element('div', { class: 'lesson-script' }, [
      element('ol', { class: 'lesson-steps' }, lesson.steps.map(stepItem)),
      element('p', { class: 'lesson-explain', 'data-testid': 'lesson-explain' }, [lesson.explain]),
    ]),
  ]);
  note.replaceChildren(toggle, body);
  note.dataset.lesson = lesson.id;
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    body.hidden = !open;
    document.body.classList.toggle('lesson-collapsed', !open);
  });
  followSteps(note, lesson.id, lesson.steps.length);
}

/**
 * The highlighted step: next / prev or a click on a step move it; a reload keeps it (this
 * tab's sessionStorage), the lesson opened anew (no session in the link) starts at 1.
 * @param {HTMLElement} note @param {string} id @param {number} count
 */
function followSteps(note, id, count) {
  const saved = `backprop-playground.lesson-step.${id}`;
  if (!new URLSearchParams(location.hash.slice(1)).has('session')) sessionStorage.removeItem(saved);
  const $ = (/** @type {string} */ testid) => /** @type {HTMLButtonElement} */ (note.querySelector(`[data-testid=${testid}]`));
  let current = 1;
  /** @param {number} step */
  const show = (step) => {
    current = Math.max(1, Math.min(count, step));
    sessionStorage.setItem(saved, String(current));
    for (const item of /** @type {NodeListOf<HTMLElement>} */ (note.querySelectorAll('.lesson-steps > li'))) {
      const on = Number(item.dataset.step) === current;
      item.classList.toggle('current', on);
      if (on) item.setAttribute('aria-current', 'step'); else item.removeAttribute('aria-current');
      if (on) scrollWithin(item);
    }
    note.dataset.current = String(current);
    $('lesson-position').textContent = `${current} / ${count}`;
    $('lesson-prev').disabled = current === 1;
    $('lesson-next').disabled = current === count;
  };
  $('lesson-prev').addEventListener('click', () => show(current - 1));
  $('lesson-next').addEventListener('click', () => show(current + 1));
  for (const item of /** @type {NodeListOf<HTMLElement>} */ (note.querySelectorAll('.lesson-steps > li'))) {
    item.addEventListener('click', () => show(Number(item.dataset.step)));
  }
  show(Number(sessionStorage.getItem(saved)) || 1);
}

/** Scroll the script (only it) so that `item` starts at its top. @param {HTMLElement} item */
function scrollWithin(item) {
  const script = /** @type {HTMLElement} */ (item.closest('.lesson-script'));
  script.scrollTop += item.getBoundingClientRect().top - script.getBoundingClientRect().top;
}

/** The menu, the note of the linked lesson, and links opened in this tab. @param {App} app */
export function wireLessons(app) {
  buildLessonsMenu(/** @type {HTMLDetailsElement} */ (app.$('lessons-menu')));
  const lesson = lessonById(linkedStart().lesson ?? null);
  const note = app.$('lesson-note');
  const presenter = app.connection.role === 'presenter';
  note.hidden = !lesson || !presenter;
  document.body.classList.toggle('lesson', Boolean(lesson) && presenter);
  if (lesson && presenter) buildLessonNote(note, lesson);
  // a link followed in this tab (the page only ever replaces its own hash): start from it
  window.addEventListener('hashchange', () => {
    if (!new URLSearchParams(location.hash.slice(1)).has('session')) location.reload();
  });
}
