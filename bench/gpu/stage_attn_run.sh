#!/usr/bin/env bash
# Stages attn-run for the GPU machine, which has the CUDA driver and toolkit but no LLVM/MLIR
# (and another Linux): attn-run with every shared library it loads, Debian's dynamic loader
# among them, in one xz tarball (Python's lzma reads it: the GPU machine has no zstd) small enough for a device call to carry, plus the cases of
# test/GPU/general/device (their specs; check.py --attn-run draws the inputs there).
#
# Two libraries that libLLVM links but attn-run never calls are replaced by stubs to stay
# inside the carry limit: libz3 (the static analyzer's solver; each function aborts) and
# libicudata (ICU's data, which libxml2 reaches only for encodings attn-run never reads).
#
# usage: bench/gpu/stage_attn_run.sh DEST; then on the device, from the repository root:
#   python3 -c 'import tarfile; tarfile.open("DEST/attn-run.tar.xz").extractall("/tmp")'
#   mkdir -p /usr/lib/llvm-22/lib && cp /tmp/attn-run/llvm-lib/* /usr/lib/llvm-22/lib/
#   ATTN_RUN=/tmp/attn-run/attn-run.sh python3 test/GPU/general/device/check.py --attn-run DEST/cases
# (attn-run.sh starts attn-run through the bundled loader and libraries.)
# (attn-run JIT-loads MLIR's C runner utils and libomp by their absolute paths in this build.)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=$(mkdir -p "$1" && cd "$1" && pwd)
run=$root/build/bin/attn-run
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bundle=$work/attn-run
mkdir -p "$bundle/lib" "$bundle/llvm-lib"
cp "$run" "$bundle/"
ldd "$run" | awk '/=> \//{print $3}' | xargs -I{} cp -L {} "$bundle/lib/"
cp -L /lib64/ld-linux-x86-64.so.2 "$bundle/lib/"
# The JIT's run-time libraries and what they load from LLVM's lib/ (the MLIR float16 and
# APFloat helpers); libMLIR and libLLVM are in lib/ already.
for lib in libmlir_c_runner_utils.so.22.1 libomp.so.5; do
  cp -L "/usr/lib/llvm-22/lib/$lib" "$bundle/llvm-lib/"
  ldd "/usr/lib/llvm-22/lib/$lib" | awk '/llvm-22/ && !/lib(MLIR|LLVM)\.so/ {print $3}' |
    xargs -r -I{} cp -L {} "$bundle/llvm-lib/"
done
( cd "$bundle/llvm-lib" && ln -s libmlir_c_runner_utils.so.22.1 libmlir_c_runner_utils.so &&
  ln -s libomp.so.5 libomp.so )

cat > "$bundle/attn-run.sh" <<'SH'
#!/bin/sh
here=$(dirname "$(readlink -f "$0")")
exec "$here/lib/ld-linux-x86-64.so.2" --library-path "$here/lib" "$here/attn-run" "$@"
SH
chmod +x "$bundle/attn-run.sh"

# The stubs.
z3=$(ldd "$run" | awk '/libz3/{print $1}')
icudata=$(ldd "$run" | awk '/libicudata/{print $1}')
{
  echo '#include <stdlib.h>'
  nm -D --undefined-only "$bundle/lib/libLLVM.so.22.1" |
    awk '$2 ~ /^Z3_/ {print "void " $2 "(void) { abort(); }"}' | sort -u
} > "$work/z3.c"
cc -shared -fPIC -O1 -Wl,-soname,"$z3" -o "$bundle/lib/$z3" "$work/z3.c"
symbol=$(nm -D --defined-only "/lib/x86_64-linux-gnu/$icudata" | awk '{print $3}')
echo "const char $symbol[64] = {0};" > "$work/icudata.c"
cc -shared -fPIC -Wl,-soname,"$icudata" -o "$bundle/lib/$icudata" "$work/icudata.c"

# It must start from the bundle alone.
"$bundle/attn-run.sh" --version > /dev/null
tar -C "$work" -cf - attn-run | xz -9e -T2 > "$dest/attn-run.tar.xz"

/usr/bin/python3 "$root/test/GPU/general/device/make_cases.py" "$dest/cases" --specs-only
git -C "$root" rev-parse --short HEAD > "$dest/COMMIT"
du -sh "$dest"
