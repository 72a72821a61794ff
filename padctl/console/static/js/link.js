// The one WebSocket to the server: snapshot and updates in, commands with request ids out.

const ANSWER_WAIT_MS = 30000;
const CLOSE_UNAUTHENTICATED = 4401;

export class Link {
  /**
   * @param store the Store the messages are applied to
   * @param hooks {onAnswer(answer, label), onStatus(text, ok), onLoggedOut(reason)}
   */
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    this.socket = null;
    this.nextId = 1;
    this.pending = new Map(); // request_id -> {resolve, timer, label}
    this.retryMs = 500;
    this.stopped = false;
  }

  connect() {
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/ws`);
    this.socket = socket;
    this.hooks.onStatus("connecting", false);
    socket.addEventListener("message", (event) => this.receive(socket, event.data));
    socket.addEventListener("close", (event) => this.closed(socket, event));
  }

  receive(socket, text) {
    if (socket !== this.socket) return;
    const now = performance.now();
    let message;
    try {
      message = JSON.parse(text);
    } catch (error) {
      this.resync(`unreadable message (${error.message})`);
      return;
    }
    switch (message.type) {
      case "snapshot":
        this.store.applySnapshot(message, now);
        this.retryMs = 500;
        this.hooks.onStatus("connected", true);
        break;
      case "update":
        if (!this.store.applyUpdate(message, now)) {
          this.resync(`update ${message.seq} after ${this.store.seq}: missed updates`);
        }
        break;
      case "accepted":
      case "refused":
      case "armed":
        this.answered(message);
        break;
      case "session_expired":
        this.stopped = true;
        this.hooks.onLoggedOut(message.reason);
        break;
      case "error":
        this.stopped = true; // the server closes this socket; a retry would meet the same
        if (message.code === "unauthenticated") this.hooks.onLoggedOut(message.reason);
        else this.hooks.onStatus(`refused by the server: ${message.reason}`, false);
        break;
      default:
        this.resync(`unknown message type ${message.type}`);
    }
  }

  /** Drop this socket and connect again for a fresh snapshot. */
  resync(why) {
    console.warn("console resync:", why);
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close(1000, "resync");
    this.hooks.onStatus(`resync: ${why}`, false);
    this.connect();
  }

  closed(socket, event) {
    if (socket !== this.socket) return;
    this.socket = null;
    for (const [id, entry] of this.pending) {
      this.finish(id, entry, localRefusal(entry, "the connection closed before the answer came"));
    }
    if (event.code === CLOSE_UNAUTHENTICATED) {
      this.stopped = true;
      this.hooks.onLoggedOut(event.reason || "session ended");
      return;
    }
    if (this.stopped) return;
    this.hooks.onStatus(`link lost (code ${event.code}); reconnecting`, false);
    setTimeout(() => this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 5000);
  }

  /**
   * Send a command; resolves with the server's answer (or a local refusal if not sent).
   * `quiet`: do not announce an accepted answer (queries); refusals are always shown.
   */
  send(command, args = {}, label = command, { quiet = false } = {}) {
    const requestId = `c-${this.nextId++}`;
    const entry = { label, command, args };
    return new Promise((resolve) => {
      entry.resolve = resolve;
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
        resolve(localRefusal(entry, "not connected to the server: the command was not sent"));
        return;
      }
      entry.timer = setTimeout(() => {
        this.finish(requestId, entry, localRefusal(entry, "no answer within 30 s: see the journal"));
      }, ANSWER_WAIT_MS);
      this.pending.set(requestId, entry);
      this.socket.send(JSON.stringify({ type: "command", request_id: requestId, command, args }));
    }).then((answer) => {
      if (!(quiet && answer.type === "accepted")) this.hooks.onAnswer(answer, label);
      return answer;
    });
  }

  answered(message) {
    const entry = this.pending.get(message.request_id);
    if (entry) this.finish(message.request_id, entry, message);
    else this.hooks.onAnswer(message, message.command);
  }

  finish(requestId, entry, answer) {
    clearTimeout(entry.timer);
    this.pending.delete(requestId);
    entry.resolve(answer);
  }

  stop() {
    this.stopped = true;
    if (this.socket) this.socket.close(1000, "logout");
  }
}

function localRefusal(entry, reason) {
  return { type: "refused", request_id: null, command: entry.command, code: "link", reason };
}
