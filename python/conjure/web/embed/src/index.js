// @conjure/embed — play a conjure world inside any element.
//
//   import { mount } from "https://your-server/embed.js";
//   const player = mount(document.getElementById("game"), {
//     baseUrl: "https://your-server",
//     getToken: async () => (await fetch("/my-app/session-token")).json(), // {token, expiresAt} or "st_…"
//   });
//   player.on("state", (s) => console.log(s.state, s.events));
//   player.on("ending", (e) => console.log(e.kind, e.title));
//   player.fire("Take the lantern");
//   player.destroy();
//
// The flow is RUNTIME.md's two-token rule: the app's server mints a session
// token (st_…) with its secret key; this module exchanges it for a connect
// token, opens the runtime socket, binds the session once connected and
// settles it on destroy() and when the page is hidden for good (pagehide,
// navigator.sendBeacon). Frames (binary JPEG messages) are drawn on a canvas,
// newest first: a frame that arrives while one is decoding replaces the one
// waiting. WASD hold movement; digits 1-9 and the listed hotkeys fire events.
// When the player stands where the world places characters (the `state`
// message's `characters`), a talk box lets them type to one: the reply and the
// stance show in the box and the reply is spoken (an <audio> element playing
// POST /v1/characters/{id}/tts). See MountOptions for talkBox, talkElement, voice.

/**
 * A session token as the app's server returns it (POST /v1/sessions with its secret key).
 * @typedef {object} SessionToken
 * @property {string} token an `st_…` session token
 * @property {string} [expiresAt] ISO 8601; the player fetches a new one a minute before
 */

/**
 * @typedef {object} MountOptions
 * @property {string} [baseUrl] the conjure server (default: this page's origin)
 * @property {string} [token] a fixed `st_…` token (one session, no refresh)
 * @property {() => Promise<SessionToken | string>} [getToken] mints a token on the app's server
 * @property {EventTarget} [keyTarget] where key presses are read (default: window)
 * @property {boolean} [keys] false: no keyboard handling (drive it with fire/key/move)
 * @property {boolean} [talkBox] false: no talk box where characters stand (call talk() from your own UI)
 * @property {HTMLElement} [talkElement] where the talk box goes (default: the mounted element)
 * @property {boolean} [voice] false: replies are not spoken
 */

/** @typedef {{name: string, hotkey?: string, index: number, kind: "transition" | "override" | "terminal"}} ListedEvent */
/** @typedef {{type: "ready", sessionId: string, width: number, height: number, fps: number, world: string, expiresAt: string}} ReadyMessage */
/** @typedef {{type: "state", state: string, events: ListedEvent[], flags: string[], moving: boolean, override: string | null, time: number, characters?: PresentCharacter[]}} StateMessage */
/** @typedef {{type: "fired", event: string, kind: string, from: string, state: string, automatic: boolean, duration?: number, granted?: string[]}} FiredMessage */
/** @typedef {{type: "ending", kind: "win" | "lose", title: string, subtitle?: string}} EndingMessage */
/** @typedef {{type: "usage", secondsUsed: number, secondsLimit: number, framesSent: number, framesDropped: number, eventsDropped: number}} UsageMessage */
/** @typedef {{type?: "error", code: string, message: string, reason?: string}} ErrorMessage */
/** @typedef {{count: number, width: number, height: number}} FrameInfo */
/** @typedef {{code: number, reason: string, sessionId: string}} CloseInfo */
/** @typedef {{id: string, name: string, stance: string}} PresentCharacter */
/** @typedef {{characterId: string, reply: string, stance: string, fired: string | null}} Reply */
/** @typedef {{characterId: string, duration: number}} AudioInfo */

/**
 * What each `player.on(name, callback)` callback receives.
 * @typedef {object} PlayerEvents
 * @property {ReadyMessage} ready
 * @property {StateMessage} state
 * @property {FiredMessage} fired
 * @property {EndingMessage} ending
 * @property {UsageMessage} usage
 * @property {ErrorMessage} error
 * @property {{type: "pong"}} pong
 * @property {FrameInfo} frame
 * @property {CloseInfo} close
 * @property {{expiresAt: string}} token
 * @property {Reply} reply
 * @property {AudioInfo} audio
 */

const MOVE_KEYS = new Set(["W", "A", "S", "D"]);
const REFRESH_MARGIN_MS = 60_000;

function keyName(event) {
  if (event.key === " " || event.code === "Space") return "Space";
  if (event.key && event.key.length === 1) return event.key.toUpperCase();
  return event.key || "";
}

function trimSlash(url) {
  return (url || "").replace(/\/+$/, "");
}

class Player {
  /**
   * @param {HTMLElement} element the canvas is added to it
   * @param {MountOptions} options
   */
  constructor(element, options) {
    if (!element || typeof element.appendChild !== "function") throw new TypeError("mount: an element is required");
    if (!options || (!options.token && typeof options.getToken !== "function")) {
      throw new TypeError("mount: pass {token} or {getToken}");
    }
    this.element = element;
    this.options = options;
    this.baseUrl = trimSlash(options.baseUrl || (typeof location !== "undefined" ? location.origin : ""));
    this.handlers = new Map();
    /** @type {StateMessage | null} the latest state */
    this.state = null;
    /** @type {EndingMessage | null} the ending, once reached */
    this.ending = null;
    /** @type {string | null} */
    this.sessionId = null;
    this.frames = 0;
    this.framesSkipped = 0;
    this.destroyed = false;
    this._token = null;
    this._tokenExpires = 0;
    this._ws = null;
    this._held = new Set();
    this._decoding = false;
    this._pending = null;
    this._refreshTimer = null;
    this._settled = new Set();
    /** @type {HTMLFormElement | null} */
    this._box = null;
    /** @type {HTMLAudioElement | null} */
    this._audio = null;
    /** @type {Map<string, string>} */
    this._names = new Map();

    this.canvas = document.createElement("canvas");
    this.canvas.width = 640;
    this.canvas.height = 360;
    this.canvas.tabIndex = 0;
    this.canvas.className = "conjure-canvas";
    this.canvas.style.width = "100%";
    this.canvas.style.display = "block";
    this.canvas.setAttribute("aria-label", "conjure world");
    element.appendChild(this.canvas);
    this.ctx = this.canvas.getContext("2d");

    this._onKeyDown = (e) => this._key(e, true);
    this._onKeyUp = (e) => this._key(e, false);
    this._onBlur = () => this._releaseAll();
    this._onPageHide = () => this._settleBeacon();
    this.keyTarget = options.keyTarget || window;
    if (options.keys !== false) {
      this.keyTarget.addEventListener("keydown", this._onKeyDown);
      this.keyTarget.addEventListener("keyup", this._onKeyUp);
      window.addEventListener("blur", this._onBlur);
    }
    window.addEventListener("pagehide", this._onPageHide);
    this._connect().catch((err) => this._fail("connect_failed", err));
  }

  // ---- public API ---------------------------------------------------------
  /**
   * Calls `callback` on each message of that kind; returns a function that unsubscribes.
   * @template {keyof PlayerEvents} K
   * @param {K} name
   * @param {(value: PlayerEvents[K]) => void} callback
   * @returns {() => void}
   */
  on(name, callback) {
    if (!this.handlers.has(name)) this.handlers.set(name, new Set());
    this.handlers.get(name).add(callback);
    return () => this.handlers.get(name).delete(callback);
  }

  /** Fires a listed event by name. @param {string} eventName */
  fire(eventName) {
    this._send({ type: "fire", event: String(eventName) });
  }

  /** Presses a hotkey (`"E"`, or a digit to pick a listed event). @param {string} key */
  key(key) {
    this._send({ type: "key", key: String(key) });
  }

  /** Holds movement keys (`"WA"`; `""` stands still). @param {string} keys */
  move(keys) {
    this._send({ type: "move", keys: String(keys || "") });
  }

  /**
   * One talk turn with a character placed where the player stands: emits "reply" and,
   * unless `voice` is false, plays the reply and emits "audio".
   * @param {string} characterId
   * @param {string} text what the player says (1-1,000 characters)
   * @returns {Promise<Reply>}
   */
  async talk(characterId, text) {
    const token = this._token || (await this._freshToken());
    const path = "/v1/characters/" + encodeURIComponent(String(characterId));
    const turn = await this._post(path + "/say", { text: String(text) }, token);
    const reply = { characterId: String(characterId), reply: turn.reply, stance: turn.stance, fired: turn.fired || null };
    this._emit("reply", reply);
    if (this.options.voice !== false && turn.reply) {
      this._speak(path + "/tts", turn.reply, token, reply.characterId).catch((err) => this._fail("voice_failed", err));
    }
    return reply;
  }

  async _speak(path, text, token, characterId) {
    const res = await fetch(this.baseUrl + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify({ text: text.slice(0, 1000) }),
    });
    if (!res.ok) throw new Error("voice: " + res.status);
    const url = URL.createObjectURL(await res.blob());
    const audio = this._audio || (this._audio = document.createElement("audio"));
    audio.className = "conjure-voice";
    audio.controls = true;
    if (!audio.parentNode) (this._box || this.options.talkElement || this.element).appendChild(audio);
    if (audio.dataset.url) URL.revokeObjectURL(audio.dataset.url);
    audio.dataset.url = url;
    audio.src = url;
    audio.addEventListener("loadedmetadata", () => this._emit("audio", { characterId, duration: audio.duration }), { once: true });
    await audio.play().catch(() => { /* autoplay refused: the element still holds the speech */ });
  }

  _talkBox(characters) {
    if (this.options.talkBox === false) return;
    const present = Array.isArray(characters) ? characters : [];
    if (!this._box) {
      if (!present.length) return;
      const box = document.createElement("form");
      box.className = "conjure-talk";
      box.innerHTML = '<select class="conjure-talk-who" aria-label="who to talk to"></select>' +
        '<span class="conjure-talk-stance" aria-live="polite"></span>' +
        '<input class="conjure-talk-text" maxlength="1000" autocomplete="off" placeholder="Say something…" aria-label="what you say">' +
        '<button type="submit">Say</button><div class="conjure-talk-log" aria-live="polite"></div>';
      box.addEventListener("submit", (e) => {
        e.preventDefault();
        const input = box.querySelector(".conjure-talk-text");
        const who = box.querySelector(".conjure-talk-who").value;
        const text = input.value.trim();
        if (!who || !text) return;
        input.value = "";
        this._log("you", text);
        this.talk(who, text).then(
          (r) => { this._log(this._names.get(r.characterId) || r.characterId, r.reply); this._stance(r.characterId, r.stance); },
          (err) => this._log("", "(" + (err.message || "no answer") + ")"),
        );
      });
      (this.options.talkElement || this.element).appendChild(box);
      this._box = box;
    }
    const select = this._box.querySelector(".conjure-talk-who");
    const keep = select.value;
    select.textContent = "";
    for (const c of present) {
      this._names.set(c.id, c.name);
      const opt = document.createElement("option");
      opt.value = c.id;
      opt.textContent = c.name;
      opt.dataset.stance = c.stance;
      select.appendChild(opt);
    }
    if (present.some((c) => c.id === keep)) select.value = keep;
    this._box.hidden = !present.length;
    const current = present.find((c) => c.id === select.value);
    if (current) this._stance(current.id, current.stance);
  }

  _stance(characterId, stance) {
    if (!this._box) return;
    const el = this._box.querySelector(".conjure-talk-stance");
    el.textContent = stance ? (this._names.get(characterId) || characterId) + " is " + stance : "";
    el.dataset.stance = stance || "";
  }

  _log(who, text) {
    if (!this._box) return;
    const line = document.createElement("p");
    line.textContent = (who ? who + ": " : "") + text;
    this._box.querySelector(".conjure-talk-log").appendChild(line);
  }

  /**
   * Closes the socket, settles the session and removes the canvas.
   * @returns {Promise<void>}
   */
  async destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    clearTimeout(this._refreshTimer);
    if (this.options.keys !== false) {
      this.keyTarget.removeEventListener("keydown", this._onKeyDown);
      this.keyTarget.removeEventListener("keyup", this._onKeyUp);
      window.removeEventListener("blur", this._onBlur);
    }
    window.removeEventListener("pagehide", this._onPageHide);
    const sid = this.sessionId;
    if (this._ws) {
      try { this._ws.close(1000, "destroyed"); } catch (_) { /* already closed */ }
    }
    if (sid) await this._settle(sid);
    this.canvas.remove();
    if (this._box) this._box.remove();
    if (this._audio) {
      if (this._audio.dataset.url) URL.revokeObjectURL(this._audio.dataset.url);
      this._audio.remove();
    }
  }

  // ---- internals ----------------------------------------------------------
  _emit(name, value) {
    const set = this.handlers.get(name);
    if (!set) return;
    for (const cb of [...set]) {
      try { cb(value); } catch (err) { console.error("conjure embed handler", err); }
    }
  }

  _fail(code, err) {
    this._emit("error", { code, message: err && err.message ? err.message : String(err) });
  }

  async _freshToken() {
    if (this.options.token && !this.options.getToken) {
      this._token = this.options.token;
      this._tokenExpires = 0;
      return this._token;
    }
    const got = await this.options.getToken();
    const token = typeof got === "string" ? got : got && got.token;
    if (!token) throw new Error("getToken returned no token");
    this._token = token;
    this._tokenExpires = got && got.expiresAt ? Date.parse(got.expiresAt) : 0;
    this._scheduleRefresh();
    return token;
  }

  _scheduleRefresh() {
    clearTimeout(this._refreshTimer);
    if (!this._tokenExpires || typeof this.options.getToken !== "function") return;
    const wait = Math.max(5_000, this._tokenExpires - Date.now() - REFRESH_MARGIN_MS);
    this._refreshTimer = setTimeout(() => {
      if (this.destroyed) return;
      this._freshToken().then(
        () => this._emit("token", { expiresAt: new Date(this._tokenExpires).toISOString() }),
        (err) => this._fail("token_refresh_failed", err),
      );
    }, wait);
  }

  async _post(path, body, token) {
    const res = await fetch(this.baseUrl + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify(body || {}),
      keepalive: true,
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error(data.detail || res.statusText || "request failed");
      err.status = res.status;
      err.code = data.code;
      throw err;
    }
    return data;
  }

  async _connect() {
    const token = this._token && this.options.getToken ? this._token : await this._freshToken();
    const ex = await this._post("/v1/sessions/exchange", {}, token);
    if (this.destroyed) {
      await this._settle(ex.sessionId, token);
      return;
    }
    this.sessionId = ex.sessionId;
    const url = ex.runtimeUrl || this.baseUrl.replace(/^http/, "ws") + "/v1/runtime";
    const ws = new WebSocket(url + "?token=" + encodeURIComponent(ex.connectToken));
    ws.binaryType = "blob";
    this._ws = ws;
    ws.addEventListener("open", () => {
      this._post("/v1/sessions/bind", { sessionId: ex.sessionId }, this._token).catch((err) => this._fail("bind_failed", err));
    });
    ws.addEventListener("message", (msg) => this._message(msg));
    ws.addEventListener("close", (ev) => this._closed(ev, ex.sessionId));
  }

  _message(msg) {
    if (typeof msg.data !== "string") {
      this._frame(msg.data);
      return;
    }
    let data;
    try { data = JSON.parse(msg.data); } catch (_) { return; }
    switch (data.type) {
      case "ready":
        if (data.width && data.height) {
          this.canvas.width = data.width;
          this.canvas.height = data.height;
        }
        this._emit("ready", data);
        break;
      case "state":
        this.state = data;
        this._talkBox(data.characters);
        this._emit("state", data);
        break;
      case "fired":
        this._emit("fired", data);
        break;
      case "ending":
        this.ending = data;
        this._emit("ending", data);
        break;
      case "usage":
        this._emit("usage", data);
        break;
      case "error":
        this._emit("error", data);
        break;
      case "pong":
        this._emit("pong", data);
        break;
      default:
        break;
    }
  }

  _frame(blob) {
    if (this._decoding) {
      if (this._pending) this.framesSkipped += 1;
      this._pending = blob; // newest frame wins
      return;
    }
    this._decoding = true;
    createImageBitmap(blob).then(
      (bitmap) => {
        this.ctx.drawImage(bitmap, 0, 0, this.canvas.width, this.canvas.height);
        bitmap.close();
        this.frames += 1;
        this._emit("frame", { count: this.frames, width: this.canvas.width, height: this.canvas.height });
      },
      () => { this.framesSkipped += 1; },
    ).finally(() => {
      this._decoding = false;
      const next = this._pending;
      this._pending = null;
      if (next && !this.destroyed) this._frame(next);
    });
  }

  _closed(ev, sessionId) {
    if (this._ws && this._ws.readyState === WebSocket.CLOSED) this._ws = null;
    this._emit("close", { code: ev.code, reason: ev.reason, sessionId });
    if (this.destroyed) return;
    // The token expired: when the app can mint a new one, start a new session.
    if (ev.code === 4001 && typeof this.options.getToken === "function" && !this.ending) {
      this._token = null;
      this._connect().catch((err) => this._fail("reconnect_failed", err));
    }
  }

  _send(obj) {
    if (this._ws && this._ws.readyState === WebSocket.OPEN) this._ws.send(JSON.stringify(obj));
  }

  _key(event, down) {
    if (this.destroyed || event.repeat) return;
    const t = event.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName || ""))) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const name = keyName(event);
    if (MOVE_KEYS.has(name)) {
      if (down) this._held.add(name); else this._held.delete(name);
      this.move([...this._held].join(""));
      event.preventDefault();
      return;
    }
    if (!down) return;
    const listed = (this.state && this.state.events) || [];
    const isDigit = /^[1-9]$/.test(name);
    const isHotkey = listed.some((e) => e.hotkey && String(e.hotkey).toUpperCase() === name.toUpperCase());
    if (isDigit || isHotkey) {
      this.key(name);
      event.preventDefault();
    }
  }

  _releaseAll() {
    if (this._held.size) {
      this._held.clear();
      this.move("");
    }
  }

  async _settle(sessionId, token) {
    if (!sessionId || this._settled.has(sessionId)) return;
    this._settled.add(sessionId);
    try {
      await this._post("/v1/sessions/settle", { sessionId }, token || this._token);
    } catch (_) {
      // The server settles a session whose socket closed or whose token expired.
    }
  }

  _settleBeacon() {
    const sid = this.sessionId;
    if (!sid || this._settled.has(sid) || !this._token) return;
    this._settled.add(sid);
    const body = JSON.stringify({ sessionId: sid, token: this._token });
    if (navigator.sendBeacon) navigator.sendBeacon(this.baseUrl + "/v1/sessions/settle", body);
  }
}

/**
 * Plays a conjure world inside `element`.
 * @param {HTMLElement} element
 * @param {MountOptions} options `token` or `getToken` is required
 * @returns {Player}
 */
export function mount(element, options) {
  return new Player(element, options);
}

export { Player };
export default { mount };
