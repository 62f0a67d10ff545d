# SPDX-License-Identifier: GPL-2.0
# attestio top-level Makefile.  See README.md; "make help" lists the targets.

VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
PREFIX ?= /usr/local
DESTDIR ?=
TOP := $(CURDIR)
BUILD := $(TOP)/build

# Kernel versions to build the module for: KVER=… if given; else the running
# kernel when its headers are installed; else every kernel with headers but
# make stress's debug kernel (tests/stress/build-kernel.sh; stress.sh passes
# KVER for it).
ifneq ($(KVER),)
KVERS := $(KVER)
else ifneq ($(wildcard /lib/modules/$(shell uname -r)/build/Makefile),)
KVERS := $(shell uname -r)
else
KVERS := $(filter-out %-attestio-debug,$(sort $(patsubst /lib/modules/%/build/Makefile,%,$(wildcard /lib/modules/*/build/Makefile))))
endif

KERNEL_SRC := kernel/*.c kernel/*.h kernel/compat-detect.sh Kbuild include/uapi/linux/attestio.h

CC ?= cc
USER_CFLAGS := -std=c17 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE $(CFLAGS)
export CC USER_CFLAGS

.PHONY: all help modules user install install-user install-modules dkms-install \
	dkms-uninstall deps check demo bench clean checkpatch sparse kunit unit \
	selftests deb stress

all: user modules sensors

help:
	@echo "make [all]          build userspace tools and the module for: $(KVERS)"
	@echo "make KVER=<release> build the module for one kernel release"
	@echo "make deps           install the Debian packages the project needs"
	@echo "make install        install tools under PREFIX=$(PREFIX) and the module (depmod)"
	@echo "make dkms-install   register, build and install the module with DKMS"
	@echo "make deb            Debian packages under build/deb/ (debian/, dpkg-buildpackage)"
	@echo "make check          install deps, build, run every test suite"
	@echo "make demo           boot a VM and show the system working"
	@echo "make bench          run the benchmarks (ratios against baselines)"
	@echo "make stress         build the debug kernel (once) and run the stress scenarios on it"
	@echo "make checkpatch     checkpatch.pl --strict on kernel/"
	@echo "make sparse         build the module with sparse (C=2)"

deps:
	@tests/deps.sh

# ---------------------------------------------------------------- module ---
# Each kernel gets its own shadow tree of symlinks under build/<kver>/ so
# that builds for several kernels never share object files.
define module_rules
$(BUILD)/$(1)/attestio.ko: $(KERNEL_SRC)
	@mkdir -p $(BUILD)/$(1)/kernel $(BUILD)/$(1)/include
	@ln -sfn $(TOP)/include/uapi $(BUILD)/$(1)/include/uapi
	@ln -sf $(TOP)/Kbuild $(BUILD)/$(1)/Kbuild
	@find $(BUILD)/$(1)/kernel -maxdepth 1 -xtype l -delete
	@for f in $(TOP)/kernel/*.[ch] $(TOP)/kernel/*.sh; do ln -sf $$$$f $(BUILD)/$(1)/kernel/; done
	$$(MAKE) -C /lib/modules/$(1)/build M=$(BUILD)/$(1) $(if $(W),W=$(W)) $(if $(C),C=$(C)) modules
endef
$(foreach k,$(KVERS),$(eval $(call module_rules,$(k))))

modules: $(foreach k,$(KVERS),$(BUILD)/$(k)/attestio.ko)

install-modules: modules
	@for k in $(KVERS); do \
		install -D -m 644 $(BUILD)/$$k/attestio.ko $(DESTDIR)/lib/modules/$$k/updates/attestio.ko && \
		depmod -a $$k && echo "installed attestio.ko for $$k"; \
	done

DKMS_SRC := $(DESTDIR)/usr/src/attestio-$(VERSION)
dkms-install:
	rm -rf $(DKMS_SRC) && mkdir -p $(DKMS_SRC)
	cp -r Kbuild dkms.conf kernel include $(DKMS_SRC)/
	dkms remove attestio/$(VERSION) --all >/dev/null 2>&1 || true
	dkms add attestio/$(VERSION)
	@for k in $(KVERS); do dkms build attestio/$(VERSION) -k $$k && \
		dkms install attestio/$(VERSION) -k $$k --force || exit 1; done

dkms-uninstall:
	dkms remove attestio/$(VERSION) --all || true
	rm -rf $(DKMS_SRC)

# Debian packages (debian/): built by dpkg-buildpackage in a copy of the
# tree (what git would track, without build/), so that the packages never
# contain stale build products; the .debs land in build/deb/.
DEB_DIR := $(BUILD)/deb
deb:
	@tests/deps.sh
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/attestio-$(VERSION)
	tar -c --exclude=./.git --exclude=./build --exclude-vcs-ignores . | \
		tar -x -C $(DEB_DIR)/attestio-$(VERSION)
	cd $(DEB_DIR)/attestio-$(VERSION) && \
		dpkg-buildpackage -b -us -uc -j$(or $(DEB_JOBS),2) > ../build.log 2>&1 || \
		{ tail -40 ../build.log; echo "make deb: dpkg-buildpackage failed, see $(DEB_DIR)/build.log" >&2; exit 1; }
	rm -rf $(DEB_DIR)/attestio-$(VERSION)
	@ls -1 $(DEB_DIR)/*.deb

checkpatch: | $(BUILD)/linux-source-6.1/scripts/checkpatch.pl
	$(BUILD)/linux-source-6.1/scripts/checkpatch.pl --no-tree --strict --terse \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f kernel/*.[ch]

sparse:
	rm -f $(foreach k,$(KVERS),$(BUILD)/$(k)/attestio.ko)
	$(MAKE) modules C=2 W=1

# ------------------------------------------------------------- userspace ---
include user/user.mk
include tests/tests.mk

user: $(USER_TARGETS)

install: install-user install-modules

install-user: user
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/include/linux
	@for b in $(USER_BINS); do install -m 755 $$b $(DESTDIR)$(PREFIX)/bin/; done
	install -m 644 $(UB)/libattestio.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(UB)/libattestio.so $(DESTDIR)$(PREFIX)/lib/libattestio.so.0
	ln -sf libattestio.so.0 $(DESTDIR)$(PREFIX)/lib/libattestio.so
	install -m 644 user/include/libattestio.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/uapi/linux/attestio.h $(DESTDIR)$(PREFIX)/include/linux/

# Load attestio from the initramfs (Documentation/operations.md); then
# run update-initramfs -u.
INITRAMFS_DIR ?= /etc/initramfs-tools
install-initramfs:
	install -D -m 755 user/initramfs-tools/hooks/attestio \
		$(DESTDIR)$(INITRAMFS_DIR)/hooks/attestio
	install -D -m 755 user/initramfs-tools/scripts/init-top/attestio \
		$(DESTDIR)$(INITRAMFS_DIR)/scripts/init-top/attestio
.PHONY: install-initramfs

# ----------------------------------------------------------------- tests ---
check:
	@tests/check.sh

demo:
	@tests/demo.sh

bench:
	@tests/bench/run.sh

stress:
	@tests/stress/stress.sh
	@tests/system/stress.sh
	@tests/deb/run.sh --full

clean:
	rm -rf $(BUILD)/user $(BUILD)/tests $(foreach k,$(KVERS),$(BUILD)/$(k))
	$(MAKE) -C tests/sensors clean
