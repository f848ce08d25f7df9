#!/bin/sh
# docker compose's Redis: renders infra/redis/users.acl with the passwords from the environment
# (comments and blank lines dropped: an ACL file allows neither), then runs redis-server with it.
set -eu
for name in REDIS_AUTH_PASSWORD REDIS_DOWNSTREAM_PASSWORD REDIS_TEXTBOOK_PASSWORD REDIS_ADMIN_PASSWORD; do
  eval "value=\${$name:-}"
  case "$value" in
    "" | *[!A-Za-z0-9_-]*)
      echo "$name must be set, using only A-Z a-z 0-9 _ - (it also goes into REDIS_URL)" >&2
      exit 1
      ;;
  esac
done
sed -e '/^#/d' -e '/^[[:space:]]*$/d' \
  -e "s/\${REDIS_AUTH_PASSWORD}/$REDIS_AUTH_PASSWORD/g" \
  -e "s/\${REDIS_DOWNSTREAM_PASSWORD}/$REDIS_DOWNSTREAM_PASSWORD/g" \
  -e "s/\${REDIS_TEXTBOOK_PASSWORD}/$REDIS_TEXTBOOK_PASSWORD/g" \
  -e "s/\${REDIS_ADMIN_PASSWORD}/$REDIS_ADMIN_PASSWORD/g" \
  /etc/authlab/users.acl >/tmp/users.acl
exec redis-server "$@" --aclfile /tmp/users.acl
