#!/usr/bin/env bash
# test_policy_key.sh: check-policy also checks the key file the policy names
# (sessions.publicKey.file) when it can be read here: a public RSA key of at least 2048 bits,
# never a private key; it says on stderr what it found, or that it could not check.
source "$(dirname "$0")/lib.sh"

# SA_WRAP (the valgrind stage) wraps every run of the binary, so memory errors fail the test.
# shellcheck disable=SC2086
sa() { ${SA_WRAP:-} "$SA_BIN" "$@"; }

rc() { local r=0; "$@" >"$TMP/out" 2>"$TMP/err" || r=$?; echo "$r"; }
with_key() { sed "s|/etc/session-admission/keys/public.pem|$1|" "$SA_SRC/examples/policy.yaml" > "$TMP/p.yaml"; }

expect_eq "the example policy (key file absent here): exit 0" "$(rc sa check-policy "$SA_SRC/examples/policy.yaml")" "0"
check "... OK on stdout" grep -q '^OK exemptNamespaces=' "$TMP/out"
check "... and that the key was not checked, on stderr" \
  grep -qx 'sessions.publicKey.file /etc/session-admission/keys/public.pem not checked: it cannot be read here (No such file or directory)' "$TMP/err"

with_key "$SA_SRC/examples/example-public.pem"
expect_eq "a good key file: exit 0" "$(rc sa check-policy "$TMP/p.yaml")" "0"
check "... its size and fingerprint" grep -qx "sessions.publicKey.file $SA_SRC/examples/example-public.pem: RSA 4096 bits, SHA-256 b3c98bf0b0bfb58fdc9373ca54b395eb65dbaf9804b42c48997fefc50f593e1c" "$TMP/err"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$TMP/weak.key" 2>/dev/null
openssl pkey -in "$TMP/weak.key" -pubout -out "$TMP/weak.pem" 2>/dev/null
with_key "$TMP/weak.pem"
expect_eq "a 1024-bit key: exit 1" "$(rc sa check-policy "$TMP/p.yaml")" "1"
expect_eq "... one line naming policy, key and reason" "$(cat "$TMP/out")" \
  "$TMP/p.yaml: sessions.publicKey.file $TMP/weak.pem: RSA key of 1024 bits; at least 2048 required"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/private.pem" 2>/dev/null
with_key "$TMP/private.pem"
expect_eq "a private key: exit 1" "$(rc sa check-policy "$TMP/p.yaml")" "1"
check "... refused as one" grep -q "sessions.publicKey.file $TMP/private.pem: holds a private key" "$TMP/out"
check "... with no key material in the output" sh -c "! grep -q 'BEGIN\|MII' '$TMP/out' '$TMP/err'"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/ec.key" 2>/dev/null
openssl pkey -in "$TMP/ec.key" -pubout -out "$TMP/ec.pem" 2>/dev/null
with_key "$TMP/ec.pem"
expect_eq "an EC key: exit 1" "$(rc sa check-policy "$TMP/p.yaml")" "1"
check "... not RSA" grep -q 'not an RSA key' "$TMP/out"
with_key "$TMP"
expect_eq "a directory as the key file: exit 1" "$(rc sa check-policy "$TMP/p.yaml")" "1"
if [ "$(id -u)" -ne 0 ]; then
  cp "$SA_SRC/examples/example-public.pem" "$TMP/locked.pem"; chmod 000 "$TMP/locked.pem"
  with_key "$TMP/locked.pem"
  expect_eq "an unreadable key file: exit 0" "$(rc sa check-policy "$TMP/p.yaml")" "0"
  check "... said" grep -q 'not checked: it cannot be read here (Permission denied)' "$TMP/err"
else
  skip "an unreadable key file: running as root, every file is readable"
fi
finish
