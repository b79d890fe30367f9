// @ts-check
/**
 * The socket to the server. A presenter's session id is in the URL hash (#session=…), its
 * token only in this browser's localStorage (so a reload or a second tab gets control back,
 * and a copied link never carries it). A viewer joins by code (/join/CODE). The connection
 * reconnects by itself with backoff and resolves command promises on ack/error. What the
 * user must know (the server closed the socket and why, the server is unreachable, a join
 * code opens no class or is looked up too often) goes to the handlers as notices.
 */

import { decodeFrame, hello, parseServerMessage, readFrame } from './protocol.js';
import { CLOSE_CODES } from './wire.gen.js';
import { hashParam, setHashParam } from './state.js';

const TOKENS_KEY = 'backprop-playground.tokens';
const { CLASS_ENDED, NOT_FOUND, FORBIDDEN, FULL, POLICY, SPOTLIGHT_ENDED, TOO_BIG } = CLOSE_CODES;
/** What can be a join code at all (the server decides which codes are classes). */
const CODE_SHAPE = /^[A-Za-z0-9 -]{1,16}$/;

/**
 * @typedef {import('./notices.js').Notice} Notice
 * @typedef {{onFrame: (frame: import('./protocol.js').Frame) => void,
 *   onMessage: (message: any) => void, onStatus: (status: string) => void,
 *   initialConfig?: () => any, onNotice?: (notice: Notice) => void,
 *   onClearNotice?: (topic: string) => void, onUnknownCode?: (code: string) => void}} Handlers
 */

/**
 * What a page opened as /join/… asks for: the code as the link gives it (decoded, trailing
 * slash dropped, possibly anything, e.g. "ab/cd") and, if it can be a code, that code in
 * capitals; null on any other page.
 * @param {string} [pathname]
 * @returns {{given: string, code: string | null} | null}
 */
export function joinLink(pathname = location.pathname) {
  const match = pathname.match(/^\/join\/(.*?)\/?$/);
  if (!match) return null;
  let given = match[1];
  try { given = decodeURIComponent(given); } catch { /* a malformed escape: quoted as it is */ }
  return { given, code: CODE_SHAPE.test(given) ? given.toUpperCase() : null };
}

/** The join code if this page was opened as /join/CODE, else null. */
export function joinCodeFromPath() {
  return joinLink()?.code ?? null;
}

/** A lookup refused for now: try again in ``seconds``. */
class RetryLater extends Error {
  /** @param {number} seconds @param {string} message */
  constructor(seconds, message) {
    super(message);
    this.seconds = seconds;
  }
}

/**
 * What a close by the server means in words (when its reason is empty) and what happens next,
 * per close code (wire.gen.js); null for a close that needs no notice (a restart, a network
 * failure: the page just reconnects).
 * @param {number} code @param {string} reason  the server's reason ('' if none)
 * @param {import('./protocol.js').Role} role
 * @returns {Notice | null}
 */
export function closeNotice(code, reason, role) {
  const known = /** @type {Record<number, [string, string]>} */ ({
    [POLICY]: ['this page broke the protocol', 'Reload the page.'],
    [TOO_BIG]: ['a message from this page was too large', 'The page reconnects by itself.'],
    [FORBIDDEN]: role === 'presenter'
      ? ['this browser’s key does not open the session', 'A new session of your own was started.']
      : ['this page may not watch the class', 'Ask the presenter for the code.'],
    [NOT_FOUND]: ['the session no longer exists (it may have been idle too long)',
      role === 'presenter' ? 'A new session of your own was started.' : 'Ask the presenter for the code.'],
    [FULL]: ['the session has no room for this page now, or this page kept sending too many messages',
      'The page tries again by itself in a few seconds.'],
  })[code];
  const words = reason.trim().replace(/[.\s]+$/, '');
  if (!known && !words) return null;
  const [meaning, next] = known ?? ['', 'The page reconnects by itself.'];
  return {
    topic: 'server', level: 'error',
    text: `The server closed the connection: ${words || meaning}. ${next}`,
    ...(code === POLICY ? { action: { label: 'Reload', run: () => location.reload() } } : {}),
  };
}

export class Connection {
  /** @param {Handlers} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    /** @type {WebSocket | null} */
    this.socket = null;
    this.nextId = 1;
    /** @type {Map<number, {resolve: (m: any) => void, sent: number}>} */
    this.pending = new Map();
    this.retry = 0;
    this.join = joinLink();
    this.joinCode = this.join?.code ?? null;
    /** @type {import('./protocol.js').Role} */
    this.role = this.join ? 'viewer' : 'presenter';
    this.ended = false;
    /** @type {{id: string, token: string | null} | null} */
    this.session = null;
    /** A viewer's member token (from its welcome): what lets it fork or export the class. */
    /** @type {string | null} */
    this.memberToken = null;
  }

  async start() {
    if (this.ended) return;
    this.handlers.onStatus('connecting');
    try {
      this.session = this.role === 'viewer' ? await this.resolveJoinCode() : await this.ownSession();
      if (this.session) this.open();
    } catch (error) {
      if (error instanceof RetryLater) this.retryLookup(error);
      else this.scheduleReconnect();
    }
  }

  /**
   * The class's session, or null (with the 'no-class' status) when the code is unknown or is
   * no code at all; a RetryLater when this address looks codes up too often (429).
   */
  async resolveJoinCode() {
    const code = this.joinCode;
    const response = code === null ? null : await fetch(`/api/join/${encodeURIComponent(code)}`);
    if (response === null || response.status === 404 || response.status === 422) {
      this.ended = true;
      this.handlers.onStatus('no-class');
      this.handlers.onUnknownCode?.(this.join?.given ?? '');
      return null;
    }
    if (response.status === 429) {
      const seconds = Math.max(1, Math.ceil(Number(response.headers.get('retry-after')) || 5));
      throw new RetryLater(seconds, 'too many join-code lookups from this address');
    }
    if (!response.ok) throw new Error(`join failed: ${response.status}`);
    this.handlers.onClearNotice?.('join');
    const joined = await response.json();
    return { id: joined.session, token: joined.code };  // a viewer's hello carries the code
  }

  /** Say how long a refused lookup must wait, and look the code up again then. @param {RetryLater} refusal */
  retryLookup(refusal) {
    this.handlers.onStatus('waiting');
    this.handlers.onNotice?.({ topic: 'join', level: 'warning',
      text: `${refusal.message}: try again in ${refusal.seconds} s (the page tries again by itself).` });
    setTimeout(() => this.start(), refusal.seconds * 1000);
  }

  /** This tab's presenter session: the one in the hash if we hold its token, else a new one. */
  async ownSession() {
    const id = hashParam('session');
    const token = id ? loadTokens()[id] : undefined;
    if (id && token && (await sessionExists(id))) return { id, token };
    const created = await this.createFromLink();
    saveToken(created.id, created.presenter_token);
    setHashParam('session', created.id);
    return { id: created.id, token: created.presenter_token };
  }

  /** A new session with the config the link asks for; the defaults if the server refuses it. */
  async createFromLink() {
    const config = this.handlers.initialConfig?.() ?? null;
    try {
      return await createSession(config);
    } catch (error) {
      if (!config) throw error;
      this.handlers.onNotice?.({ topic: 'link-refused', level: 'warning',
        text: `${error instanceof Error ? error.message : error}; using the defaults` });
      return createSession(null);
    }
  }

  open() {
    const session = /** @type {{id: string, token: string | null}} */ (this.session);
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/ws/sessions/${session.id}`);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onopen = () => {
      this.retry = 0;
      socket.send(hello(this.role, session.token, undefined, true));  // inOrder adds deltas back
      this.handlers.onStatus('open');
      this.handlers.onClearNotice?.('connection');
    };
    socket.onmessage = inOrder((text) => {
      const message = parseServerMessage(text);
      // the refusal before a close: the close's notice says it, with what happens next
      if (message.type === 'error' && message.id == null && socket.readyState >= WebSocket.CLOSING) return;
      if (message.type === 'welcome') this.memberToken = message.member_token ?? null;
      if (message.type === 'ack' || message.type === 'error') {
        const id = message.id;  // this client's request ids are numbers (nextId)
        const waiting = typeof id === 'number' && this.pending.get(id);
        if (waiting) {
          this.pending.delete(id);
          waiting.resolve({ ...message, latency: performance.now() - waiting.sent });
        }
        // rate-limited commands get no answer of their own: the coalesced error names them
        for (const dropped of message.type === 'error' ? message.dropped ?? [] : []) {
          const dropper = typeof dropped === 'number' && this.pending.get(dropped);
          if (dropper) {
            this.pending.delete(dropped);
            dropper.resolve({ ...message, id: dropped, latency: performance.now() - dropper.sent });
          }
        }
      }
      this.handlers.onMessage(message);
    }, (frame) => {
      if (this.socket === socket) this.handlers.onFrame(frame);
    });
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      if (event.code === CLASS_ENDED || event.code === SPOTLIGHT_ENDED) {
        // over for good: a spotlit fork's code is gone too (its frame is being closed)
        this.ended = true;
        this.handlers.onStatus(event.code === CLASS_ENDED ? 'class-ended' : 'spotlight-ended');
        return;
      }
      if (event.code === NOT_FOUND || event.code === FORBIDDEN) setHashParam('session', null);
      const notice = closeNotice(event.code, event.reason, this.role);
      if (notice) this.handlers.onNotice?.(notice);
      this.scheduleReconnect();
    };
  }

  /** Try again with backoff; from the second try on, the page says it is reconnecting. */
  scheduleReconnect() {
    this.handlers.onStatus('reconnecting');
    if (this.retry > 0) {
      this.handlers.onNotice?.({ topic: 'connection', level: 'warning',
        text: 'The server cannot be reached: reconnecting… (your session is kept on the server)' });
    }
    const delay = Math.min(5000, 250 * 2 ** this.retry++);
    setTimeout(() => this.start(), delay);
  }

  /**
   * Send a command built by protocol.js (a function of the request id); resolves with the
   * ack or error message (plus ``latency`` in ms).
   * @param {(id: number) => string} build
   * @returns {Promise<any>}
   */
  send(build) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
        resolve({ type: 'error', id, field: null, message: 'the page is not connected to the server, so it was not sent' });
        return;
      }
      this.pending.set(id, { resolve, sent: performance.now() });
      this.socket.send(build(id));
    });
  }

  /**
   * What opens this session's export and fork (``Authorization: Bearer``): the presenter's
   * token, or a viewer's member token while it is in the class; null before the welcome.
   * @returns {string | null}
   */
  credential() {
    return this.role === 'presenter' ? this.session?.token ?? null : this.memberToken;
  }

  /**
   * Copy the class's current state into a private session of this browser and open it.
   * @returns {Promise<void>}
   */
  async fork() {
    const id = /** @type {{id: string}} */ (this.session).id;
    const response = await fetch(`/api/sessions/${encodeURIComponent(id)}/fork`, {
      method: 'POST', headers: authorized(this.credential()), body: '{}',
    });
    if (!response.ok) throw new Error(await refusalOf(response));
    const created = await response.json();
    saveToken(created.id, created.presenter_token);
    const back = this.joinCode ? `&class=${encodeURIComponent(this.joinCode)}` : '';
    location.assign(`/#session=${encodeURIComponent(created.id)}${back}`);
  }
}

/** Frames that may wait behind the one being decoded; a frame with more behind it is dropped. */
const FRAME_BACKLOG = 4;

/**
 * A socket's message handler that keeps the server's order although frames decode
 * asynchronously (their bodies are inflated): messages wait behind a frame being decoded,
 * and every frame reaches `onFrame` — unless the page falls so far behind that
 * FRAME_BACKLOG newer frames wait, when it is dropped undecoded (latest wins, as on the
 * server; it is still read, for a `delta` frame after it is its difference). A handler's
 * exception is reported, and the queue goes on. A frame that left its maps out (the
 * server's link lagged) gets the previous frame's.
 * @param {(text: string) => void} onText
 * @param {(frame: import('./protocol.js').Frame) => void} onFrame
 * @returns {(event: MessageEvent) => void}
 */
export function inOrder(onText, onFrame) {
  /** @type {(string | ArrayBuffer)[]} */
  const inbox = [];
  /** @type {import('./protocol.js').Frame | null} the last frame decoded (its maps are held) */
  let previous = null;
  /** @type {import('./protocol.js').FrameBase | null} the last frame read with its maps (a delta's base) */
  let base = null;
  let draining = false;
  const drain = async () => {
    draining = true;
    while (inbox.length > 0) {
      const data = /** @type {string | ArrayBuffer} */ (inbox.shift());
      try {
        if (typeof data === 'string') onText(data);
        else {
          const [after, decode] = [base, inbox.filter((later) => typeof later !== 'string').length < FRAME_BACKLOG];
          base = null;  // until this frame is read
          // dropped undecoded, a frame is still read: the next delta may add to it
          const read = decode ? await decodeFrame(data, previous, after) : await readFrame(data, after);
          base = read.mapsSkipped ? after : read;  // a frame without maps is no base
          if (decode) {
            previous = /** @type {import('./protocol.js').Frame} */ (read);
            onFrame(previous);
          }
        }
      } catch (error) {
        reportError(error);
      }
    }
    draining = false;
  };
  return (event) => {
    inbox.push(event.data);
    if (!draining) drain();
  };
}

/**
 * Headers of a JSON request that carries ``credential`` (the server refuses a fork or an
 * export without one, and any body that is not JSON).
 * @param {string | null} credential
 * @returns {Record<string, string>}
 */
export function authorized(credential) {
  /** @type {Record<string, string>} */
  const headers = { 'content-type': 'application/json' };
  if (credential) headers.authorization = `Bearer ${credential}`;
  return headers;
}

/** @returns {Record<string, string>} */
function loadTokens() {
  try {
    const saved = JSON.parse(localStorage.getItem(TOKENS_KEY) ?? '{}');
    return saved && typeof saved === 'object' ? saved : {};
  } catch { return {}; }
}

/**
 * Remember a presenter token in this browser (never in a URL).
 * @param {string} id @param {string} token
 */
export function saveToken(id, token) {
  const tokens = loadTokens();
  tokens[id] = token;
  const recent = Object.entries(tokens).slice(-20);  // keep the storage small
  localStorage.setItem(TOKENS_KEY, JSON.stringify(Object.fromEntries(recent)));
}

/** @param {string} id */
async function sessionExists(id) {
  const response = await fetch(`/api/sessions/${encodeURIComponent(id)}`);
  if (response.status === 404) return false;
  if (!response.ok) throw new Error(`session lookup failed: ${response.status}`);
  return true;
}

/** @param {any} config  a partial trainer config, or null for the defaults */
async function createSession(config) {
  const response = await fetch('/api/sessions', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify(config ? { config } : {}),
  });
  if (response.ok) return response.json();
  throw new Error(`the link's setup was refused (${await refusalOf(response)})`);
}

/**
 * What a refused REST request says: "field: message" from the error body
 * (`{"detail": {"field", "message"}}`), else its status.
 * @param {Response} response
 */
async function refusalOf(response) {
  const detail = (await response.json().catch(() => ({}))).detail;
  return detail && typeof detail === 'object' && detail.message
    ? `${detail.field ? `${detail.field}: ` : ''}${detail.message}` : `status ${response.status}`;
}
