/*
 * Masthead GraphiQL bootstrap.
 *
 * Loaded as an external script (no inline JS) so the page works under a
 * strict Content-Security-Policy (script-src 'self', no 'unsafe-eval').
 *
 * Expects these globals from the vendored UMD bundles loaded before it:
 *   React, ReactDOM, GraphiQL (graphiql.min.js),
 *   GraphiQLPluginExplorer (plugin-explorer.umd.js, optional).
 *
 * Tabs: the page carries the example operations of schema/operations as a
 * JSON data block (<script type="application/json" id="graphiql-examples">,
 * filled by the server with this site's values; a data block is never
 * executed, so the CSP holds). They become GraphiQL's `defaultTabs`: each
 * tab's query, its variables, and for operations that need a role a Headers
 * tab with an Authorization placeholder. Edited tabs are kept in
 * localStorage under a key that changes with the set of operations, so a new
 * release opens with its own examples again.
 *
 * URL parameters read on load: ?q=<query text>&variables=<json>
 * (kept up to date while you edit, so links can be shared); a link's query
 * opens in a tab of its own, in front. The parameter is
 * "q", not "query", because strawberry treats GET /graphql?query=... as a
 * GraphQL-over-GET request and answers it with JSON instead of this page.
 */
(function () {
  "use strict";

  var DEFAULT_QUERY =
    "# Welcome to Masthead's GraphQL explorer.\n" +
    "#\n" +
    "# Type a query here: autocompletion and\n" +
    "# validation use the live schema.\n" +
    "#\n" +
    "# Run it: Ctrl-Enter or the play button.\n" +
    "# Types and fields: the Docs panel (book icon).\n" +
    "\n" +
    "{\n" +
    "  site {\n" +
    "    name\n" +
    "  }\n" +
    "}\n";

  var container = document.getElementById("graphiql");
  if (!container) {
    return;
  }

  function fail(message) {
    container.textContent = "GraphiQL could not start: " + message;
    if (window.console) {
      console.error("GraphiQL could not start:", message);
    }
  }

  if (!window.React || !window.ReactDOM || !window.GraphiQL) {
    fail("a required script (React, ReactDOM or GraphiQL) did not load.");
    return;
  }

  // ---- URL parameters -----------------------------------------------------
  var params = new URLSearchParams(window.location.search);

  function updateURL(key, value) {
    if (value) {
      params.set(key, value);
    } else {
      params.delete(key);
    }
    var search = params.toString();
    window.history.replaceState(
      null,
      "",
      window.location.pathname + (search ? "?" + search : "") + window.location.hash
    );
  }

  // ---- Fetcher --------------------------------------------------------------
  // Same URL as the page (without query string / hash).
  var endpoint = window.location.pathname;
  var httpUrl = window.location.origin + endpoint;
  var wsUrl =
    (window.location.protocol === "https:" ? "wss:" : "ws:") +
    "//" +
    window.location.host +
    endpoint;

  // Lower-case header names on purpose: @graphiql/toolkit merges these
  // over its own lower-case defaults by object spread, so they replace them
  // instead of producing duplicate "Content-Type" values.
  var requestHeaders = {
    "content-type": "application/json",
    accept: "application/graphql-response+json, application/json",
  };

  var fetcher;
  if (typeof window.GraphiQL.createFetcher === "function") {
    // HTTP POST for queries/mutations; graphql-ws over ws(s):// same path
    // for subscriptions.
    fetcher = window.GraphiQL.createFetcher({
      url: httpUrl,
      subscriptionUrl: wsUrl,
      headers: requestHeaders,
      enableIncrementalDelivery: false,
    });
  } else {
    fetcher = function (graphQLParams, opts) {
      var headers = Object.assign({}, requestHeaders, (opts && opts.headers) || {});
      return window
        .fetch(httpUrl, {
          method: "POST",
          headers: headers,
          body: JSON.stringify(graphQLParams),
          credentials: "same-origin",
        })
        .then(function (response) {
          return response.json();
        });
    };
  }

  // ---- Plugins --------------------------------------------------------------
  var plugins = [];
  if (
    window.GraphiQLPluginExplorer &&
    typeof window.GraphiQLPluginExplorer.explorerPlugin === "function"
  ) {
    plugins.push(window.GraphiQLPluginExplorer.explorerPlugin());
  }

  // ---- Example tabs ---------------------------------------------------------
  var examples = [];
  var block = document.getElementById("graphiql-examples");
  if (block) {
    try {
      examples = JSON.parse(block.textContent || "[]");
    } catch (err) {
      examples = [];
      if (window.console) {
        console.warn("GraphiQL: the example tabs could not be read:", err);
      }
    }
  }
  var defaultTabs = examples.map(function (tab) {
    return {
      query: tab.query,
      variables: JSON.stringify(tab.variables || {}, null, 2),
      headers: tab.headers || "",
    };
  });
  if (params.has("q")) {
    defaultTabs.unshift({
      query: params.get("q"),
      variables: params.get("variables") || "",
      headers: "",
    });
  }

  // Tabs are remembered per set of example operations: a short hash of their names.
  function digest(text) {
    var hash = 5381;
    for (var i = 0; i < text.length; i++) {
      hash = ((hash << 5) + hash + text.charCodeAt(i)) | 0;
    }
    return (hash >>> 0).toString(36);
  }
  var prefix =
    "masthead:" +
    digest(examples.map(function (tab) { return tab.name; }).join(",")) +
    ":";
  var storage;
  try {
    var local = window.localStorage;
    storage = {
      getItem: function (key) { return local.getItem(prefix + key); },
      setItem: function (key, value) { local.setItem(prefix + key, value); },
      removeItem: function (key) { local.removeItem(prefix + key); },
      clear: function () {
        for (var i = local.length - 1; i >= 0; i--) {
          var key = local.key(i);
          if (key && key.indexOf(prefix) === 0) {
            local.removeItem(key);
          }
        }
      },
      get length() {
        var count = 0;
        for (var i = 0; i < local.length; i++) {
          var key = local.key(i);
          if (key && key.indexOf(prefix) === 0) {
            count += 1;
          }
        }
        return count;
      },
    };
  } catch (err) {
    storage = undefined; // storage disabled: GraphiQL keeps tabs in memory
  }

  // ---- Render ---------------------------------------------------------------
  var props = {
    fetcher: fetcher,
    plugins: plugins,
    defaultQuery: DEFAULT_QUERY,
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    inputValueDeprecation: true,
    onEditQuery: function (value) {
      updateURL("q", value);
    },
    onEditVariables: function (value) {
      updateURL("variables", value);
    },
  };
  if (storage) {
    props.storage = storage;
  }
  if (defaultTabs.length) {
    props.defaultTabs = defaultTabs;
  }
  if (params.has("q")) {
    props.query = params.get("q");
  }
  if (params.has("variables")) {
    props.variables = params.get("variables");
  }

  try {
    var root = window.ReactDOM.createRoot(container);
    root.render(window.React.createElement(window.GraphiQL, props));
  } catch (err) {
    fail(String((err && err.message) || err));
  }
})();
