# shellcheck shell=bash
# scripts/engines/tls.sh — TLS material for the engines' --tlsverify listeners
# Sourced by scripts/engines.sh, which sets -euo pipefail.

# ---------------------------------------------------------------------------------------------
# TLS material: a test CA, a server certificate for 127.0.0.1/localhost, a client certificate,
# and an unrelated second CA (for "wrong CA" tests). Generated once; regenerated only when a
# file is missing or a certificate expires within a day. Keys stay readable by root only: the
# client key opens the engines to whoever can read it.
# ---------------------------------------------------------------------------------------------

tls_complete() {
  local f
  for f in ca.pem ca-key.pem server-cert.pem server-key.pem other-ca.pem client/ca.pem client/cert.pem client/key.pem; do
    [[ -s $TLS_DIR/$f ]] || return 1
  done
  openssl x509 -checkend 86400 -noout -in "$TLS_DIR/server-cert.pem" >/dev/null 2>&1 &&
    openssl x509 -checkend 86400 -noout -in "$TLS_DIR/client/cert.pem" >/dev/null 2>&1
}

ensure_tls() {
  tls_complete && return 0
  log "generating a test CA, server and client certificates in $TLS_DIR"
  local w
  w=$(mktemp -d "$ROOT/tls.XXXXXX")
  # EC P-256 keys: fast to make, and both Go (dockerd) and Node read them.
  local key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  if ! (
    set -e
    umask 077
    cd "$w"
    mkdir client
    openssl req -x509 "${key[@]}" -days 3650 -subj "/CN=effect-docker test CA" -keyout ca-key.pem -out ca.pem
    openssl req -x509 "${key[@]}" -days 3650 -subj "/CN=effect-docker unrelated CA" -keyout other-ca-key.pem -out other-ca.pem
    openssl req "${key[@]}" -subj "/CN=localhost" -keyout server-key.pem -out server.csr
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "basicConstraints=critical,CA:FALSE" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 825 \
      -extfile server.ext -out server-cert.pem
    openssl req "${key[@]}" -subj "/CN=effect-docker test client" -keyout client/key.pem -out client.csr
    printf '%s\n' "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature" \
      "basicConstraints=critical,CA:FALSE" >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 825 \
      -extfile client.ext -out client/cert.pem
    cp ca.pem client/ca.pem
    rm -f ./*.csr ./*.ext ./*.srl other-ca-key.pem
    # Certificates are public; keys are not.
    chmod 644 ca.pem other-ca.pem server-cert.pem client/ca.pem client/cert.pem
    chmod 755 . client
  ) >"$ROOT/tls.log" 2>&1; then
    log_tail "$ROOT/tls.log"
    rm -rf "$w"
    die "could not generate the TLS test material (log: $ROOT/tls.log)"
  fi
  rm -rf "$TLS_DIR"
  mv "$w" "$TLS_DIR"
}
