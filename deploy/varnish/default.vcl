# Masthead behind Varnish: caches anonymous `GET /graphql` reads (and the feeds and
# sitemaps under /feeds/, /sitemap.xml and /sitemaps/) the app marks public,
# purges them by surrogate key (vmod xkey), serves stale copies while revalidating and
# while the backends fail. Varnish 7.1+ with varnish-modules (Debian: `varnish`,
# `varnish-modules`; the official `varnish` image ships both).
#
# Where the backends are and who may purge live in ./backends.vcl, beside this file,
# so this policy stays the same everywhere. That file defines:
#   sub masthead_backend   sets req.backend_hint (one backend, or a director)
#   acl masthead_purgers   the addresses allowed to send PURGE (the service's)
# docker-compose.yml mounts deploy/varnish, whose backends.vcl names the compose services
# `app` and `app-2`; operators edit or replace backends.vcl; the tests write their own.
#
# Headers added to responses:
#   X-Edge-Cache: HIT | MISS | PASS   what Varnish did (the app's own X-Cache is left alone)
#   Age                               seconds the copy has been in Varnish
# Purging: `PURGE /` with `xkey-purge: k1 k2 ...` from an address in masthead_purgers
# answers 200 with `X-Purged: <objects purged>`; from elsewhere 403. Methods outside
# HTTP's own (BAN, ...) answer 405.
vcl 4.1;

import std;
import xkey;

include "./backends.vcl";

sub vcl_recv {
    call masthead_backend;
    unset req.http.X-Edge-Cache;

    if (req.method == "PURGE") {
        if (client.ip !~ masthead_purgers) {
            return (synth(403, "Forbidden"));
        }
        if (req.http.xkey-purge !~ "[^ ,]") {
            return (synth(400, "xkey-purge header required"));
        }
        set req.http.X-Purged = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged"));
    }
    if (req.method != "GET" && req.method != "HEAD" && req.method != "POST" &&
        req.method != "PUT" && req.method != "PATCH" && req.method != "DELETE" &&
        req.method != "OPTIONS") {
        return (synth(405, "Method Not Allowed"));
    }
    # GraphQL subscriptions over WebSocket go straight through.
    if (req.http.Upgrade ~ "(?i)websocket") {
        return (pipe);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);  # POST /graphql (mutations, and queries a client sends by POST)
    }
    if (req.http.Authorization || req.http.Cookie) {
        return (pass);  # editors and anything personal
    }
    if (req.url ~ "^/(feeds/|sitemaps/|sitemap\.xml(\?|$))") {
        # Feeds and sitemaps: one document per path, whatever a reader's query string says.
        set req.url = regsub(req.url, "\?.*$", "");
    } else if (req.url !~ "^/graphql(\?|$)" && req.url !~ "^/(static|media)/") {
        return (pass);  # health probes and the rest are never cached
    }
    if (req.http.X-Masthead-Stale) {
        # Restarted after the backend failed: any copy still within its grace will do
        # (req.grace survives restarts, so lift the limit vcl_hit's restart set).
        set req.grace = 3650d;
        return (hash);
    }
    if (req.http.X-Masthead-Revalidate) {
        # Restarted from vcl_hit: past stale-while-revalidate, so fetch (a conditional
        # fetch when the stale copy has an ETag); the copy stays for stale-if-error.
        set req.grace = 0s;
    }
    return (hash);
}

sub vcl_hash {
    # One API host: the URL (query string included) is the key; Vary adds Accept and
    # Accept-Encoding per stored variant.
    hash_data(req.url);
    return (lookup);
}

sub vcl_hit {
    set req.http.X-Edge-Cache = "HIT";
    if (obj.ttl < 0s && !req.http.X-Masthead-Stale && !req.http.X-Masthead-Revalidate &&
        std.healthy(req.backend_hint) &&
        obj.ttl + std.duration(obj.http.X-Masthead-SWR, 0s) < 0s) {
        # Stale beyond stale-while-revalidate, and the backend is up: do not serve it
        # unless the fetch fails (stale-if-error, below).
        set req.http.X-Masthead-Revalidate = "1";
        return (restart);
    }
    return (deliver);
}

sub vcl_miss {
    set req.http.X-Edge-Cache = "MISS";
}

sub vcl_pass {
    set req.http.X-Edge-Cache = "PASS";
}

sub vcl_pipe {
    if (req.http.Upgrade) {
        set bereq.http.Upgrade = req.http.Upgrade;
        set bereq.http.Connection = req.http.Connection;
    }
}

sub vcl_backend_response {
    # vmod xkey indexes objects by the keys in their `xkey` header.
    if (beresp.http.Surrogate-Key) {
        set beresp.http.xkey = beresp.http.Surrogate-Key;
    }
    if (bereq.uncacheable) {
        return (deliver);
    }
    if (beresp.status >= 500) {
        if (bereq.is_bgfetch || !bereq.http.X-Masthead-Stale) {
            # Keep serving the copy we have (see vcl_synth).
            return (abandon);
        }
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        return (deliver);
    }
    # Only what the app marks public for shared caches is stored: no default TTL for
    # responses without one, never private/no-store/no-cache ones.
    if (beresp.http.Cache-Control !~ "(?i)(^|[ ,])public([ ,]|$)" ||
        beresp.http.Cache-Control ~ "(?i)no-store|no-cache|private" ||
        beresp.http.Cache-Control !~ "(?i)(s-maxage|max-age)=[0-9]" ||
        beresp.http.Set-Cookie || beresp.http.Vary == "*") {
        set beresp.ttl = 120s;
        set beresp.uncacheable = true;  # hit-for-miss: later requests still try the backend
        return (deliver);
    }
    # Varnish set beresp.ttl from s-maxage (else max-age) already. Grace keeps the object
    # past it for stale-while-revalidate (served while a background fetch refreshes) and
    # stale-if-error (served only when the backend fails), whichever is longer.
    set beresp.http.X-Masthead-SWR = "0s";
    if (beresp.http.Cache-Control ~ "(?i)stale-while-revalidate=[0-9]+") {
        set beresp.http.X-Masthead-SWR = regsub(beresp.http.Cache-Control,
            "(?i)^.*stale-while-revalidate=([0-9]+).*$", "\1s");
    }
    set beresp.grace = std.duration(beresp.http.X-Masthead-SWR, 0s);
    if (beresp.http.Cache-Control ~ "(?i)stale-if-error=[0-9]+") {
        set beresp.grace = std.duration(regsub(beresp.http.Cache-Control,
            "(?i)^.*stale-if-error=([0-9]+).*$", "\1s"), 0s);
        if (beresp.grace < std.duration(beresp.http.X-Masthead-SWR, 0s)) {
            set beresp.grace = std.duration(beresp.http.X-Masthead-SWR, 0s);
        }
    }
    if (beresp.ttl <= 0s && beresp.grace > 0s) {
        # s-maxage=0 (e.g. capped at a go-live that is due): Varnish never looks up an
        # object whose TTL is 0, so keep it 1 ms, for stale-if-error alone.
        set beresp.ttl = 0.001s;
    }
    return (deliver);
}

sub vcl_backend_error {
    if (bereq.is_bgfetch || !bereq.http.X-Masthead-Stale) {
        return (abandon);  # the backend is down: try the stale copy (vcl_synth)
    }
}

sub vcl_synth {
    if (req.method == "PURGE" && resp.status == 200) {
        set resp.http.X-Purged = req.http.X-Purged;
        set resp.http.Content-Type = "application/json";
        set resp.body = {"{"purged": "} + req.http.X-Purged + "}";
        return (deliver);
    }
    if (resp.status == 503 && !req.http.X-Masthead-Stale &&
        (req.method == "GET" || req.method == "HEAD") && req.restarts < 3) {
        # An abandoned fetch: look again, now accepting any copy within its grace.
        set req.http.X-Masthead-Stale = "1";
        unset req.http.X-Masthead-Revalidate;
        return (restart);
    }
}

sub vcl_deliver {
    if (!req.http.X-Edge-Cache) {
        set req.http.X-Edge-Cache = "MISS";
    }
    set resp.http.X-Edge-Cache = req.http.X-Edge-Cache;
    unset resp.http.xkey;
    unset resp.http.X-Masthead-SWR;
}
