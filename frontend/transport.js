// @ts-check
/**
 * The socket to the server: creates (or resumes) a session, says hello as presenter,
 * reconnects by itself with backoff, and resolves command promises on ack/error.
 * The presenter token lives only in this tab's sessionStorage, never in a URL.
 */

import { decodeFrame, hello, parseServerMessage } from './protocol.js';

const STORAGE_KEY = 'backprop-playground.session';

/**
 * @typedef {{onFrame: (frame: import('./protocol.js').Frame) => void,
 *   onMessage: (message: any) => void, onStatus: (status: string) => void,
 *   initialConfig: () => any}} Handlers
 */

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
    /** @type {{id: string, token: string} | null} */
    this.session = loadSession();
  }

  async start() {
    this.handlers.onStatus('connecting');
    try {
      if (!this.session || !(await sessionExists(this.session.id))) {
        this.session = await createSession(this.handlers.initialConfig());
        storeSession(this.session);
      }
      this.open();
    } catch (error) {
      this.scheduleReconnect();
    }
  }

  open() {
    const session = /** @type {{id: string, token: string}} */ (this.session);
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/ws/sessions/${session.id}`);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onopen = () => {
      this.retry = 0;
      socket.send(hello('presenter', session.token));
      this.handlers.onStatus('open');
    };
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') {
        const message = parseServerMessage(event.data);
        const waiting = message.id != null && this.pending.get(message.id);
        if (waiting && (message.type === 'ack' || message.type === 'error')) {
          this.pending.delete(message.id);
          waiting.resolve({ ...message, latency: performance.now() - waiting.sent });
        }
        this.handlers.onMessage(message);
      } else {
        this.handlers.onFrame(decodeFrame(event.data));
      }
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      if (event.code === 4404 || event.code === 4403) this.session = null;  // gone: start anew
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

  /** Forget this session and start a fresh one with ``config`` (e.g. after a server restart). */
  async restart() {
    this.session = null;
    this.socket?.close();
  }
}

/** @returns {{id: string, token: string} | null} */
function loadSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null');
    return saved && typeof saved.id === 'string' && typeof saved.token === 'string' ? saved : null;
  } catch { return null; }
}

/** @param {{id: string, token: string}} session */
function storeSession(session) {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

/** @param {string} id */
async function sessionExists(id) {
  const response = await fetch(`/api/sessions/${encodeURIComponent(id)}`);
  if (response.status === 404) return false;
  if (!response.ok) throw new Error(`session lookup failed: ${response.status}`);
  return true;
}

/** @param {any} config */
async function createSession(config) {
  const response = await fetch('/api/sessions', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify(config ? { config } : {}),
  });
  if (!response.ok) throw new Error(`could not create a session: ${response.status}`);
  const created = await response.json();
  return { id: created.id, token: created.presenter_token };
}
