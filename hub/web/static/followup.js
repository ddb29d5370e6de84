// The follow-up list updates itself: every second it asks /follow-up/feed what arrived or changed
// since its cursor, adds new follow-ups at the top and updates the state of those it shows.
// No framework and no inline script (Content-Security-Policy friendly); text goes in through
// textContent only, so a citizen's comment can never become markup.
(function () {
  "use strict";
  var box = document.getElementById("follow-ups");
  if (!box || box.dataset.live !== "on") return;
  var list = box.querySelector("ol.fu-list");
  var template = document.getElementById("fu-item-template");
  var empty = box.querySelector(".fu-empty");
  var live = box.querySelector(".fu-live");
  var cursor = box.dataset.cursor;
  var filter = box.dataset.state;
  var INTERVAL = 1000;

  function fill(node, item) {
    node.dataset.id = item.id;
    node.dataset.state = item.state;
    node.className = node.className.replace(/\bscore-\S*/, "score-" + item.score);
    node.querySelectorAll("[data-text]").forEach(function (el) {
      var value = item[el.dataset.text];
      el.textContent = Array.isArray(value) ? value.join("; ") : value || "";
    });
    node.querySelectorAll("[data-show]").forEach(function (el) {
      var value = item[el.dataset.show];
      el.hidden = !value || (Array.isArray(value) && value.length === 0);
    });
    node.querySelectorAll("[data-href]").forEach(function (el) {
      el.setAttribute("href", item[el.dataset.href]);
    });
    var state = node.querySelector(".fu-state");
    if (state) state.className = "fu-state st-" + item.state;
  }

  function shown(id) {
    var items = list.querySelectorAll("li.fu-item");
    for (var i = 0; i < items.length; i++) {
      if (items[i].dataset.id === id) return items[i];
    }
    return null;
  }

  function apply(answer) {
    answer.items.forEach(function (item) {
      var node = shown(item.id);
      if (node) {
        fill(node, item);
      } else if (!filter || filter === item.state) {
        node = template.content.firstElementChild.cloneNode(true);
        fill(node, item);
        node.classList.add("fu-new");
        list.insertBefore(node, list.firstElementChild);
      }
    });
    if (empty) empty.hidden = list.children.length > 0;
    if (answer.counts) {
      var total = 0;
      Object.keys(answer.counts).forEach(function (state) {
        total += answer.counts[state];
        var el = box.querySelector('[data-count="' + state + '"]');
        if (el) el.textContent = answer.counts[state];
      });
      var all = box.querySelector('[data-count="all"]');
      if (all) all.textContent = total;
    }
    cursor = answer.cursor;
  }

  function status(ok, text) {
    if (!live) return;
    live.classList.toggle("lost", !ok);
    live.textContent = text;
  }

  function poll() {
    var feed = box.dataset.feed; // may carry ?unit= (a page about another unit than the home one)
    var url = feed + (feed.indexOf("?") < 0 ? "?" : "&") + "after=" + encodeURIComponent(cursor);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.ok && type.indexOf("application/json") === 0) return response.json();
        if (response.redirected || response.status === 401 || response.status === 403) {
          throw new Error("logged out");
        }
        throw new Error("HTTP " + response.status);
      })
      .then(function (answer) {
        apply(answer);
        status(true, "Tự cập nhật / Live");
        window.setTimeout(poll, INTERVAL);
      })
      .catch(function (error) {
        if (error.message === "logged out") {
          status(false, "Phiên đăng nhập đã hết, vui lòng tải lại trang. / Session ended, reload the page.");
          return;
        }
        status(false, "Mất kết nối, đang thử lại… / Connection lost, retrying…");
        window.setTimeout(poll, 5 * INTERVAL);
      });
  }

  window.setTimeout(poll, INTERVAL);
})();
