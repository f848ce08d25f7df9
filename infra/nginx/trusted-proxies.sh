#!/bin/sh
# Trust a front proxy's X-Forwarded-For (docker compose and Kubernetes run this from
# /docker-entrypoint.d before nginx starts; the native runner renders the same directives itself,
# packages/cluster/src/gateway.ts, and a test holds the two to one output).
#
# GATEWAY_TRUSTED_PROXIES: comma-separated addresses or CIDR ranges of the proxies in front of the
# gateway (an Ingress controller, a load balancer). Empty: nobody is trusted, and the client address
# is the connection's. Set: a request from one of them is attributed to the last address in its
# X-Forwarded-For that is not itself trusted (real_ip_recursive), so a client that writes its own
# X-Forwarded-For cannot choose its address: the front proxy appends the address it saw.
set -eu
out="${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}/authlab-real-ip.conf"
: > "$out"
[ -n "${GATEWAY_TRUSTED_PROXIES:-}" ] || exit 0
for proxy in $(printf '%s' "$GATEWAY_TRUSTED_PROXIES" | tr ',' ' '); do
  case "$proxy" in
    *[!0-9A-Fa-f.:/]*) echo "GATEWAY_TRUSTED_PROXIES: not an address or a CIDR range: $proxy" >&2; exit 1 ;;
  esac
  printf 'set_real_ip_from %s;\n' "$proxy" >> "$out"
done
printf 'real_ip_header X-Forwarded-For;\nreal_ip_recursive on;\n' >> "$out"
