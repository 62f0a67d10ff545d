#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the KUnit suites under UML with kunit.py from Debian's linux-source.
# The module's pure files and the suites in tests/kunit are linked into the
# kernel tree as lib/attestio/ (symlinks, so edits are picked up), then
# kunit.py builds a small UML kernel in build/kunit and runs it.
# Output: kunit.py's report; TAP-style summary lines for tests/check.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
tree=$top/build/linux-source-6.1
make -C "$top" -s "$tree/.unpacked"

dir=$tree/lib/attestio
mkdir -p "$dir"
find "$dir" -maxdepth 1 -type l -delete
# Pure kernel logic only: files that include no device, IIO or TPM headers.
pure=(record tpm2_msg tpm2_sess)
objs=""
for f in "${pure[@]}"; do
	ln -sf "$top/kernel/$f.c" "$dir/$f.c"
	objs="$objs $f.o"
done
for f in "$top"/tests/kunit/*_kunit.c; do
	ln -sf "$f" "$dir/"
	objs="$objs $(basename "${f%.c}").o"
done
cat > "$dir/Kconfig" <<KCONFIG
config ATTESTIO_KUNIT_TEST
	tristate "KUnit tests for attestio's pure logic" if !KUNIT_ALL_TESTS
	depends on KUNIT
	select CRYPTO_LIB_SHA256
	default KUNIT_ALL_TESTS
KCONFIG
cat > "$dir/Makefile" <<MAKEFILE
ccflags-y += -I$top/include/uapi -I$top/kernel -I$top/tests/common
obj-\$(CONFIG_ATTESTIO_KUNIT_TEST) += attestio_kunit.o
attestio_kunit-y := $objs
MAKEFILE
grep -q 'lib/attestio/Kconfig' "$tree/lib/Kconfig.debug" ||
	echo 'source "lib/attestio/Kconfig"' >> "$tree/lib/Kconfig.debug"
# shellcheck disable=SC2016  # a make variable, for make to expand
grep -q 'attestio/' "$tree/lib/Makefile" ||
	echo 'obj-$(CONFIG_ATTESTIO_KUNIT_TEST) += attestio/' >> "$tree/lib/Makefile"

cd "$tree"
# Build first, once more if that fails: under heavy load the kernel's
# scripts/check-local-export has been seen to fail an object's nm and kill
# the build ("nm failed", "Terminated"); a second, incremental build is
# cheap.  Test failures are never retried.
kunit_build() {
	python3 tools/testing/kunit/kunit.py build \
		--kunitconfig="$top/tests/kunit/kunitconfig" \
		--build_dir="$top/build/kunit" --jobs="$(nproc)"
}
if ! kunit_build; then
	echo "# kunit: the UML build failed; building once more"
	kunit_build || exit 1
fi
exec python3 tools/testing/kunit/kunit.py run \
	--kunitconfig="$top/tests/kunit/kunitconfig" \
	--build_dir="$top/build/kunit" --jobs="$(nproc)" \
	--json="$top/build/kunit.json" "$@"
