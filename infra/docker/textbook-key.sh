#!/bin/sh
# docker compose's signing key for the textbook peer (services/textbook): one ES256 (P-256) private
# key, PKCS#8 PEM, made once at first start and kept in the textbook-key volume that every textbook
# replica mounts read-only (`docker compose down -v` discards it). Readable by the image's `node` user
# (uid 1000) only.
set -eu
key=/keys/textbook-es256.pem
if [ -s "$key" ]; then exit 0; fi
umask 077
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key.tmp"
chown 1000:1000 "$key.tmp"
mv "$key.tmp" "$key"
echo "textbook-key: made the textbook peer's ES256 signing key"
