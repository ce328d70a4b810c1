/* Newswire: the live wire (Server-Sent Events), keyboard navigation and a reader's marks. No dependencies. */
(function () {
  "use strict";

  var NEW_FOR_MS = 8000;
  var RETRY_MS = 5000;

  function wireItems() {
    return Array.prototype.slice.call(document.querySelectorAll(".wire-item"));
  }

  /* -- live: items pushed by /live, put where a reload would list them, resuming after the
     last one seen. An item carries its publication time (data-at, UTC, fixed width: it sorts as
     text) and its copies' ids (data-copies): a copy shown as an original until its original
     arrived is taken away, as a reload would. -- */

  function listedBefore(a, b) {
    var atA = a.getAttribute("data-at") || "", atB = b.getAttribute("data-at") || "";
    if (atA !== atB) return atA > atB;
    return parseInt(a.getAttribute("data-id") || "0", 10) > parseInt(b.getAttribute("data-id") || "0", 10);
  }

  function startLive(list) {
    var base = list.getAttribute("data-live");
    var lastId = list.getAttribute("data-after") || "0";
    var max = parseInt(list.getAttribute("data-max") || "0", 10);
    var more = list.hasAttribute("data-more");
    var status = document.querySelector("[data-live-status]");
    var statusText = status && status.querySelector("[data-live-text]");
    var source = null;

    function setStatus(state, text) {
      if (!status) return;
      status.hidden = false;
      status.setAttribute("data-state", state);
      if (statusText) statusText.textContent = text;
    }

    function shown(id) {
      var item = document.getElementById("item-" + id);
      return item && item.parentNode === list ? item : null;
    }

    function withdraw(ids) {
      ids.split(/\s+/).forEach(function (id) {
        var item = id && shown(id);
        if (item) list.removeChild(item);
      });
    }

    /* An item sent again (its "Also in" grew) keeps what the page gave it for this reader:
       read and saved marks, "New", its buttons, its focus and highlight. */
    function keepReaderMarks(old, item) {
      ["data-read", "data-saved", "data-unseen"].forEach(function (name) {
        if (old.hasAttribute(name)) item.setAttribute(name, old.getAttribute(name));
      });
      ["is-new", "is-focused"].forEach(function (name) { if (old.classList.contains(name)) item.classList.add(name); });
      var article = item.querySelector("article");
      var badge = old.querySelector(".badge-new");
      if (article && badge && !item.querySelector(".badge-new")) article.insertBefore(badge, article.firstChild);
      var actions = old.querySelector(".reader-actions");
      if (article && actions && !item.querySelector(".reader-actions")) article.appendChild(actions);
    }

    function place(html) {
      var template = document.createElement("template");
      template.innerHTML = html.trim();
      var item = template.content.firstElementChild;
      if (!item || !item.classList.contains("wire-item")) return;
      withdraw(item.getAttribute("data-copies") || "");
      var old = shown(item.getAttribute("data-id"));
      if (old) {
        keepReaderMarks(old, item);
        var focused = old.contains(document.activeElement);
        list.removeChild(old);
      }
      var items = list.querySelectorAll(":scope > .wire-item");
      var next = null;
      for (var i = 0; i < items.length && !next; i++) if (listedBefore(item, items[i])) next = items[i];
      /* Past the last item of a page with older pages: it belongs to one of those. */
      if (!next && (more || (max > 0 && items.length >= max))) return;
      list.insertBefore(item, next);
      if (old && focused) item.focus({ preventScroll: true });
      if (!old) item.classList.add("is-new");
      if (item.classList.contains("is-new")) window.setTimeout(function () { item.classList.remove("is-new"); }, NEW_FOR_MS);
      if (max > 0) {
        while (list.querySelectorAll(":scope > .wire-item").length > max) list.removeChild(list.lastElementChild);
      }
      var hint = document.querySelector("[data-empty-hint]");
      if (hint) hint.hidden = true;
    }

    function connect() {
      var url = base + (base.indexOf("?") >= 0 ? "&" : "?") + "after=" + encodeURIComponent(lastId);
      source = new EventSource(url);
      source.addEventListener("open", function () { setStatus("live", "Live"); });
      source.addEventListener("article", function (event) {
        if (event.lastEventId) lastId = event.lastEventId;
        place(event.data);
      });
      source.addEventListener("withdraw", function (event) {
        if (event.lastEventId) lastId = event.lastEventId;
        withdraw(event.data);
      });
      source.addEventListener("error", function () {
        if (source.readyState === EventSource.CLOSED) {
          /* The browser gave up (an HTTP error, say): start over from the last item seen. */
          source.close();
          setStatus("offline", "Offline, retrying");
          window.setTimeout(connect, RETRY_MS);
        } else {
          setStatus("reconnecting", "Reconnecting");
        }
      });
    }

    if (window.EventSource) connect();
  }

  /* -- keyboard: j / k move through the wire, o or Enter opens -- */

  function focusItem(item) {
    wireItems().forEach(function (other) { other.classList.remove("is-focused"); });
    item.classList.add("is-focused");
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest" });
  }

  function openItem(item) {
    var link = item.querySelector(".wire-title a");
    if (link) window.location.href = link.href;
  }

  function typing(target) {
    return target && target.closest && target.closest("input, textarea, select, [contenteditable]");
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    var items = wireItems();
    if (!items.length) return;
    var active = document.activeElement;
    var current = active && active.closest ? active.closest(".wire-item") : null;
    if (!current) current = document.querySelector(".wire-item.is-focused");
    var index = current ? items.indexOf(current) : -1;
    if (event.key === "j") {
      focusItem(items[Math.min(index + 1, items.length - 1)]);
      event.preventDefault();
    } else if (event.key === "k") {
      focusItem(items[Math.max(index - 1, 0)]);
      event.preventDefault();
    } else if ((event.key === "o" || (event.key === "Enter" && active === current)) && current) {
      openItem(current);
      event.preventDefault();
    } else {
      readerKeys(event, current);
    }
  });

  /* -- a signed-in reader's state: m read/unread, s save, A mark all as read -- */

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* Submit an item's button (it names the page's one shared form, and its own formaction,
     name and value: what works without script) in the background, and update the item from
     the answer, so the page keeps its place. */
  function postButton(button, value) {
    var body = new URLSearchParams(new FormData(button.form));
    body.set(button.name, value);
    return fetch(button.formAction, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrfToken() }
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
  }

  var LABELS = { read: ["Mark unread", "Mark read", "data-read"], save: ["\u2605 Saved", "\u2606 Save", "data-saved"] };

  function toggle(item, kind) {
    var button = item.querySelector('button[data-reader="' + kind + '"]');
    if (!button) return;
    var labels = LABELS[kind];
    var on = item.getAttribute(labels[2]) !== "1";
    postButton(button, on ? "1" : "0").then(function () {
      item.setAttribute(labels[2], on ? "1" : "0");
      button.value = on ? "0" : "1";
      button.textContent = on ? labels[0] : labels[1];
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  /* Clicking an item's button posts in the background too (no reload, no lost place). */
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-reader]");
    var item = button && button.closest(".wire-item");
    if (!item) return;
    event.preventDefault();
    toggle(item, button.getAttribute("data-reader"));
  });

  function readerKeys(event, current) {
    if (event.key === "A") {
      var all = document.querySelector("form[data-read-all]");
      if (all) { all.submit(); event.preventDefault(); }
      return;
    }
    if (!current) return;
    if (event.key === "m" || event.key === "s") {
      toggle(current, event.key === "m" ? "read" : "save");
      event.preventDefault();
    }
  }

  document.addEventListener("focusout", function (event) {
    var item = event.target && event.target.classList && event.target.classList.contains("wire-item") ? event.target : null;
    if (item && !item.contains(event.relatedTarget)) item.classList.remove("is-focused");
  });

  /* -- forms that ask first (removing a source) -- */

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  function start() {
    var lists = document.querySelectorAll("ol.wire[data-live]");
    for (var i = 0; i < lists.length; i++) startLive(lists[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
