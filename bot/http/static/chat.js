/* Shopbot web chat: talks to POST /api/chat and polls GET /api/inbox.
 *
 * Security: every string that comes from the server or the user is put in the page with textContent or
 * as an attribute value through the DOM API, never parsed as HTML; the page runs under a strict CSP
 * (no inline scripts or styles), so styling is done with classes only.
 */
(function () {
  "use strict";

  // Who is talking is the server's business: an HttpOnly session cookie it issues (this script never
  // sees or sends a user id). A "shopbot.user" left by older versions of the page is removed.
  var LANG_KEY = "shopbot.lang";
  var HISTORY_KEY = "shopbot.history";
  var HISTORY_MAX = 80;
  var POLL_MS = 4000;

  var UI = {
    "zh-Hans": {
      subtitle: "购物助手 · 在线",
      placeholder: "想买什么？试试“红色连衣裙”",
      send: "发送",
      inputLabel: "消息",
      log: "对话",
      typing: "正在输入…",
      error: "网络不太稳定，消息没发出去。",
      retry: "重试",
      download: "下载",
      pushed: "通知",
      outOfStock: "缺货",
      inStock: "有货",
      more: "查看更多",
      payPage: "打开付款页面",
      scanToPay: "用手机扫码付款",
      ticket: "工单",
      queue: "排队位置",
      eta: "预计送达",
      welcome: "您好！我是购物助手。告诉我您想买什么，或者点下面的按钮。",
      quick: [["热销商品", "popular"], ["查看购物车", "cart"], ["我的订单", "orders"], ["帮助", "help"]],
      you: "我",
      bot: "助手",
      qty: "数量",
    },
    "zh-Hant": {
      subtitle: "購物助手 · 在線",
      placeholder: "想買什麼？試試「紅色連衣裙」",
      send: "發送",
      inputLabel: "訊息",
      log: "對話",
      typing: "正在輸入…",
      error: "網絡不太穩定，訊息沒發出去。",
      retry: "重試",
      download: "下載",
      pushed: "通知",
      outOfStock: "缺貨",
      inStock: "有貨",
      more: "查看更多",
      payPage: "打開付款頁面",
      scanToPay: "用手機掃碼付款",
      ticket: "工單",
      queue: "排隊位置",
      eta: "預計送達",
      welcome: "您好！我是購物助手。告訴我您想買什麼，或者點下面的按鈕。",
      quick: [["熱銷商品", "popular"], ["查看購物車", "cart"], ["我的訂單", "orders"], ["幫助", "help"]],
      you: "我",
      bot: "助手",
      qty: "數量",
    },
    en: {
      subtitle: "Shopping assistant · online",
      placeholder: "Try “red dress under ¥300”",
      send: "Send",
      inputLabel: "Message",
      log: "Conversation",
      typing: "Typing…",
      error: "The network hiccupped and the message was not sent.",
      retry: "Retry",
      download: "Download",
      pushed: "Update",
      outOfStock: "Out of stock",
      inStock: "In stock",
      more: "More",
      payPage: "Open the payment page",
      scanToPay: "Scan with your phone to pay",
      ticket: "Ticket",
      queue: "Place in queue",
      eta: "ETA",
      welcome: "Hello! I'm your shopping assistant. Tell me what you'd like to buy, or tap a button below.",
      quick: [["Popular", "popular"], ["My cart", "cart"], ["My orders", "orders"], ["Help", "help"]],
      you: "You",
      bot: "Assistant",
      qty: "Quantity",
    },
  };
  var LANG_NAMES = { "zh-Hans": "简体中文", "zh-Hant": "繁體中文", en: "English" };

  var store = safeStorage("localStorage");
  var session = safeStorage("sessionStorage");
  var log, input, form;
  var lang = pickLanguage();
  store.removeItem("shopbot.user");
  var queue = Promise.resolve();
  var busy = 0;
  var history = [];

  /* ---------- small helpers ---------- */

  function safeStorage(kind) {
    try {
      var s = window[kind];
      var probe = "__shopbot";
      s.setItem(probe, "1");
      s.removeItem(probe);
      return s;
    } catch (e) {
      var memory = {};
      return {
        getItem: function (k) { return Object.prototype.hasOwnProperty.call(memory, k) ? memory[k] : null; },
        setItem: function (k, v) { memory[k] = String(v); },
        removeItem: function (k) { delete memory[k]; },
      };
    }
  }

  function randomHex(bytes) {
    var out = "";
    var buf = new Uint8Array(bytes);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(buf);
    } else {
      for (var i = 0; i < bytes; i++) buf[i] = Math.floor(Math.random() * 256);
    }
    for (var j = 0; j < buf.length; j++) out += (buf[j] < 16 ? "0" : "") + buf[j].toString(16);
    return out;
  }

  function pickLanguage() {
    var saved = store.getItem(LANG_KEY);
    if (saved && UI[saved]) return saved;
    var nav = ((navigator.languages && navigator.languages[0]) || navigator.language || "zh-CN").toLowerCase();
    if (nav.indexOf("zh") === 0) {
      return /hant|tw|hk|mo/.test(nav) ? "zh-Hant" : "zh-Hans";
    }
    return nav.indexOf("en") === 0 ? "en" : "zh-Hans";
  }

  function t(key) {
    return (UI[lang] || UI["zh-Hans"])[key];
  }

  /** Create an element with classes and (optional) text: the only way text gets into the page. */
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null && text !== "") node.textContent = String(text);
    return node;
  }

  function str(value) {
    return value === undefined || value === null ? "" : String(value);
  }

  function sameOriginPath(url) {
    /* Product pictures are our own paths ("/media/demo/P0001-1.svg"); anything else is not loaded. */
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/" && url.charAt(1) !== "\\";
  }

  function scrollToEnd() {
    window.requestAnimationFrame(function () {
      log.scrollTop = log.scrollHeight;
    });
  }

  /* ---------- sending ---------- */

  function send(body, echo) {
    if (echo) addUserBubble(echo);
    var request = { lang: lang, id: randomHex(8) };
    if (body.payload) request.payload = body.payload;
    else request.text = body.text;
    queue = queue.then(function () { return post(request, echo); });
    return queue;
  }

  function post(request, echo) {
    busy++;
    var typing = showTyping();
    return fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(request),
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (json) {
        typing.remove();
        followLanguage(json && json.lang);
        renderAll(json && json.replies);
      })
      .catch(function () {
        typing.remove();
        addError(request, echo);
      })
      .then(function () {
        busy--;
      });
  }

  function press(button) {
    send({ payload: button.payload }, button.label);
  }

  function poll() {
    if (busy || document.hidden) return;
    fetch("/api/inbox", { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (json) { if (json) renderAll(json.replies); })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  /* ---------- the log ---------- */

  function remember(entry) {
    history.push(entry);
    if (history.length > HISTORY_MAX) history = history.slice(-HISTORY_MAX);
    try {
      session.setItem(HISTORY_KEY, JSON.stringify(history));
    } catch (e) {
      /* storage full (a big file reply): keep going without saving */
    }
  }

  function restore() {
    var raw = session.getItem(HISTORY_KEY);
    if (!raw) return false;
    try {
      var saved = JSON.parse(raw);
      if (!Array.isArray(saved) || !saved.length) return false;
      saved.forEach(function (entry) {
        if (entry && entry.who === "user") addUserBubble(entry.text, true);
        else if (entry && entry.who === "bot") addReply(entry.reply, true);
      });
      return true;
    } catch (e) {
      return false;
    }
  }

  function row(who, extra) {
    var wrap = el("div", "row row-" + who + (extra ? " " + extra : ""));
    var label = el("span", "sr-only", who === "user" ? t("you") + ": " : t("bot") + ": ");
    wrap.appendChild(label);
    log.appendChild(wrap);
    return wrap;
  }

  function addUserBubble(text, restoring) {
    var wrap = row("user");
    wrap.appendChild(el("div", "bubble bubble-user", text));
    if (!restoring) remember({ who: "user", text: str(text) });
    scrollToEnd();
  }

  function showTyping() {
    var wrap = row("bot", "typing-row");
    var bubble = el("div", "bubble bubble-bot typing");
    bubble.setAttribute("aria-label", t("typing"));
    for (var i = 0; i < 3; i++) bubble.appendChild(el("span", "dot"));
    wrap.appendChild(bubble);
    scrollToEnd();
    return wrap;
  }

  function addError(request, echo) {
    var wrap = row("bot", "error-row");
    var bubble = el("div", "bubble bubble-error");
    bubble.setAttribute("role", "alert");
    bubble.appendChild(el("p", "", t("error")));
    var retry = el("button", "chip chip-primary", t("retry"));
    retry.type = "button";
    retry.addEventListener("click", function () {
      wrap.remove();
      request.id = randomHex(8);
      queue = queue.then(function () { return post(request, echo); });
    });
    bubble.appendChild(retry);
    wrap.appendChild(bubble);
    scrollToEnd();
  }

  function renderAll(replies) {
    if (!Array.isArray(replies)) return;
    replies.forEach(function (reply) {
      if (reply && typeof reply === "object") addReply(reply, false);
    });
  }

  function addReply(reply, restoring) {
    var renderer = RENDERERS[reply.type] || renderText;
    var wrap = row("bot", reply.pushed ? "pushed" : "");
    var node;
    try {
      node = renderer(reply, reply.data || {});
    } catch (e) {
      node = renderText(reply);
    }
    node.setAttribute("data-type", str(reply.type));
    if (reply.pushed) {
      node.classList.add("is-pushed");
      node.insertBefore(el("span", "badge badge-pushed", t("pushed")), node.firstChild);
    }
    wrap.appendChild(node);
    if (!restoring) {
      var saved = reply;
      if (reply.content_base64 && reply.content_base64.length > 200000) {
        saved = Object.assign({}, reply);
        delete saved.content_base64;
      }
      remember({ who: "bot", reply: saved });
    }
    scrollToEnd();
  }

  /* ---------- pieces ---------- */

  function buttonsRow(buttons, skip) {
    var list = (buttons || []).filter(function (b) {
      return b && b.payload && !(skip && skip(b));
    });
    if (!list.length) return null;
    var box = el("div", "chips");
    list.forEach(function (b, index) {
      box.appendChild(chip(b, index === 0 ? "chip-primary" : ""));
    });
    return box;
  }

  function chip(button, extra) {
    var node = el("button", "chip" + (extra ? " " + extra : ""), button.label);
    node.type = "button";
    node.setAttribute("data-payload", str(button.payload));
    node.addEventListener("click", function () { press(button); });
    return node;
  }

  function picture(src, title, className) {
    var box = el("div", "pic " + className);
    var fallback = el("span", "pic-fallback", str(title).trim().charAt(0) || "?");
    fallback.setAttribute("aria-hidden", "true");
    box.appendChild(fallback);
    if (sameOriginPath(src)) {
      var img = document.createElement("img");
      img.alt = str(title);
      img.loading = "lazy";
      img.decoding = "async";
      img.addEventListener("error", function () {
        img.remove();
        box.classList.add("pic-empty");
      });
      img.src = src;
      box.appendChild(img);
    } else {
      box.classList.add("pic-empty");
    }
    return box;
  }

  function paragraphs(parent, text, className) {
    if (text) parent.appendChild(el("p", className || "text", text));
  }

  function lineItems(lines, buttons) {
    var list = el("ul", "lines");
    (lines || []).forEach(function (line) {
      var item = el("li", "line");
      var info = el("div", "line-info");
      info.appendChild(el("span", "line-title", line.title));
      if (line.options) info.appendChild(el("span", "line-options", line.options));
      info.appendChild(el("span", "line-unit", str(line.unit_price) + " × " + str(line.quantity)));
      item.appendChild(info);
      var side = el("div", "line-side");
      side.appendChild(el("span", "line-total", line.line_total));
      if (buttons) {
        var dec = findButton(buttons, "dec:" + line.sku);
        var inc = findButton(buttons, "inc:" + line.sku);
        if (dec || inc) {
          var stepper = el("div", "stepper");
          stepper.setAttribute("role", "group");
          stepper.setAttribute("aria-label", t("qty") + " " + str(line.title));
          stepper.appendChild(stepButton(dec, "−"));
          var qty = el("span", "qty", line.quantity);
          stepper.appendChild(qty);
          stepper.appendChild(stepButton(inc, "+"));
          side.appendChild(stepper);
        }
      }
      item.appendChild(side);
      list.appendChild(item);
    });
    return list;
  }

  function findButton(buttons, payload) {
    for (var i = 0; i < (buttons || []).length; i++) {
      if (buttons[i] && buttons[i].payload === payload) return buttons[i];
    }
    return null;
  }

  function stepButton(button, sign) {
    var node = el("button", "step", sign);
    node.type = "button";
    if (!button) {
      node.disabled = true;
      return node;
    }
    node.setAttribute("aria-label", str(button.label));
    node.title = str(button.label);
    node.setAttribute("data-payload", str(button.payload));
    node.addEventListener("click", function () { press(button); });
    return node;
  }

  function card(kind) {
    return el("div", "bubble bubble-bot card card-" + kind);
  }

  function appendButtons(node, reply, skip) {
    var box = buttonsRow(reply.buttons, skip);
    if (box) node.appendChild(box);
  }

  /* ---------- one renderer per reply type ---------- */

  function renderText(reply) {
    var node = el("div", "bubble bubble-bot");
    paragraphs(node, reply.text);
    appendButtons(node, reply);
    return node;
  }

  function renderProductList(reply, data) {
    var node = card("list");
    paragraphs(node, data.title || reply.text, "card-title");
    var items = data.items || [];
    var codes = {};
    var list = el("ul", "products");
    items.forEach(function (item) {
      codes["p:" + item.code] = true;
      var li = el("li", "");
      var button = el("button", "product");
      button.type = "button";
      button.setAttribute("data-payload", "p:" + str(item.code));
      button.appendChild(picture(item.image, item.title, "pic-thumb"));
      var info = el("span", "product-info");
      info.appendChild(el("span", "product-title", item.title));
      info.appendChild(el("span", "price", item.price));
      if (item.available === 0) info.appendChild(el("span", "stock stock-out", t("outOfStock")));
      if (item.reason) info.appendChild(el("span", "reason", item.reason));
      button.appendChild(info);
      button.appendChild(el("span", "chevron", "›")).setAttribute("aria-hidden", "true");
      var label = str(item.position) + ". " + str(item.title);
      button.addEventListener("click", function () { press({ label: label, payload: "p:" + item.code }); });
      li.appendChild(button);
      list.appendChild(li);
    });
    node.appendChild(list);
    appendButtons(node, reply, function (b) { return codes[b.payload]; });
    return node;
  }

  function renderProductCard(reply, data) {
    var node = card("product");
    node.appendChild(picture(data.image, data.title, "pic-hero"));
    var body = el("div", "card-body");
    body.appendChild(el("h2", "product-name", data.title));
    var priceRow = el("div", "price-row");
    priceRow.appendChild(el("span", "price price-big", data.price));
    priceRow.appendChild(
      el("span", "stock " + (data.available ? "stock-in" : "stock-out"), data.available ? t("inStock") : t("outOfStock"))
    );
    body.appendChild(priceRow);
    if (data.options && data.options.length) {
      var options = el("ul", "options");
      data.options.forEach(function (o) { options.appendChild(el("li", "option", o)); });
      body.appendChild(options);
    }
    paragraphs(body, data.description, "text muted");
    if (data.reason) paragraphs(body, data.reason, "reason");
    node.appendChild(body);
    appendButtons(node, reply);
    return node;
  }

  function renderCart(reply, data) {
    var node = card("cart");
    node.appendChild(el("h2", "card-title", data.title));
    if (data.lines && data.lines.length) node.appendChild(lineItems(data.lines, reply.buttons));
    node.appendChild(el("p", "total", data.subtotal));
    (data.notes || []).forEach(function (n) { paragraphs(node, n, "note"); });
    appendButtons(node, reply, function (b) { return /^(inc|dec):/.test(b.payload); });
    return node;
  }

  function renderOrder(reply, data) {
    var node = card("order");
    var head = el("div", "card-head");
    head.appendChild(el("h2", "card-title", data.title));
    node.appendChild(head);
    if (data.status) node.appendChild(el("p", "status", data.status));
    if (data.lines && data.lines.length) node.appendChild(lineItems(data.lines, null));
    node.appendChild(el("p", "total", data.total));
    paragraphs(node, data.address, "address");
    (data.notes || []).forEach(function (n) { paragraphs(node, n, "note"); });
    appendButtons(node, reply);
    return node;
  }

  function renderPayment(reply, data) {
    var node = card("payment");
    var amount = el("div", "amount");
    amount.appendChild(el("span", "amount-value", data.amount_display));
    if (data.order_number) amount.appendChild(el("span", "amount-order", "#" + str(data.order_number)));
    node.appendChild(amount);
    paragraphs(node, reply.text);
    appendButtons(node, reply);
    if ((data.provider === "alipay" || data.provider === "wechatpay_native") && data.payment_id) {
      // the provider's code URL, drawn by our server as a QR image to scan with the Alipay/WeChat app
      var figure = el("figure", "payqr");
      var img = el("img", "payqr-image");
      img.src = "/pay/qr/" + encodeURIComponent(str(data.payment_id)) + ".svg";
      img.alt = t("scanToPay");
      img.width = 198;
      img.height = 198;
      figure.appendChild(img);
      figure.appendChild(el("figcaption", "payqr-caption", t("scanToPay")));
      node.appendChild(figure);
    }
    var url = str(data.pay_url);
    var external = /^https:\/\//.test(url) && data.provider !== "sandbox";
    var ours = url.indexOf(window.location.origin + "/") === 0;
    if (external || ours) {
      var link = el("a", "paylink", t("payPage"));
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      node.appendChild(link);
    }
    return node;
  }

  function renderTracking(reply, data) {
    var node = card("tracking");
    node.appendChild(el("h2", "card-title", data.title));
    if (data.status) node.appendChild(el("p", "status", data.status));
    if (data.eta) node.appendChild(el("p", "eta", data.eta));
    var events = el("ol", "timeline");
    (data.events || []).forEach(function (event, index) {
      var li = el("li", "event" + (index === 0 ? " event-latest" : ""));
      li.appendChild(el("span", "event-at", event.at));
      li.appendChild(el("span", "event-text", event.text));
      events.appendChild(li);
    });
    node.appendChild(events);
    appendButtons(node, reply);
    return node;
  }

  function renderFile(reply, data) {
    var node = card("file");
    paragraphs(node, reply.text);
    if (reply.content_base64) {
      var name = str(data.filename) || "download";
      var link = el("a", "file");
      link.download = name.replace(/[\\/]/g, "_");
      link.href = blobUrl(reply.content_base64, data.mime_type);
      link.appendChild(el("span", "file-icon", "⇩")).setAttribute("aria-hidden", "true");
      link.appendChild(el("span", "file-name", name));
      link.appendChild(el("span", "file-action", t("download")));
      node.appendChild(link);
    }
    return node;
  }

  function blobUrl(base64, mime) {
    var binary = window.atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    var type = /^[\w.+-]+\/[\w.+-]+$/.test(str(mime)) ? mime : "application/octet-stream";
    return URL.createObjectURL(new Blob([bytes], { type: type }));
  }

  function renderHandoff(reply, data) {
    var node = card("handoff");
    node.setAttribute("role", "status");
    paragraphs(node, reply.text);
    var meta = el("dl", "meta");
    if (data.ticket_number) {
      meta.appendChild(el("dt", "", t("ticket")));
      meta.appendChild(el("dd", "", data.ticket_number));
    }
    if (data.queue_position) {
      meta.appendChild(el("dt", "", t("queue")));
      meta.appendChild(el("dd", "", data.queue_position));
    }
    if (meta.childNodes.length) node.appendChild(meta);
    appendButtons(node, reply);
    return node;
  }

  var RENDERERS = {
    text: renderText,
    product_list: renderProductList,
    product_card: renderProductCard,
    cart: renderCart,
    order: renderOrder,
    payment: renderPayment,
    tracking: renderTracking,
    file: renderFile,
    handoff: renderHandoff,
  };

  /* ---------- language and chrome ---------- */

  function applyLanguage() {
    document.documentElement.lang = lang;
    document.getElementById("subtitle").textContent = t("subtitle");
    input.placeholder = t("placeholder");
    document.getElementById("input-label").textContent = t("inputLabel");
    document.getElementById("send-text").textContent = t("send");
    document.getElementById("send").setAttribute("aria-label", t("send"));
    log.setAttribute("aria-label", t("log"));
    var buttons = document.querySelectorAll("#langs .lang");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", buttons[i].getAttribute("data-lang") === lang ? "true" : "false");
    }
  }

  /* the conversation's language as the server keeps it: a typed "English please" switches the header too */
  function followLanguage(next) {
    if (!next || !UI[next] || next === lang) return;
    lang = next;
    store.setItem(LANG_KEY, lang);
    applyLanguage();
  }

  function chooseLanguage(next) {
    if (!UI[next] || next === lang) return;
    lang = next;
    store.setItem(LANG_KEY, lang);
    applyLanguage();
    send({ payload: "lang:" + lang }, LANG_NAMES[lang]);
  }

  function welcome() {
    addReply(
      {
        type: "text",
        text: t("welcome"),
        buttons: t("quick").map(function (q) { return { label: q[0], payload: q[1] }; }),
      },
      true
    );
  }

  function start() {
    log = document.getElementById("log");
    input = document.getElementById("input");
    form = document.getElementById("composer");
    applyLanguage();
    if (!restore()) welcome();

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) {
        input.focus();
        return;
      }
      input.value = "";
      send({ text: text }, text);
      input.focus();
    });
    document.getElementById("langs").addEventListener("click", function (event) {
      var target = event.target.closest ? event.target.closest(".lang") : null;
      if (target) chooseLanguage(target.getAttribute("data-lang"));
    });
    window.setInterval(poll, POLL_MS);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
    document.body.classList.add("ready");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
