# Flower settings for the containerised stack, read with
#
#   celery -A workers.celery_app flower --conf=/etc/atelier/flowerconfig.py
#
# Flower executes this file and takes every top-level name that matches one of its options.
# Precedence: FLOWER_* environment variables < this file < command-line flags.
#
# The image runs Flower through `celery` rather than `atelier flower`, because that command
# binds to 127.0.0.1, which nothing outside the container can reach.

# Listen on every interface *inside the container*; docker-compose.yml publishes the port on
# the host's loopback only, and in Kubernetes the Service is ClusterIP.
address = "0.0.0.0"
port = 5555

# Postgres is the record of every job; Flower's task list is a live view, not an archive.
# Keeping it in memory only means no state file to store, lock or migrate between versions.
persistent = False

# Bound the memory Flower spends on the task and worker lists it shows.
max_tasks = 10000
max_workers = 100

# Drop workers that have been offline for an hour (rolled pods get new hostnames).
purge_offline_workers = 3600

# Behind a reverse proxy at a sub-path, e.g. https://ops.example.com/flower/ (every route
# moves, /healthcheck and /metrics too: update the probes and deploy/prometheus.yml):
# url_prefix = "flower"
# xheaders = True  # trust X-Real-Ip / X-Scheme from that proxy

# Production: Flower has no authentication by default, and it can revoke tasks and shut
# workers down. Turn on HTTP basic auth with the environment variable
#
#   FLOWER_BASIC_AUTH=user:password[,user2:password2]
#
# (or the flag --basic-auth=user:password). It is deliberately not set here, so the
# credentials live in the Secret / .env rather than in the image. Never set it to an
# empty string: Flower would then require a login that no one can give.
