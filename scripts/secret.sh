#!/usr/bin/env bash
# Prints a local secret, creating it first (random, 0600, in var/secrets/).
#
#   scripts/secret.sh action-token     # the Rasa server -> action server token
#
# For a single machine only: production sets the environment variables itself
# (README, "Security"). var/ is git-ignored and private to its owner.
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: scripts/secret.sh NAME}
case "$name" in *[!a-z0-9-]*) echo "ongeldige naam: $name" >&2; exit 2;; esac
umask 077
mkdir -p var/secrets
file="var/secrets/$name"
if [ ! -s "$file" ]; then
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$file.tmp"
  mv "$file.tmp" "$file"
fi
cat "$file"
