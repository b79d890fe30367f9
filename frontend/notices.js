// @ts-check
/**
 * The page's one notice area: errors, warnings and news, each about a topic ('csv',
 * 'connection', 'command', …). A notice stays until it is dismissed (its × button, or Escape
 * while it has focus) or replaced by a newer notice about the same topic; nothing times out.
 * `notify` and `clear` are all the rest of the page uses. The list itself (`NoticeBoard`)
 * has no DOM, so node can test it; `render` draws it into the `[data-testid="notices"]`
 * element of index.html (styles: notices.css).
 */

/**
 * @typedef {'error' | 'warning' | 'info'} Level
 * @typedef {{label: string, run: () => void}} Action  a button in the notice (e.g. "Reload")
 * @typedef {{topic: string, level: Level, text: string, action?: Action}} Notice
 * @typedef {Notice & {id: number}} Shown  a notice on the board, numbered in order of arrival
 */

export const LEVELS = /** @type {const} */ (['error', 'warning', 'info']);

/** The notices on screen, oldest first, at most one per topic. No timers: only calls change it. */
export class NoticeBoard {
  /** @param {(notices: Shown[]) => void} [onChange]  called after every change */
  constructor(onChange) {
    /** @type {Shown[]} */
    this.notices = [];
    this.nextId = 1;
    this.onChange = onChange ?? (() => {});
  }

  /**
   * Show ``notice``; an older notice about the same topic goes. The same notice again (a
   * reconnect that fails once more) changes nothing: it is not announced twice.
   * @param {Notice} notice
   * @returns {number} the id of the notice shown
   */
  notify(notice) {
    checkNotice(notice);
    const same = this.about(notice.topic);
    if (same && same.level === notice.level && same.text === notice.text && !same.action && !notice.action) {
      return same.id;
    }
    const shown = { ...notice, id: this.nextId++ };
    this.notices = [...this.notices.filter((n) => n.topic !== notice.topic), shown];
    this.onChange(this.notices);
    return shown.id;
  }

  /** The notice about ``topic`` goes (if there is one): its problem is solved. @param {string} topic */
  clear(topic) {
    this.remove((n) => n.topic === topic);
  }

  /** The user dismissed the notice with this id. @param {number} id */
  dismiss(id) {
    this.remove((n) => n.id === id);
  }

  /** @param {(notice: Shown) => boolean} gone */
  remove(gone) {
    const kept = this.notices.filter((n) => !gone(n));
    if (kept.length === this.notices.length) return;
    this.notices = kept;
    this.onChange(this.notices);
  }

  /** @param {string} topic @returns {Shown | undefined} */
  about(topic) {
    return this.notices.find((n) => n.topic === topic);
  }
}

/** A notice must have a topic, a known level and some text. @param {Notice} notice */
function checkNotice(notice) {
  if (!notice || typeof notice.topic !== 'string' || notice.topic === '') {
    throw new TypeError('notice.topic must be a non-empty string');
  }
  if (!LEVELS.includes(notice.level)) throw new TypeError(`notice.level must be one of ${LEVELS.join(', ')}`);
  if (typeof notice.text !== 'string' || notice.text.trim() === '') {
    throw new TypeError('notice.text must be a non-empty string');
  }
}

/** How a screen reader hears a level: errors interrupt, the rest waits its turn. */
const LIVE = /** @type {Record<Level, {role: string, live: string}>} */ ({
  error: { role: 'alert', live: 'assertive' },
  warning: { role: 'status', live: 'polite' },
  info: { role: 'status', live: 'polite' },
});

/**
 * Draw the board's notices into ``container``: one element per notice (kept while the
 * notice is; a replaced notice is a new element, so it is announced again). Text is set with
 * textContent only (a notice may quote a file name, a link or a join code).
 * @param {HTMLElement} container
 * @param {Shown[]} notices
 * @param {(id: number) => void} onDismiss
 */
export function render(container, notices, onDismiss) {
  const wanted = new Set(notices.map((n) => String(n.id)));
  for (const element of [...container.children]) {
    const id = /** @type {HTMLElement} */ (element).dataset.noticeId ?? '';
    if (wanted.has(id)) continue;
    if (element.contains(document.activeElement)) /** @type {HTMLElement} */ (document.activeElement).blur();
    element.remove();
  }
  for (const notice of notices) {
    if (!container.querySelector(`[data-notice-id="${notice.id}"]`)) {
      container.append(noticeElement(notice, onDismiss));
    }
  }
}

/** @param {Shown} notice @param {(id: number) => void} onDismiss @returns {HTMLElement} */
function noticeElement(notice, onDismiss) {
  const element = document.createElement('div');
  element.className = `notice ${notice.level}`;
  element.dataset.noticeId = String(notice.id);
  element.dataset.topic = notice.topic;
  element.dataset.testid = `notice-${notice.topic}`;
  element.setAttribute('role', LIVE[notice.level].role);
  element.setAttribute('aria-live', LIVE[notice.level].live);
  element.tabIndex = -1;
  const text = document.createElement('span');
  text.className = 'notice-text';
  text.textContent = notice.text;
  element.append(text);
  if (notice.action) {
    const { label, run } = notice.action;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'notice-action';
    button.textContent = label;
    button.addEventListener('click', run);
    element.append(button);
  }
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'notice-close';
  close.textContent = '×';
  close.title = 'Dismiss (Esc)';
  close.setAttribute('aria-label', 'Dismiss this notice');
  close.addEventListener('click', () => onDismiss(notice.id));
  element.append(close);
  element.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    event.stopPropagation();
    onDismiss(notice.id);
  });
  return element;
}

/** The page's board, drawn into index.html's notice area (when there is one: not in node). */
export const board = new NoticeBoard((notices) => {
  const container = typeof document === 'undefined' ? null
    : /** @type {HTMLElement | null} */ (document.querySelector('[data-testid="notices"]'));
  if (container) render(container, notices, (id) => board.dismiss(id));
});

/**
 * Show a notice; it replaces the one about the same topic and stays until dismissed.
 * @param {Notice} notice
 */
export function notify(notice) {
  board.notify(notice);
}

/** The problem of ``topic`` is solved: its notice goes. @param {string} topic */
export function clear(topic) {
  board.clear(topic);
}

/**
 * "field: message" for a refusal that names its field (the server's `error` messages and
 * REST errors do), else the message.
 * @param {{field?: string | null, message: string}} refusal
 */
export function refusalText({ field, message }) {
  return field ? `${field}: ${message}` : message;
}
