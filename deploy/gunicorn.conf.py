"""gunicorn settings for one queue_board server process (docs/deployment.md).

    queue-board db upgrade      # once, before any worker starts
    gunicorn -c deploy/gunicorn.conf.py --bind 127.0.0.1:5001 queue_board.wsgi:app

One worker per process and port: a Socket.IO session that falls back to long-polling sends
each of its requests separately, and all must reach the process that holds the session, which
gunicorn's own balancing between workers cannot promise. Scale out with more processes, on
more ports or machines, behind nginx with ``ip_hash`` (deploy/nginx-queue_board.conf), joined by
Redis (``QB_SOCKETIO_MESSAGE_QUEUE``) and one PostgreSQL (``QB_DATABASE_URL``).
"""

import os

#: where this process listens (``--bind`` on the command line wins)
bind = os.environ.get("QB_BIND", "127.0.0.1:5001")
#: gevent with websockets: one greenlet per connection, boards included
worker_class = "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"
workers = 1
#: open connections one process holds: its boards and ticket pages, plus requests in flight
worker_connections = int(os.environ.get("QB_WORKER_CONNECTIONS", "4000"))
#: a worker whose loop stalls this long is restarted (it heartbeats from the loop)
timeout = 60
#: how long a stopping worker may finish its requests (boards reconnect to another process)
graceful_timeout = 20
#: nginx keeps upstream connections open; longer than its keepalive_timeout
keepalive = 75
#: the app's own logs go to stderr; access logs are nginx's business
accesslog = None
errorlog = "-"
#: no control socket: several processes on one machine would share its default path
control_socket_disable = True
