#!/usr/bin/env bash
# Start a local Redis on 127.0.0.1:6379 when none answers (tests use its db 14 and 15).
set -euo pipefail
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 50); do redis-cli ping >/dev/null 2>&1 && exit 0; sleep 0.1; done
  echo "redis-server did not start" >&2; exit 1
fi
