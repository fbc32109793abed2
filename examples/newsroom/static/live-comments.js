// The newsroom's only script. The page works without it: the comment form posts to the
// site. With it: approved comments appear in the thread as they arrive (the API's
// commentAdded subscription over graphql-transport-ws), and a rate limit counts down.
(function () {
  "use strict";

  function countdowns() {
    document.querySelectorAll("[data-countdown]").forEach(function (element) {
      var left = parseInt(element.dataset.countdown, 10);
      var form = element.closest("form");
      var button = form && form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      var timer = setInterval(function () {
        left -= 1;
        element.textContent = String(Math.max(left, 0));
        if (left <= 0) {
          clearInterval(timer);
          element.parentElement.textContent = "You can try again now.";
          if (button) button.disabled = false;
        }
      }, 1000);
    });
  }

  function live(section) {
    var url = section.dataset.liveUrl;
    var thread = document.getElementById("comment-thread");
    var status = document.getElementById("live-status");
    var count = section.querySelector("#comments-heading .count");
    var lang = document.documentElement.lang || undefined;
    var delay = 1000;
    var stopped = false;

    function text(tag, className, value) {
      var element = document.createElement(tag);
      if (className) element.className = className;
      element.textContent = value;
      return element;
    }

    function add(comment) {
      if (!comment || document.getElementById("comment-" + comment.id)) return;
      var item = document.createElement("li");
      item.className = "comment comment-new";
      item.id = "comment-" + comment.id;
      item.dataset.commentId = comment.id;
      var article = document.createElement("article");
      article.setAttribute("aria-label", "Comment by " + comment.authorName);
      var meta = document.createElement("p");
      meta.className = "comment-meta";
      meta.appendChild(text("span", "comment-author", comment.authorName));
      meta.appendChild(document.createTextNode(" "));
      var time = text("time", "", new Date(comment.createdAt).toLocaleDateString(lang, {
        day: "numeric", month: "short", year: "numeric"
      }));
      time.setAttribute("datetime", comment.createdAt);
      meta.appendChild(time);
      var body = document.createElement("div");
      body.className = "comment-body";
      body.innerHTML = comment.bodyHtml; // the API's safe HTML: text escaped, links marked nofollow ugc
      article.appendChild(meta);
      article.appendChild(body);
      item.appendChild(article);
      var list = thread;
      var parent = comment.parent && document.getElementById("comment-" + comment.parent.id);
      if (parent) {
        list = parent.querySelector(":scope > ol.replies");
        if (!list) {
          list = document.createElement("ol");
          list.className = "replies";
          parent.appendChild(list);
        }
      }
      list.appendChild(item);
      var empty = document.getElementById("no-comments");
      if (empty) empty.remove();
      if (count) {
        var number = parseInt(count.textContent.replace(/\D/g, ""), 10) || 0;
        count.textContent = "(" + (number + 1) + ")";
      }
      status.textContent = "New comment from " + comment.authorName + ".";
    }

    function connect() {
      var socket = new WebSocket(url, "graphql-transport-ws");
      socket.addEventListener("open", function () {
        socket.send(JSON.stringify({ type: "connection_init", payload: {} }));
      });
      socket.addEventListener("message", function (event) {
        var message = JSON.parse(event.data);
        if (message.type === "connection_ack") {
          socket.send(JSON.stringify({
            id: "comments", type: "subscribe",
            payload: {
              query: section.dataset.document, operationName: "CommentAdded",
              variables: { articleId: section.dataset.articleId }
            }
          }));
          delay = 1000;
          section.dataset.live = "subscribed";
        } else if (message.type === "ping") {
          socket.send(JSON.stringify({ type: "pong" }));
        } else if (message.type === "next" && message.payload && message.payload.data) {
          add(message.payload.data.commentAdded);
        } else if (message.type === "error") {
          stopped = true; // the article is not public (a draft): nothing will come
          section.dataset.live = "refused";
          socket.close();
        }
      });
      socket.addEventListener("close", function () {
        if (stopped) return;
        section.dataset.live = "reconnecting";
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      });
    }

    connect();
  }

  countdowns();
  var section = document.getElementById("comments");
  if (section && section.dataset.liveUrl && "WebSocket" in window) live(section);
})();
