#!/usr/bin/env bash
# PostgreSQL vault throughput (issue 14 item 6, a first cut): a throwaway cluster on a Unix socket
# (as the tests make one: initdb and pg_ctl as the system user avaultpg when run as root), then
#   1. W writer processes each putting N drafts of 4 KiB into one PostgreSQL vault (keys unprotected,
#      so no put pays Argon2id; the agent is not used),
#   2. W psql clients inserting the same bytes as bytea rows, one single-row transaction each,
#   3. W reader processes getting every stored draft back.
# Usage: bench/postgres/run.sh [W=8] [N=40]    (build first: swift build)
set -euo pipefail
cd "$(dirname "$0")/../.."
W=${1:-8}; N=${2:-40}
AVAULT=${AVAULT:-$(swift build --show-bin-path)/avault}
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
T=$(mktemp -d /tmp/avault-pgbench-XXXXXX); chmod 700 "$T"
run() { if [ "$(id -u)" -eq 0 ]; then runuser -u avaultpg -- "$@"; else "$@"; fi; }
if [ "$(id -u)" -eq 0 ]; then id avaultpg >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin avaultpg; chown avaultpg "$T"; fi
cleanup() { (cd / && run "$BIN/pg_ctl" -D "$T/data" -m immediate stop >/dev/null 2>&1) || true; rm -rf "$T"; }
trap cleanup EXIT
(cd / && run "$BIN/initdb" -D "$T/data" -U avault -A trust --no-locale -E UTF8 --no-sync >/dev/null)
(cd / && run "$BIN/pg_ctl" -D "$T/data" -l "$T/log" -w -o "-c listen_addresses='' -c unix_socket_directories='$T'" start >/dev/null)
"$BIN/psql" -X -q -h "$T" -U avault -d postgres -c "CREATE DATABASE bench"
export AVAULT_VAULT="postgresql:///bench?host=$T&user=avault" AVAULT_KEYRING="$T/ring" HOME="$T" XDG_DATA_HOME="$T" XDG_CONFIG_HOME="$T"
unset AVAULT_PASSPHRASE AVAULT_AGENT_SOCK
"$AVAULT" keys generate drafts --secret --unprotected >/dev/null
"$AVAULT" vault init --key drafts >/dev/null
head -c 4096 /dev/urandom > "$T/draft"
now() { date +%s.%N; }
start=$(now)
for w in $(seq 1 "$W"); do ( for i in $(seq 1 "$N"); do "$AVAULT" vault put "w$w-$i" "$T/draft" >/dev/null; done ) & done; wait
puts=$(echo "$W * $N / ($(now) - $start)" | bc -l)
"$BIN/psql" -X -q -h "$T" -U avault -d bench -c "CREATE TABLE raw (id serial PRIMARY KEY, bytes bytea)"
hex=$(od -An -v -tx1 "$T/draft" | tr -d ' \n')
start=$(now)
for w in $(seq 1 "$W"); do ( for i in $(seq 1 "$N"); do "$BIN/psql" -X -q -h "$T" -U avault -d bench -c "INSERT INTO raw (bytes) VALUES (decode('$hex', 'hex'))"; done ) & done; wait
inserts=$(echo "$W * $N / ($(now) - $start)" | bc -l)
start=$(now)
for w in $(seq 1 "$W"); do ( for i in $(seq 1 "$N"); do "$AVAULT" vault get "w$w-$i" > /dev/null; done ) & done; wait
gets=$(echo "$W * $N / ($(now) - $start)" | bc -l)
"$AVAULT" vault verify >/dev/null
printf 'writers %d x %d puts of 4 KiB: %.1f puts/s; psql single-row bytea inserts: %.1f/s (ratio %.2f); gets: %.1f/s\n' "$W" "$N" "$puts" "$inserts" "$(echo "$puts / $inserts" | bc -l)" "$gets"
