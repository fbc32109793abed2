# Where Masthead runs and who may purge: included by default.vcl. This one is for
# docker-compose.yml: the app's two replicas are the services `app` and `app-2` on
# port 8000 (Varnish resolves a backend's host name once, when the VCL loads, and a
# name must resolve to one address, hence two services rather than `replicas: 2`).
#
# Elsewhere, replace this file (mount your own at /etc/varnish/backends.vcl, or put it
# beside default.vcl): one `backend` per app instance, `masthead_backend` choosing one,
# and `masthead_purgers` listing the addresses the service sends PURGE from.
import directors;

probe masthead_ready {
    .url = "/readyz";      # the database answers too; a sick backend means stale copies are served
    .interval = 5s;
    .timeout = 2s;
    .window = 5;
    .threshold = 3;
}

backend app_1 {
    .host = "app";
    .port = "8000";
    .probe = masthead_ready;
}

backend app_2 {
    .host = "app-2";
    .port = "8000";
    .probe = masthead_ready;
}

sub vcl_init {
    new masthead = directors.round_robin();
    masthead.add_backend(app_1);
    masthead.add_backend(app_2);
}

sub masthead_backend {
    set req.backend_hint = masthead.backend();
}

# The service purges from the app containers; loopback is for `varnishadm`-side tools.
acl masthead_purgers {
    "localhost";
    "app";
    "app-2";
}
