#!/bin/sh
# docker compose's gateway certificate: self-signed, for development, made once at first start and
# kept in the gateway-tls volume (`docker compose down -v` discards it). Replace it with a real one
# (mount your own into /etc/nginx/tls) for anything shared.
set -eu
if [ -s /tls/cert.pem ] && [ -s /tls/key.pem ]; then exit 0; fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 397 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:nginx" \
  -keyout /tls/key.pem -out /tls/cert.pem 2>/dev/null
chmod 600 /tls/key.pem
chmod 644 /tls/cert.pem
echo "gateway-cert: made a self-signed development certificate for localhost"
