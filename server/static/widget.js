/*! Frontdesk website widget: presence, page views and live chat. No dependencies, nothing fetched.
 *
 * Embed:  <script src="https://HOST/widget.js" data-account="ACCOUNT_KEY" async></script>
 *         add data-consent="required" to store nothing in the browser until frontdesk('consent', true)
 * API:    frontdesk('identify', {name, email, phone, ...custom}); frontdesk('on', 'message', fn);
 *         frontdesk('open'); frontdesk('close'); frontdesk('off', event, fn); frontdesk('consent', true|false)
 * Wire format: protocol/messages.py (VisitorToServer / ServerToVisitor). See docs/widget.md.
 */
(() => {
  "use strict";

  const w = window;
  const d = document;
  const PREFIX = "Frontdesk: ";
  const previous = w.frontdesk;
  if (previous && previous.loaded) return; // the script was included twice

  const script =
    d.currentScript || d.querySelector('script[data-account][src*="widget.js"]');
  const account = script ? (script.getAttribute("data-account") || "").trim() : "";
  // Consent mode: until the site says so, nothing is stored in (or read from) cookies and localStorage,
  // and the server treats the visitor as session-only. See docs/privacy.md.
  const consentRequired = Boolean(script) && (script.getAttribute("data-consent") || "").trim() === "required";
  let consent = !consentRequired;
  if (!script || !account) {
    console.warn(PREFIX + 'add data-account="YOUR_ACCOUNT_KEY" to the widget\'s <script> tag');
    return;
  }

  // ------------------------------------------------------------------ limits (protocol/rules.py)
  const ID_RE = /^[A-Za-z0-9_-]{8,64}$/;
  const FIELD_CHARS = 2048;
  const TEXT_CHARS = 4000;
  const MAX_CUSTOM = 32;
  const ACTIVITY_EVERY_MS = 5000;
  const TYPING_IDLE_MS = 3000;
  const RESEND_AFTER_MS = 10000;
  const BACKOFF_MIN_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const PERMANENT_ERRORS = ["unknown_account", "origin_not_allowed", "incompatible_protocol"];

  // The endpoint lives beside widget.js, so a server under a path prefix works too.
  const wsUrl = new URL("ws/visitor", script.src);
  wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";
  wsUrl.searchParams.set("account", account);

  // ------------------------------------------------------------------ helpers
  const clip = (value, max) => {
    const s = value == null ? "" : String(value);
    // Cut by code points so a surrogate pair is never split into invalid JSON text.
    return s.length <= max ? s : Array.from(s).slice(0, max).join("");
  };
  const newId = () => {
    const bytes = new Uint8Array(16);
    w.crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode.apply(null, bytes))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
  };
  const storage = (kind) => ({
    get(key) {
      try {
        return w[kind].getItem(key);
      } catch (e) {
        return null; // storage blocked (privacy mode, sandboxed frame)
      }
    },
    set(key, value) {
      try {
        if (value == null) w[kind].removeItem(key);
        else w[kind].setItem(key, value);
      } catch (e) {
        /* storage blocked or full: the widget still works for this page */
      }
    },
  });
  const keySuffix = account.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
  const VID_KEY = "frontdesk_vid_" + keySuffix;
  const OUTBOX_KEY = "frontdesk_outbox_" + keySuffix;
  const OPEN_KEY = "frontdesk_open_" + keySuffix;
  const SESSION_VID_KEY = "frontdesk_session_" + keySuffix;
  const local = storage("localStorage");
  const tabStorage = storage("sessionStorage");
  // Without consent the tab's storage is used only once the visitor opened the chat (their own act), so
  // the conversation follows them to the next page of this tab; it is gone when the tab closes.
  let chatUsed = Boolean(tabStorage.get(OPEN_KEY) || tabStorage.get(OUTBOX_KEY) || tabStorage.get(SESSION_VID_KEY));
  const session = {
    get: (key) => tabStorage.get(key),
    set(key, value) {
      if (consent || chatUsed || value == null) tabStorage.set(key, value);
    },
  };

  // document.cookie throws in sandboxed frames; the widget then simply does not remember the visitor.
  const readCookie = (name) => {
    try {
      const hit = d.cookie.split("; ").find((part) => part.indexOf(name + "=") === 0);
      return hit ? decodeURIComponent(hit.slice(name.length + 1)) : null;
    } catch (e) {
      return null;
    }
  };
  const writeCookie = (name, value) => {
    try {
      d.cookie =
        name + "=" + encodeURIComponent(value) + "; Path=/; Max-Age=31536000; SameSite=Lax" +
        (location.protocol === "https:" ? "; Secure" : "");
    } catch (e) {
      /* see readCookie */
    }
  };
  const loadVisitorId = () => {
    const id = consent ? local.get(VID_KEY) || readCookie(VID_KEY) : tabStorage.get(SESSION_VID_KEY);
    return id && ID_RE.test(id) ? id : null;
  };
  const saveVisitorId = (id) => {
    if (consent) {
      local.set(VID_KEY, id);
      writeCookie(VID_KEY, id);
    } else if (chatUsed) tabStorage.set(SESSION_VID_KEY, id);
  };
  const forgetStored = () => {
    local.set(VID_KEY, null);
    try {
      d.cookie = VID_KEY + "=; Path=/; Max-Age=0; SameSite=Lax";
    } catch (e) {
      /* see readCookie */
    }
    [SESSION_VID_KEY, OUTBOX_KEY, OPEN_KEY].forEach((key) => tabStorage.set(key, null));
  };
  const timeZone = () => {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      return "";
    }
  };

  // ------------------------------------------------------------------ state
  let visitorId = loadVisitorId();
  const tabId = newId(); // one per page load: a duplicated tab must not share its socket identity
  let socket = null;
  let welcomed = false; // the current socket got its welcome
  let everWelcomed = false;
  let stopped = false; // banned or refused for good
  let paused = false; // page hidden into the back/forward cache
  let attempt = 0;
  let reconnectTimer = 0;
  let lastUrl = location.href;
  let agentsOnline = false;
  let chatStatus = "none";
  let identity = null; // {name, email} once known
  let pendingIdentify = null;
  let isOpen = session.get(OPEN_KEY) === "1";
  let readyInfo = null;
  const messages = new Map(); // id -> message, in conversation order
  let outbox = [];
  try {
    const saved = JSON.parse(session.get(OUTBOX_KEY) || "[]");
    if (Array.isArray(saved)) outbox = saved.filter((m) => m && ID_RE.test(m.id) && m.text).slice(-50);
  } catch (e) {
    outbox = [];
  }
  outbox.forEach((m) => messages.set(m.id, m));
  const saveOutbox = () => session.set(OUTBOX_KEY, outbox.length ? JSON.stringify(outbox) : null);

  // ------------------------------------------------------------------ events for the page
  const handlers = {};
  const emit = (event, arg) => {
    (handlers[event] || []).slice().forEach((fn) => {
      try {
        fn(arg);
      } catch (e) {
        console.error(PREFIX + "a '" + event + "' handler failed", e);
      }
    });
  };
  const publicMessage = (m) => ({
    id: m.id,
    author: m.author,
    text: m.text,
    sentAt: m.sent_at,
    agentName: m.agent_name || null,
  });

  // ------------------------------------------------------------------ wire
  const send = (frame) => {
    if (!socket || !welcomed || socket.readyState !== 1) return false;
    socket.send(JSON.stringify(frame));
    return true;
  };

  const hello = () => {
    lastUrl = location.href; // page views are relative to what the hello said
    const frame = {
      type: "hello",
      tab_id: tabId,
      url: clip(location.href, FIELD_CHARS),
      title: clip(d.title, FIELD_CHARS),
      referrer: clip(d.referrer, FIELD_CHARS),
      language: clip(navigator.language, 35),
      timezone: clip(timeZone(), 64),
    };
    if (visitorId) frame.visitor_id = visitorId;
    if (!consent) frame.session_only = true;
    return frame;
  };

  const connect = () => {
    if (stopped || paused || socket) return;
    clearTimeout(reconnectTimer);
    let ws;
    try {
      ws = new WebSocket(wsUrl.href);
    } catch (e) {
      scheduleReconnect(0);
      return;
    }
    socket = ws;
    ws.onopen = () => ws.send(JSON.stringify(hello()));
    ws.onmessage = (event) => {
      if (ws === socket) onFrame(event.data);
    };
    ws.onerror = () => {}; // close follows; the browser already logs the failure
    ws.onclose = (event) => {
      if (ws !== socket) return;
      socket = null;
      welcomed = false;
      ui.refresh();
      if (event.code === 4403) {
        if (!stopped) ban(); // banned or refused for good: the chat goes away
        return;
      }
      if (event.code === 4426) stopped = true; // this widget is too old for the server
      if (!stopped) scheduleReconnect(event.code);
    };
  };

  const scheduleReconnect = (code) => {
    if (stopped || paused) return;
    clearTimeout(reconnectTimer);
    // Rate limited: back off hard. The server could not serve (1013, its database failed): back off more
    // than after a plain drop, so a site's visitors do not hammer a recovering server together.
    const floor = code === 4429 ? BACKOFF_MAX_MS / 2 : code === 1013 ? BACKOFF_MIN_MS * 4 : BACKOFF_MIN_MS;
    const base = Math.min(BACKOFF_MAX_MS, floor * Math.pow(2, attempt));
    attempt += 1;
    // Jitter spreads the reconnects of many visitors after a server restart.
    reconnectTimer = setTimeout(connect, base / 2 + Math.random() * (base / 2));
  };

  const disconnect = () => {
    clearTimeout(reconnectTimer);
    const ws = socket;
    socket = null;
    welcomed = false;
    if (ws) {
      try {
        ws.close(1000);
      } catch (e) {
        /* already closing */
      }
    }
  };

  const onFrame = (data) => {
    let m;
    try {
      m = JSON.parse(data);
    } catch (e) {
      return;
    }
    if (!m || typeof m !== "object") return;
    switch (m.type) {
      case "welcome":
        onWelcome(m);
        break;
      case "ack":
        onAck(m.id);
        break;
      case "message":
        if (m.message && typeof m.message.id === "string") onMessage(m.message);
        break;
      case "typing":
        ui.typing(Boolean(m.typing), m.agent_name);
        break;
      case "agents":
        agentsOnline = Boolean(m.online);
        ui.refresh();
        emit("agents", { online: agentsOnline });
        break;
      case "chat_closed":
        chatStatus = "closed";
        ui.typing(false);
        ui.note("The conversation has ended. Write again any time.");
        break;
      case "banned":
        ban();
        break;
      case "error":
        if (m.code === "banned") ban();
        else if (PERMANENT_ERRORS.indexOf(m.code) >= 0) {
          stopped = true;
          console.warn(PREFIX + (m.message || m.code));
          remove();
        } else console.warn(PREFIX + (m.message || m.code));
        break;
      default:
        break; // a newer server: ignore what this widget does not know
    }
  };

  const onWelcome = (m) => {
    if (typeof m.visitor_id === "string" && ID_RE.test(m.visitor_id)) {
      visitorId = m.visitor_id;
      saveVisitorId(visitorId);
    }
    welcomed = true;
    attempt = 0;
    agentsOnline = Boolean(m.agents_online);
    chatStatus = m.chat_status || "none";
    if (m.name || m.email) identity = { name: m.name || "", email: m.email || "" };
    const stored = Array.isArray(m.messages) ? m.messages : [];
    const storedIds = new Set(stored.map((x) => x.id));
    outbox = outbox.filter((x) => !storedIds.has(x.id)); // stored before the ack was lost
    saveOutbox();
    messages.clear();
    stored.forEach((x) => messages.set(x.id, x));
    outbox.forEach((x) => messages.set(x.id, x));
    ui.show();
    ui.renderAll();
    if (pendingIdentify && send(pendingIdentify)) pendingIdentify = null;
    outbox.forEach(resend);
    if (location.href !== lastUrl) pageView();
    markRead();
    if (!everWelcomed) {
      everWelcomed = true;
      readyInfo = { visitorId };
      emit("ready", readyInfo);
    }
  };

  const resend = (m) => {
    m.tried = Date.now();
    send({ type: "chat_message", id: m.id, text: m.text });
  };

  const onAck = (id) => {
    outbox = outbox.filter((x) => x.id !== id);
    saveOutbox();
    const m = messages.get(id);
    if (m && m.pending) {
      delete m.pending;
      delete m.tried;
      ui.renderAll();
    }
  };

  const onMessage = (m) => {
    const known = messages.has(m.id);
    messages.set(m.id, m);
    if (m.author === "visitor") {
      // Our own message: the ack of this tab, or one written in another tab of the same visitor.
      onAck(m.id);
      if (!known) ui.renderAll();
      return;
    }
    ui.typing(false);
    if (chatStatus !== "active" && m.author === "agent") chatStatus = "active";
    ui.renderAll();
    if (!known) {
      if (!isOpen) ui.teaser(m);
      emit("message", publicMessage(m));
      markRead();
    }
  };

  const unreadCount = () => {
    let n = 0;
    messages.forEach((m) => {
      if ((m.author === "agent" || m.author === "auto" || m.author === "bot") && !m.read_at) n += 1;
    });
    return n;
  };

  const markRead = () => {
    if (!isOpen || d.visibilityState === "hidden" || !unreadCount()) return;
    if (!send({ type: "read" })) return;
    const now = Date.now() / 1000;
    messages.forEach((m) => {
      if (m.author !== "visitor" && !m.read_at) m.read_at = now;
    });
    ui.refresh();
  };

  const sendChat = (raw) => {
    const text = clip(String(raw).trim(), TEXT_CHARS);
    if (!text) return false;
    useChat();
    const m = { id: newId(), author: "visitor", text, sent_at: Date.now() / 1000, pending: true };
    outbox.push(m);
    saveOutbox();
    messages.set(m.id, m);
    resend(m);
    stopTyping();
    ui.renderAll();
    return true;
  };

  const identify = (data) => {
    if (!data || typeof data !== "object") {
      console.warn(PREFIX + "identify needs an object such as {name: 'Ada', email: 'ada@example.com'}");
      return;
    }
    const frame = { type: "identify" };
    const custom = {};
    let kept = 0;
    let dropped = 0;
    Object.keys(data).forEach((key) => {
      const value = data[key];
      if (value == null || value === "") return;
      if (key === "name" || key === "email" || key === "phone") frame[key] = clip(value, FIELD_CHARS);
      else if (kept < MAX_CUSTOM) {
        custom[clip(key, 64)] = clip(value, FIELD_CHARS);
        kept += 1;
      } else dropped += 1;
    });
    if (kept) frame.custom = custom;
    useChat();
    if (dropped) console.warn(PREFIX + "identify keeps " + MAX_CUSTOM + " custom fields; " + dropped + " were dropped");
    const before = identity || { name: "", email: "" };
    identity = { name: frame.name || before.name, email: frame.email || before.email };
    pendingIdentify = send(frame) ? null : frame;
    ui.refresh();
    emit("identify", { name: identity.name, email: identity.email });
  };

  // ------------------------------------------------------------------ page views and activity
  const pageView = () => {
    const url = location.href;
    if (url === lastUrl) return;
    const previousUrl = lastUrl;
    lastUrl = url;
    send({
      type: "page_view",
      url: clip(url, FIELD_CHARS),
      title: clip(d.title, FIELD_CHARS),
      referrer: clip(previousUrl, FIELD_CHARS),
    });
  };
  // Single-page apps usually set the title just after changing the route.
  const routeChanged = () => setTimeout(pageView, 100);
  ["pushState", "replaceState"].forEach((name) => {
    const original = history[name];
    history[name] = function () {
      const result = original.apply(this, arguments);
      routeChanged();
      return result;
    };
  });
  w.addEventListener("popstate", routeChanged);
  w.addEventListener("hashchange", routeChanged);

  let lastActivityAt = 0;
  let trailingKind = null;
  let activityTimer = 0;
  const activity = (kind) => {
    const now = Date.now();
    const wait = lastActivityAt + ACTIVITY_EVERY_MS - now;
    if (wait <= 0) {
      lastActivityAt = now;
      send({ type: "activity", kind });
      return;
    }
    trailingKind = kind; // the latest one goes out when the window ends
    if (!activityTimer) {
      activityTimer = setTimeout(() => {
        activityTimer = 0;
        const k = trailingKind;
        trailingKind = null;
        lastActivityAt = Date.now();
        if (k) send({ type: "activity", kind: k });
      }, wait);
    }
  };
  const on = (target, events, kind) =>
    events.forEach((e) => target.addEventListener(e, () => activity(kind), { capture: true, passive: true }));
  on(d, ["input", "keydown", "change"], "input");
  on(w, ["scroll"], "scroll");
  on(d, ["pointerdown", "pointermove", "wheel", "touchstart"], "pointer");
  w.addEventListener("focus", () => activity("focus"));
  w.addEventListener("blur", () => activity("blur"));
  d.addEventListener("visibilitychange", () => {
    activity(d.visibilityState === "hidden" ? "hidden" : "visible");
    if (d.visibilityState === "visible") {
      markRead();
      if (!socket && !stopped && !paused) connect();
    }
  });
  w.addEventListener("online", () => {
    if (!socket) {
      attempt = 0;
      connect();
    }
  });
  w.addEventListener("pagehide", () => {
    send({ type: "leave" });
    paused = true;
    disconnect();
  });
  w.addEventListener("pageshow", (event) => {
    if (!event.persisted) return; // restored from the back/forward cache
    paused = false;
    attempt = 0;
    connect();
  });

  // ------------------------------------------------------------------ typing
  let typingSent = false;
  let typingTimer = 0;
  const stopTyping = () => {
    clearTimeout(typingTimer);
    if (typingSent) send({ type: "typing", typing: false });
    typingSent = false;
  };
  const typed = (hasText) => {
    clearTimeout(typingTimer);
    if (!hasText) {
      stopTyping();
      return;
    }
    if (!typingSent) typingSent = send({ type: "typing", typing: true });
    typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  };

  // Resend what the server has not acknowledged (an error frame or a lost ack).
  setInterval(() => {
    const now = Date.now();
    outbox.forEach((m) => {
      if (welcomed && now - (m.tried || 0) > RESEND_AFTER_MS) resend(m);
    });
  }, RESEND_AFTER_MS / 2);

  // ------------------------------------------------------------------ user interface
  const h = (tag, attrs, children) => {
    const node = d.createElement(tag);
    Object.keys(attrs || {}).forEach((k) => node.setAttribute(k, attrs[k]));
    (children || []).forEach((c) => node.append(typeof c === "string" ? d.createTextNode(c) : c));
    return node;
  };
  const svg = (path) => {
    const ns = "http://www.w3.org/2000/svg";
    const s = d.createElementNS(ns, "svg");
    s.setAttribute("viewBox", "0 0 24 24");
    s.setAttribute("aria-hidden", "true");
    s.setAttribute("focusable", "false");
    const p = d.createElementNS(ns, "path");
    p.setAttribute("d", path);
    s.append(p);
    return s;
  };

  const CSS = `
:host{all:initial}
*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
[hidden]{display:none!important}
.root{position:fixed;right:20px;bottom:20px;z-index:2147483000;display:flex;flex-direction:column;align-items:flex-end;gap:12px;font-size:14px;color:#1d2733}
.launcher{position:relative;width:56px;height:56px;border-radius:50%;border:0;background:#2457d6;color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);display:grid;place-items:center}
.launcher svg{width:28px;height:28px;fill:currentColor}
.launcher:focus-visible,button:focus-visible,textarea:focus-visible,input:focus-visible{outline:3px solid #ffb020;outline-offset:2px}
.badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#d92d20;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center}
.teaser{max-width:280px;background:#fff;border-radius:12px;padding:10px 32px 10px 12px;box-shadow:0 4px 18px rgba(0,0,0,.18);position:relative;cursor:pointer;white-space:pre-wrap;overflow-wrap:anywhere}
.teaser .x{position:absolute;top:4px;right:4px}
.panel{width:min(360px,calc(100vw - 40px));height:min(520px,calc(100vh - 120px));background:#fff;border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden}
header{background:#2457d6;color:#fff;padding:12px 14px;display:flex;align-items:flex-start;justify-content:space-between}
h2{margin:0;font-size:16px}
.status{margin:2px 0 0;font-size:12px;opacity:.9}
.x{background:transparent;border:0;color:inherit;font-size:20px;line-height:1;cursor:pointer;padding:2px 6px;border-radius:6px}
.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f5f7fa}
.msg{max-width:85%;padding:8px 10px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.msg.visitor{align-self:flex-end;background:#2457d6;color:#fff;border-bottom-right-radius:4px}
.msg.agent,.msg.auto{align-self:flex-start;background:#fff;border:1px solid #dde3ea;border-bottom-left-radius:4px}
.msg.system,.note{align-self:center;background:transparent;color:#5b6875;font-size:12px;text-align:center}
.msg.bot{align-self:flex-start;background:#eef3ff;border:1px solid #c9d6f5;border-bottom-left-radius:4px}
.msg.system{align-self:stretch;max-width:none;border-top:1px solid #dde3ea;border-bottom:1px solid #dde3ea;padding:8px;font-weight:600;color:#1d2733}
.replies{display:flex;flex-wrap:wrap;gap:6px;align-self:flex-start}
.reply{background:#fff;color:#2457d6;border:1px solid #2457d6;border-radius:16px;padding:6px 12px;cursor:pointer;font-size:13px}
.reply:hover{background:#eef3ff}
.who{display:block;font-size:11px;font-weight:600;color:#5b6875;margin-bottom:2px}
.pending{opacity:.65}
.state{display:block;font-size:10px;margin-top:2px;opacity:.85}
.typing{padding:4px 14px;font-size:12px;color:#5b6875;font-style:italic}
.contact{padding:10px 14px;border-top:1px solid #e4e8ee;display:grid;gap:6px;background:#fff}
.contact p{margin:0;font-size:13px}
label{display:grid;gap:2px;font-size:12px;color:#3b4754}
input,textarea{font-size:14px;padding:7px 9px;border:1px solid #c4ccd6;border-radius:8px;width:100%;color:#1d2733;background:#fff}
.row{display:flex;gap:8px;align-items:center}
.primary{background:#2457d6;color:#fff;border:0;border-radius:8px;padding:8px 12px;cursor:pointer;font-size:14px}
.link{background:none;border:0;color:#2457d6;cursor:pointer;padding:4px 14px;font-size:12px;text-align:left;text-decoration:underline}
.thanks{margin:0;padding:6px 14px;font-size:12px;color:#1f7a3d}
.composer{display:flex;gap:8px;padding:10px;border-top:1px solid #e4e8ee;background:#fff}
.composer textarea{resize:none;height:40px;max-height:120px}
@media (prefers-reduced-motion:no-preference){.panel,.teaser{animation:pop .15s ease-out}@keyframes pop{from{transform:translateY(8px);opacity:0}}}
`;

  const ui = (() => {
    // A custom element name: the site's generic rules (div { ... }) never match the host.
    const host = h("frontdesk-widget", { id: "frontdesk-widget" });
    host.style.display = "none"; // until the server welcomes us: a refused or banned visitor sees nothing
    const root = host.attachShadow({ mode: "open" });
    const style = h("style");
    style.textContent = CSS;

    const title = h("h2", { id: "fd-title" }, ["Chat with us"]);
    const status = h("p", { class: "status", "aria-live": "polite" });
    const closeBtn = h("button", { type: "button", class: "x", "aria-label": "Close chat" }, ["\u00d7"]);
    const log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0" });
    const typingLine = h("div", { class: "typing", "aria-live": "polite", hidden: "" });

    const nameInput = h("input", { name: "name", autocomplete: "name", maxlength: "200", required: "" });
    const emailInput = h("input", { name: "email", type: "email", autocomplete: "email", maxlength: "254", required: "" });
    const contactHint = h("p", {}, []);
    const cancelBtn = h("button", { type: "button", class: "link" }, ["Cancel"]);
    const contact = h("form", { class: "contact", "aria-label": "Leave your details", hidden: "" }, [
      contactHint,
      h("label", {}, ["Name", nameInput]),
      h("label", {}, ["E-mail", emailInput]),
      h("div", { class: "row" }, [h("button", { type: "submit", class: "primary" }, ["Send details"]), cancelBtn]),
    ]);
    const thanks = h("p", { class: "thanks", role: "status", hidden: "" });
    const detailsBtn = h("button", { type: "button", class: "link" }, ["Leave your details"]);
    const input = h("textarea", {
      "aria-label": "Message",
      placeholder: "Write a message\u2026",
      maxlength: String(TEXT_CHARS),
      rows: "1",
    });
    const sendBtn = h("button", { type: "submit", class: "primary", "aria-label": "Send message" }, ["Send"]);
    const composer = h("form", { class: "composer" }, [input, sendBtn]);
    const panel = h(
      "section",
      { class: "panel", id: "fd-panel", role: "dialog", "aria-labelledby": "fd-title", hidden: "" },
      [
        h("header", {}, [h("div", {}, [title, status]), closeBtn]),
        log,
        typingLine,
        contact,
        thanks,
        detailsBtn,
        composer,
      ],
    );
    const teaserText = h("span");
    const teaserClose = h("button", { type: "button", class: "x", "aria-label": "Dismiss" }, ["\u00d7"]);
    const teaser = h("div", { class: "teaser", role: "status", hidden: "" }, [teaserText, teaserClose]);
    const badge = h("span", { class: "badge", "aria-hidden": "true", hidden: "" });
    const launcher = h(
      "button",
      { type: "button", class: "launcher", "aria-label": "Open chat", "aria-expanded": "false", "aria-controls": "fd-panel" },
      [svg("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"), badge],
    );
    root.append(style, h("div", { class: "root" }, [panel, teaser, launcher]));

    let contactWanted = false; // the visitor asked for the form while agents are online
    let typingTimeout = 0;

    const attach = () => {
      if (!host.isConnected && d.body) d.body.appendChild(host);
    };
    if (d.body) attach();
    else d.addEventListener("DOMContentLoaded", attach);

    // ---------------------------------------------------------------- bots
    // A bot's line says it is automated; its quick replies are buttons (their labels plain text) under the
    // newest message while it is the bot's question; pressing one sends the label as the visitor's answer.
    const botLabel = (m) => {
      const who = h("span", { class: "who" });
      who.textContent = (m.agent_name ? String(m.agent_name) + " \u00b7 " : "") + "Automated assistant";
      return who;
    };
    const quickReplies = () => {
      let last = null;
      messages.forEach((m) => (last = m));
      if (!last || last.author !== "bot" || !Array.isArray(last.replies) || !last.replies.length) return null;
      const group = h("div", { class: "replies", role: "group", "aria-label": "Quick replies" });
      last.replies.slice(0, 10).forEach((label) => {
        const button = h("button", { type: "button", class: "reply" });
        button.textContent = clip(String(label), 60); // data, never markup
        button.addEventListener("click", () => {
          if (sendChat(String(label))) input.focus();
        });
        group.append(button);
      });
      return group;
    };

    const renderMessage = (m) => {
      const author = ["visitor", "agent", "auto", "system", "bot"].indexOf(m.author) >= 0 ? m.author : "system";
      const item = h("div", { class: "msg " + author + (m.pending ? " pending" : ""), "data-id": String(m.id) });
      if ((author === "agent" || author === "auto") && m.agent_name) {
        const who = h("span", { class: "who" });
        who.textContent = String(m.agent_name);
        item.append(who);
      }
      if (author === "bot") item.append(botLabel(m));
      const text = h("span", { class: "text" });
      text.textContent = String(m.text); // network text is data, never markup
      item.append(text);
      if (m.pending) item.append(h("span", { class: "state" }, [welcomed ? "Sending\u2026" : "Waiting for connection\u2026"]));
      return item;
    };

    const api = {
      show() {
        attach();
        host.style.display = "";
        api.refresh();
      },
      remove() {
        host.remove();
      },
      renderAll() {
        const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
        const notes = Array.from(log.querySelectorAll(".note"));
        log.replaceChildren();
        messages.forEach((m) => log.append(renderMessage(m)));
        const replies = quickReplies();
        if (replies) log.append(replies);
        notes.forEach((n) => log.append(n));
        if (atBottom || isOpen) log.scrollTop = log.scrollHeight;
        api.refresh();
      },
      note(text) {
        log.append(h("div", { class: "note", role: "status" }, [text]));
        log.scrollTop = log.scrollHeight;
      },
      typing(on, agentName) {
        clearTimeout(typingTimeout);
        typingLine.textContent = (agentName ? String(agentName) : "The agent") + " is typing\u2026";
        typingLine.hidden = !on;
        // A lost "stopped typing" must not leave the indicator up forever.
        if (on) typingTimeout = setTimeout(() => (typingLine.hidden = true), 15000);
      },
      teaser(m) {
        teaserText.textContent = clip(m.text, 140);
        teaser.hidden = false;
      },
      refresh() {
        panel.hidden = !isOpen;
        if (isOpen) teaser.hidden = true;
        launcher.setAttribute("aria-expanded", String(isOpen));
        launcher.setAttribute("aria-label", isOpen ? "Close chat" : "Open chat");
        const unread = unreadCount();
        badge.hidden = unread === 0 || isOpen;
        badge.textContent = String(unread);
        if (unread && !isOpen) launcher.setAttribute("aria-label", "Open chat, " + unread + " unread");
        const line = !welcomed
          ? "Reconnecting\u2026"
          : agentsOnline
            ? "We are online and happy to help."
            : "We are away. Leave a message or your details.";
        if (status.textContent !== line) status.textContent = line; // a live region: announce changes only
        contact.hidden = !(contactWanted || (!identity && !agentsOnline));
        contactHint.textContent = agentsOnline
          ? "Leave your name and e-mail so we can reach you."
          : "No one is online right now. Leave your details and we will get back to you.";
        cancelBtn.hidden = !agentsOnline;
        detailsBtn.hidden = !contact.hidden || Boolean(identity);
        thanks.hidden = !identity;
        if (identity) {
          thanks.textContent = "Thanks" + (identity.name ? ", " + identity.name : "") +
            "! " + (identity.email ? "We can reach you at " + identity.email + "." : "");
        }
      },
      open(focus) {
        isOpen = true;
        session.set(OPEN_KEY, "1");
        api.refresh();
        log.scrollTop = log.scrollHeight;
        if (focus) (contact.hidden ? input : nameInput).focus();
        markRead();
      },
      close() {
        const hadFocus = root.activeElement != null;
        isOpen = false;
        session.set(OPEN_KEY, null);
        api.refresh();
        if (hadFocus) launcher.focus();
      },
    };

    launcher.addEventListener("click", () => (isOpen ? closePanel() : openPanel(true)));
    closeBtn.addEventListener("click", () => closePanel());
    panel.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        closePanel();
      }
    });
    teaser.addEventListener("click", (e) => {
      teaser.hidden = true;
      if (e.target !== teaserClose) openPanel(true);
    });
    input.addEventListener("input", () => typed(input.value.trim() !== ""));
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        composer.requestSubmit();
      }
    });
    composer.addEventListener("submit", (e) => {
      e.preventDefault();
      if (sendChat(input.value)) input.value = "";
      input.focus();
    });
    detailsBtn.addEventListener("click", () => {
      contactWanted = true;
      api.refresh();
      nameInput.focus();
    });
    cancelBtn.addEventListener("click", () => {
      contactWanted = false;
      api.refresh();
      input.focus();
    });
    contact.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!contact.reportValidity()) return;
      contactWanted = false;
      identify({ name: nameInput.value.trim(), email: emailInput.value.trim() });
      input.focus();
    });
    return api;
  })();

  // A bot may greet a visitor who opens the chat while no agent is online (the server decides).
  let chatOpenedSent = false;
  const chatOpened = () => {
    if (chatOpenedSent || agentsOnline) return;
    chatOpenedSent = send({ type: "chat_opened" });
  };
  const openPanel = (focus) => {
    if (isOpen) return;
    ui.open(focus);
    chatOpened();
    emit("open");
  };
  const closePanel = () => {
    if (!isOpen) return;
    ui.close();
    emit("close");
  };
  const remove = () => {
    disconnect();
    ui.remove();
  };
  const ban = () => {
    stopped = true;
    outbox = [];
    saveOutbox();
    remove();
    emit("banned");
  };

  // The visitor opened the chat or wrote: keep the conversation across this tab's pages.
  const useChat = () => {
    if (chatUsed || consent) return;
    chatUsed = true;
    if (visitorId) tabStorage.set(SESSION_VID_KEY, visitorId);
  };

  const setConsent = (given) => {
    given = Boolean(given);
    if (!consentRequired) return; // without data-consent="required" the widget behaves as always
    if (given === consent) return;
    consent = given;
    if (given) {
      visitorId = loadVisitorId() || visitorId; // a visitor who consented before is recognised again
      if (visitorId) saveVisitorId(visitorId);
      saveOutbox();
      if (isOpen) session.set(OPEN_KEY, "1");
      tabStorage.set(SESSION_VID_KEY, null);
    } else {
      forgetStored();
      chatUsed = false;
      visitorId = null; // from now on a new, session-only visitor
      outbox = [];
      messages.clear();
      identity = null;
      ui.renderAll();
    }
    // Say hello again, so the server marks or unmarks the visitor at once.
    disconnect();
    attempt = 0;
    connect();
    emit("consent", { given });
  };

  // ------------------------------------------------------------------ public API
  const api = function frontdesk(command, arg, fn) {
    switch (command) {
      case "identify":
        identify(arg);
        break;
      case "on":
        if (typeof arg !== "string" || typeof fn !== "function") {
          console.warn(PREFIX + "use frontdesk('on', 'ready' | 'message' | 'open' | 'close' | ..., function)");
          break;
        }
        (handlers[arg] = handlers[arg] || []).push(fn);
        if (arg === "ready" && readyInfo) setTimeout(() => fn(readyInfo), 0); // late subscribers still hear it
        break;
      case "off":
        handlers[arg] = (handlers[arg] || []).filter((f) => f !== fn);
        break;
      case "open":
        openPanel(false);
        break;
      case "close":
        closePanel();
        break;
      case "consent":
        setConsent(arg);
        break;
      default:
        console.warn(PREFIX + "unknown command '" + command + "'; use identify, on, off, open, close or consent");
    }
  };
  api.loaded = true;
  api.version = "1";
  const queued = previous && Array.isArray(previous.q) ? previous.q : [];
  w.frontdesk = api;
  queued.forEach((args) => api.apply(null, Array.prototype.slice.call(args)));

  connect();
})();
