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
 * URL parameters read on load: ?q=<query text>&variables=<json>
 * (kept up to date while you edit, so links can be shared). The parameter is
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
