"""Runs under nova 34.0.0's virtualenv: nova-api's or placement's own WSGI application on a
threaded stdlib HTTP server, on 127.0.0.1.

    python wsgi_server.py nova-api|placement PORT CONFIG_DIR

No keystone runs here. nova 34 has no noauth pipeline, so the stack's api-paste.ini drops
`authtoken` and this server hands nova-api the identity headers keystonemiddleware would
have set, for one admin user and project. Placement runs with `auth_strategy = noauth2`,
which takes the token as `user:project` and only an `admin` user as admin; every nova
service's placement client sends `notused` (`auth_type = none`), so this server sends
`admin:admin` instead.
"""

import os
import signal
import socketserver
import sys
import threading
from wsgiref import simple_server

IDENTITY = {
    "HTTP_X_IDENTITY_STATUS": "Confirmed",
    "HTTP_X_USER_ID": "e2e0000000000000000000000000user",
    "HTTP_X_USER_NAME": "e2e-admin",
    "HTTP_X_PROJECT_ID": "e2e00000000000000000000000project",
    "HTTP_X_PROJECT_NAME": "e2e-project",
    "HTTP_X_ROLES": "admin,member,reader",
    "HTTP_X_AUTH_TOKEN": "e2e-token",
}


def nova_api(config_dir):
    os.environ["OS_NOVA_CONFIG_DIR"] = config_dir
    sys.argv = ["nova-api"]  # nova parses sys.argv as its command line
    from nova import monkey_patch

    monkey_patch.patch(backend="threading")
    from fakes import install_glance_and_neutron
    from nova.api.openstack import wsgi_app

    app = wsgi_app.init_application("osapi_compute", "nova-api-os-compute")
    install_glance_and_neutron()

    def with_identity(environ, start_response):
        environ.update(IDENTITY)
        return app(environ, start_response)

    return with_identity


def placement(config_dir):
    os.environ["OS_PLACEMENT_CONFIG_DIR"] = config_dir
    sys.argv = ["placement-api"]
    from placement import wsgi

    app = wsgi.init_application()

    def as_admin(environ, start_response):
        environ["HTTP_X_AUTH_TOKEN"] = "admin:admin"
        return app(environ, start_response)

    return as_admin


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    request_queue_size = 256  # the listen backlog: 40 parallel boots connect at once


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):
        pass  # nova and placement log each request themselves


# Requests served at once, as a WSGI container's processes x threads bound them: a thread per
# connection and no bound let 40 parallel boots take more database connections than
# placement's pool has (5 + 10 overflow), and its requests time out waiting for one.
IN_FLIGHT = 8


def bounded(app):
    slots = threading.BoundedSemaphore(IN_FLIGHT)

    def one_at_a_slot(environ, start_response):
        with slots:
            # the body too: nova and placement may build it lazily
            body = app(environ, start_response)
            try:
                return list(body)
            finally:
                if hasattr(body, "close"):
                    body.close()

    return one_at_a_slot


def main():
    kind, port, config_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    app = {"nova-api": nova_api, "placement": placement}[kind](config_dir)
    server = simple_server.make_server(
        "127.0.0.1", port, bounded(app), server_class=_Server, handler_class=_QuietHandler
    )

    def stop(signum, frame):
        # shutdown() waits for serve_forever, which runs in this very thread
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    print(f"{kind} listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
