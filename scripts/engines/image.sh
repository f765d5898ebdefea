# shellcheck shell=bash
# scripts/engines/image.sh — the busybox:local test image (never pulled)
# Sourced by scripts/engines.sh, which sets -euo pipefail.

# Applets linked into the test image (the busybox-static binary provides them all; shell builtins
# such as `trap` need no link). Anything the installed busybox lacks is skipped with a warning.
APPLETS=(sh echo sleep cat ls true false env printf head yes wc tail
  kill id touch rm mkdir tr rev seq grep sed dd od uname hostname date stat base64
  md5sum sha256sum ps top sync test '[' tee xargs find which chmod ln mv cp du)

# ---------------------------------------------------------------------------------------------
# Test image
# ---------------------------------------------------------------------------------------------

# The rootfs tar: static busybox plus applet symlinks, a writable /tmp and a minimal
# /etc/passwd + /etc/group (so `id`, `User: "nobody"` work). Built deterministically (sorted,
# root-owned, mtime 0) so its layer digest only changes when busybox does. Tests reuse the tar.
build_rootfs() {
  [[ -s $ROOTFS_TAR ]] && return 0
  local t applets a
  t=$(mktemp -d "$ROOT/rootfs.XXXXXX")
  mkdir -p "$t/bin" "$t/etc" "$t/root" "$t/tmp"
  chmod 1777 "$t/tmp"
  chmod 755 "$t"
  cp /bin/busybox "$t/bin/busybox"
  applets=" $(/bin/busybox --list | tr '\n' ' ') "
  for a in "${APPLETS[@]}"; do
    if [[ $applets == *" $a "* ]]; then
      ln -s busybox "$t/bin/$a"
    else
      log "warning: busybox has no '$a' applet; not linked in the test image"
    fi
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$t/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$t/etc/group"
  tar -C "$t" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$ROOTFS_TAR.tmp" .
  mv -f "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$t"
}

# Import busybox:local into engine E unless it is there already (an engine never pulls it).
ensure_image() {
  local e=$1 sock code out
  sock=$(engine_sock "$e")
  code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' --unix-socket "$sock" \
    "http://x/images/$TEST_IMAGE_REPO:$TEST_IMAGE_TAG/json" || true)
  case $code in
    200) return 0 ;;
    404) ;;
    *) die "engine $e: GET /images/$TEST_IMAGE_REPO:$TEST_IMAGE_TAG/json answered '$code'" ;;
  esac
  log "engine $e: importing $TEST_IMAGE_REPO:$TEST_IMAGE_TAG from $ROOTFS_TAR"
  # A kind may import its own way (<kind>_import E TAR REPO:TAG: podman's compat import ignores the tag).
  if declare -F "${ENGINE_KIND[$e]}_import" >/dev/null; then
    "${ENGINE_KIND[$e]}_import" "$e" "$ROOTFS_TAR" "$TEST_IMAGE_REPO:$TEST_IMAGE_TAG" ||
      die "engine $e: image import failed"
  else
    # changes=CMD ["/bin/sh"], URL-encoded.
    out=$(curl -sS --max-time 120 --unix-socket "$sock" -X POST \
      -H 'Content-Type: application/x-tar' --data-binary "@$ROOTFS_TAR" \
      "http://x/images/create?fromSrc=-&repo=$TEST_IMAGE_REPO&tag=$TEST_IMAGE_TAG&changes=CMD%20%5B%22%2Fbin%2Fsh%22%5D") ||
      die "engine $e: image import request failed: $out"
    # Errors of streamed endpoints arrive inside a 200 response.
    [[ $out != *'"error'* ]] || die "engine $e: image import failed: $out"
  fi
  code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' --unix-socket "$sock" \
    "http://x/images/$TEST_IMAGE_REPO:$TEST_IMAGE_TAG/json" || true)
  [[ $code == 200 ]] || die "engine $e: $TEST_IMAGE_REPO:$TEST_IMAGE_TAG missing after import ($code)"
}
