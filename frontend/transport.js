// @ts-check
/**
 * The socket to the server. A presenter's session id is in the URL hash (#session=…), its
 * token only in this browser's localStorage (so a reload or a second tab gets control back,
 * and a copied link never carries it). A viewer joins by code (/join/CODE). The connection
 * reconnects by itself with backoff and resolves command promises on ack/error.
 */

import { decodeFrame, hello, parseServerMessage } from './protocol.js';
import { CLOSE_CODES } from './wire.gen.js';
import { hashParam, setHashParam } from './state.js';

const TOKENS_KEY = 'backprop-playground.tokens';
const { CLASS_ENDED, NOT_FOUND, FORBIDDEN } = CLOSE_CODES;

/**
 * @typedef {{onFrame: (frame: import('./protocol.js').Frame) => void,
 *   onMessage: (message: any) => void, onStatus: (status: string) => void,
 *   initialConfig?: () => any, onNotice?: (text: string) => void}} Handlers
 */

/** The join code if this page was opened as /join/CODE, else null. */
export function joinCodeFromPath() {
  const match = location.pathname.match(/^\/join\/([A-Za-z0-9-]{3,16})\/?$/);
  return match ? match[1].toUpperCase() : null;
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
    this.joinCode = joinCodeFromPath();
    /** @type {import('./protocol.js').Role} */
    this.role = this.joinCode ? 'viewer' : 'presenter';
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
      this.scheduleReconnect();
    }
  }

  /** The class's session, or null (with a status) when the code is unknown. */
  async resolveJoinCode() {
    const response = await fetch(`/api/join/${encodeURIComponent(/** @type {string} */ (this.joinCode))}`);
    if (response.status === 404) {
      this.ended = true;
      this.handlers.onStatus('no-class');
      return null;
    }
    if (!response.ok) throw new Error(`join failed: ${response.status}`);
    const joined = await response.json();
    return { id: joined.session, token: joined.code };  // a viewer's hello carries the code
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
      this.handlers.onNotice?.(`${error instanceof Error ? error.message : error}; using the defaults`);
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
      socket.send(hello(this.role, session.token));
      this.handlers.onStatus('open');
    };
    socket.onmessage = inOrder((text) => {
      const message = parseServerMessage(text);
      if (message.type === 'welcome') this.memberToken = message.member_token ?? null;
      if (message.type === 'ack' || message.type === 'error') {
        const id = message.id;  // this client's request ids are numbers (nextId)
        const waiting = typeof id === 'number' && this.pending.get(id);
        if (waiting) {
          this.pending.delete(id);
          waiting.resolve({ ...message, latency: performance.now() - waiting.sent });
        }
      }
      this.handlers.onMessage(message);
    }, (frame) => {
      if (this.socket === socket) this.handlers.onFrame(frame);
    });
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      if (event.code === CLASS_ENDED) {
        this.ended = true;
        this.handlers.onStatus('class-ended');
        return;
      }
      if (event.code === NOT_FOUND || event.code === FORBIDDEN) setHashParam('session', null);
      this.scheduleReconnect();
    };
  }

  scheduleReconnect() {
    this.handlers.onStatus('reconnecting');
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
        resolve({ type: 'error', id, field: null, message: 'not connected' });
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
    if (!response.ok) throw new Error(`fork failed: ${response.status}`);
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
 * server). A handler's exception is reported, and the queue goes on.
 * @param {(text: string) => void} onText
 * @param {(frame: import('./protocol.js').Frame) => void} onFrame
 * @returns {(event: MessageEvent) => void}
 */
export function inOrder(onText, onFrame) {
  /** @type {(string | ArrayBuffer)[]} */
  const inbox = [];
  let draining = false;
  const drain = async () => {
    draining = true;
    while (inbox.length > 0) {
      const data = /** @type {string | ArrayBuffer} */ (inbox.shift());
      try {
        if (typeof data === 'string') onText(data);
        else if (inbox.filter((later) => typeof later !== 'string').length < FRAME_BACKLOG) {
          onFrame(await decodeFrame(data));
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
  const detail = (await response.json().catch(() => ({}))).detail;
  const reason = detail && typeof detail === 'object' && detail.message
    ? `${detail.field ? `${detail.field}: ` : ''}${detail.message}` : `status ${response.status}`;
  throw new Error(`the link's setup was refused (${reason})`);
}
