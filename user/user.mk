# SPDX-License-Identifier: GPL-2.0
# Userspace build rules, included by the top Makefile.
#
# libattestio = the pure kernel files (kernel/record.c, kernel/tpm2_msg.c,
# built unchanged through user/kshim) + every user/lib/*.c; public header
# user/include/libattestio.h.  Every user/cli/<prog>/*.c links into
# build/bin/<prog>.

UB := $(BUILD)/user
KSHIM_CFLAGS := -Iuser/kshim -Iinclude/uapi -Ikernel
TSS_LIBS := $(shell pkg-config --libs tss2-esys tss2-mu tss2-tctildr tss2-rc 2>/dev/null)
LIB_CFLAGS := $(USER_CFLAGS) -fPIC $(KSHIM_CFLAGS) -Iuser/include -Iuser/lib
LIB_LDLIBS := $(TSS_LIBS) -lcrypto

LIB_KSRC := kernel/record.c kernel/tpm2_msg.c kernel/tpm2_sess.c
LIB_USRC := $(wildcard user/lib/*.c)
LIB_OBJS := $(patsubst kernel/%.c,$(UB)/k/%.o,$(LIB_KSRC)) \
	    $(patsubst user/lib/%.c,$(UB)/lib/%.o,$(LIB_USRC))
LIB_HDRS := kernel/*.h include/uapi/linux/attestio.h $(wildcard user/kshim/*/*.h) \
	    $(wildcard user/include/*.h user/lib/*.h)

$(UB)/k/%.o: kernel/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(UB)/lib/%.o: user/lib/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(UB)/libattestio.a: $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(UB)/libattestio.so: $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libattestio.so.0 $(LDFLAGS) -o $@ $^ $(LIB_LDLIBS)

# Programs: one directory per program under user/cli/.
PROGS := $(notdir $(wildcard user/cli/*))
USER_BINS := $(addprefix $(BUILD)/bin/,$(PROGS))

# libfirstrun: the first-run steps (test CA, certificates, config files)
# of `attestio setup gateway` and `attestio-oracle setup` (user/firstrun).
FIRSTRUN_OBJS := $(patsubst user/firstrun/%.c,$(UB)/firstrun/%.o,$(wildcard user/firstrun/*.c))
$(UB)/firstrun/%.o: user/firstrun/%.c user/firstrun/firstrun.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -Iuser/firstrun -c $< -o $@
$(UB)/libfirstrun.a: $(FIRSTRUN_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

# They link liboracle too (attestio settle: final reports and payouts;
# verify-report: liboracle's bundle checks use libattestio, so it comes first).
define prog_rule
$(BUILD)/bin/$(1): $(wildcard user/cli/$(1)/*.c user/cli/$(1)/*.h) $(UB)/libattestio.a $(UB)/liboracle.a $(UB)/libfirstrun.a
	@mkdir -p $$(@D)
	$$(CC) $(LIB_CFLAGS) $(LDFLAGS) -Iuser/oracle -Iuser/firstrun -Iuser/cli/$(1) $(wildcard user/cli/$(1)/*.c) -o $$@ \
		$(UB)/liboracle.a $(UB)/libattestio.a $(UB)/libfirstrun.a -lsecp256k1 -lcbor -lm $(LIB_LDLIBS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))

# liboracle: the pure logic of attestio-oracle (user/oracle/*.c: aggregation,
# report core and signatures, CBOR reports), no I/O; shared by the oracle,
# `attestio verify-report`, unit tests and fuzzers.
ORACLE_SRC := $(wildcard user/oracle/*.c)
ORACLE_OBJS := $(patsubst user/oracle/%.c,$(UB)/oracle/%.o,$(ORACLE_SRC))
ORACLE_CFLAGS := -Iuser/oracle
ORACLE_LDLIBS := -lsecp256k1 -lcbor -lcrypto -lm

$(UB)/oracle/%.o: user/oracle/%.c $(wildcard user/oracle/*.h)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -fPIC $(ORACLE_CFLAGS) -c $< -o $@

# the bundle's uapi constants; verify-report's checks use libattestio's
# verifier (vreport.o: whoever calls it links libattestio.a after liboracle.a)
$(UB)/oracle/bundle.o: ORACLE_CFLAGS := -Iuser/oracle $(KSHIM_CFLAGS)
$(UB)/oracle/vreport.o: ORACLE_CFLAGS := -Iuser/oracle -Iuser/include $(KSHIM_CFLAGS)
$(UB)/oracle/vreport.o: user/include/libattestio.h

$(UB)/liboracle.a: $(ORACLE_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

USER_TARGETS := $(UB)/liboracle.a $(UB)/libattestio.a $(UB)/libattestio.so $(USER_BINS)

# BPF programs (user/bpf, libbpf-bootstrap layout): X.bpf.c -> X.bpf.o
# (clang -target bpf, CO-RE) -> X.skel.h (bpftool gen skeleton), which
# attestiod includes; X.h next to them is shared with userspace.
BPF_SRC := $(wildcard user/bpf/*.bpf.c)
BPF_SKELS := $(patsubst user/bpf/%.bpf.c,$(UB)/bpf/%.skel.h,$(BPF_SRC))
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
	-Iinclude/uapi -Iuser/bpf -I/usr/include/$(shell $(CC) -dumpmachine)

$(UB)/bpf/%.bpf.o: user/bpf/%.bpf.c $(wildcard user/bpf/*.h) include/uapi/linux/attestio.h
	@mkdir -p $(@D)
	clang $(BPF_CFLAGS) -c $< -o $@

$(UB)/bpf/%.skel.h: $(UB)/bpf/%.bpf.o
	bpftool gen skeleton $< name $(subst .,_,$*)_bpf > $@.tmp
	mv $@.tmp $@

# attestiod, the gateway daemon (user/attestiod, Documentation/attestiod.md),
# and attestio-oracle (user/oracled, Documentation/oracle.md).  Both use
# libattestio and liboracle (the ack codec).
DAEMON_CFLAGS := $(LIB_CFLAGS) $(ORACLE_CFLAGS)
DAEMON_LDLIBS := -lmosquitto -lsqlite3 $(ORACLE_LDLIBS) -lssl $(LIB_LDLIBS)

$(BUILD)/bin/attestiod: $(wildcard user/attestiod/*.c user/attestiod/*.h user/bpf/*.h) $(BPF_SKELS) $(UB)/libattestio.a $(UB)/liboracle.a $(UB)/libfirstrun.a
	@mkdir -p $(@D)
	$(CC) $(DAEMON_CFLAGS) $(LDFLAGS) -Iuser/attestiod -Iuser/firstrun -I$(UB)/bpf $(wildcard user/attestiod/*.c) -o $@ \
		$(UB)/libfirstrun.a $(UB)/liboracle.a $(UB)/libattestio.a -linih -lmicrohttpd -lsystemd -lbpf $(DAEMON_LDLIBS)

# The status page (user/oracled/www/*) compiled into attestio-oracle: each
# file becomes a string od_www_<name with . as _> in $(UB)/oracled/www.c.
OD_WWW := $(wildcard user/oracled/www/*)
$(UB)/oracled/www.c: $(OD_WWW)
	@mkdir -p $(@D)
	for f in $(OD_WWW); do \
		b=$$(echo "$${f##*/}" | tr . _); printf 'const char od_www_%s[] =\n' "$$b"; \
		sed 's/\\/\\\\/g; s/"/\\"/g; s/?/\\?/g; s/^/"/; s/$$/\\n"/' "$$f"; \
		printf ';\n'; \
	done > $@.tmp
	mv $@.tmp $@

$(BUILD)/bin/attestio-oracle: $(wildcard user/oracled/*.c user/oracled/*.h) $(UB)/oracled/www.c $(UB)/libattestio.a $(UB)/liboracle.a $(UB)/libfirstrun.a
	@mkdir -p $(@D)
	$(CC) $(DAEMON_CFLAGS) $(LDFLAGS) -Iuser/oracled -Iuser/firstrun $(wildcard user/oracled/*.c) $(UB)/oracled/www.c -o $@ \
		$(UB)/libfirstrun.a $(UB)/liboracle.a $(UB)/libattestio.a -linih -lmicrohttpd -lsystemd -lm $(DAEMON_LDLIBS)

USER_TARGETS += $(BUILD)/bin/attestiod $(BUILD)/bin/attestio-oracle

# attestio-sim, the fleet simulator (user/sim, Documentation/system.md):
# attestiod's own spool, link and configuration parts, many gateways.
SIM_ATTESTIOD := user/attestiod/spool.c user/attestiod/link.c user/attestiod/rto.c user/attestiod/config.c
$(BUILD)/bin/attestio-sim: $(wildcard user/sim/*.c user/sim/*.h) $(SIM_ATTESTIOD) user/attestiod/attestiod.h $(UB)/libattestio.a $(UB)/liboracle.a
	@mkdir -p $(@D)
	$(CC) $(DAEMON_CFLAGS) -Iuser/attestiod -Iuser/sim $(wildcard user/sim/*.c) $(SIM_ATTESTIOD) -o $@ \
		$(UB)/liboracle.a $(UB)/libattestio.a -linih -lm $(DAEMON_LDLIBS)
USER_TARGETS += $(BUILD)/bin/attestio-sim
