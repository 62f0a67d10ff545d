# SPDX-License-Identifier: GPL-2.0
# Test build rules, included by the top Makefile.

TB := $(BUILD)/tests
LINUX_SRC := $(BUILD)/linux-source-6.1

# The kernel source tree provides kunit.py, kselftest_harness.h and
# checkpatch.pl; it is unpacked once from Debian's linux-source-6.1.
$(LINUX_SRC)/.unpacked:
	@mkdir -p $(BUILD)
	tar -C $(BUILD) -xf /usr/src/linux-source-6.1.tar.xz
	@touch $@

$(LINUX_SRC)/scripts/checkpatch.pl $(LINUX_SRC)/tools/testing/selftests/kselftest_harness.h: $(LINUX_SRC)/.unpacked

SENSORS := tests/sensors/hidsensor tests/sensors/iioread
sensors:
	$(MAKE) -C tests/sensors
.PHONY: sensors

# Userspace unit tests (cmocka): one binary per tests/unit/test_*.c.
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(TB)/unit/%,$(UNIT_SRC))
# Suites named test_oracle_* test liboracle (user/oracle) instead.
$(TB)/unit/test_oracle_%: tests/unit/test_oracle_%.c $(UB)/liboracle.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(ORACLE_CFLAGS) $< -o $@ $(UB)/liboracle.a -lcmocka $(ORACLE_LDLIBS)
# verify-report's checks (vreport.c) use libattestio's verifier.
$(TB)/unit/test_oracle_bundle: tests/unit/test_oracle_bundle.c $(UB)/liboracle.a $(UB)/libattestio.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(ORACLE_CFLAGS) -Iuser/lib -Iinclude/uapi $< -o $@ $(UB)/liboracle.a $(UB)/libattestio.a \
		-lcmocka $(ORACLE_LDLIBS) $(LIB_LDLIBS)
# Suites named test_attestiod_* build attestiod's parts in (spool).
$(TB)/unit/test_attestiod_%: tests/unit/test_attestiod_%.c user/attestiod/%.c user/attestiod/attestiod.h $(UB)/liboracle.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(ORACLE_CFLAGS) -Iuser/attestiod -Iinclude/uapi $< user/attestiod/$*.c -o $@ \
		$(UB)/liboracle.a -lcmocka -lsqlite3 $(ORACLE_LDLIBS)
# attestio-sim's configuration and value model (user/sim/model.c).
$(TB)/unit/test_sim_model: tests/unit/test_sim_model.c user/sim/model.c user/sim/fleet.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -Iuser/sim $< user/sim/model.c -o $@ -lcmocka -linih -lcrypto -lm
# Suites named test_cli_* build the attestio command's file of that name
# (user/cli/attestio/<name>.c) and util.c in.
$(TB)/unit/test_cli_%: tests/unit/test_cli_%.c user/cli/attestio/%.c user/cli/attestio/util.c \
		$(wildcard user/cli/attestio/*.h) $(UB)/libattestio.a $(UB)/libfirstrun.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(KSHIM_CFLAGS) -Iuser/include -Iuser/firstrun -Iuser/cli/attestio $< \
		user/cli/attestio/$*.c user/cli/attestio/util.c -o $@ \
		$(UB)/libattestio.a $(UB)/libfirstrun.a -lcmocka $(LIB_LDLIBS)

# Suites named test_firstrun_* test libfirstrun (user/firstrun: setup
# steps, progress line), linked from the library.
$(TB)/unit/test_firstrun_%: tests/unit/test_firstrun_%.c $(wildcard user/firstrun/*.h) $(UB)/libfirstrun.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -Iuser/firstrun $< -o $@ $(UB)/libfirstrun.a -lcmocka -lutil $(LIB_LDLIBS)

# attestio-oracle setup's pure parts, checked against the config parser.
$(TB)/unit/test_oracled_setup: tests/unit/test_oracled_setup.c user/oracled/setup.c user/oracled/config.c \
		user/oracled/oracled.h $(UB)/liboracle.a $(UB)/libattestio.a $(UB)/libfirstrun.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(ORACLE_CFLAGS) -Iuser/oracled -Iuser/firstrun -Iuser/include -Iinclude/uapi $< \
		user/oracled/setup.c user/oracled/config.c -o $@ \
		$(UB)/libfirstrun.a $(UB)/liboracle.a $(UB)/libattestio.a -lcmocka -linih $(ORACLE_LDLIBS) $(LIB_LDLIBS)
# attestio-oracle's store (statement cache, schema), on its own.
$(TB)/unit/test_oracled_store: tests/unit/test_oracled_store.c user/oracled/store.c user/oracled/oracled.h $(UB)/liboracle.a $(UB)/libattestio.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(ORACLE_CFLAGS) -Iuser/oracled -Iuser/include -Iinclude/uapi $< user/oracled/store.c -o $@ \
		$(UB)/liboracle.a $(UB)/libattestio.a -lcmocka -lsqlite3 $(ORACLE_LDLIBS) $(LIB_LDLIBS)
# Suites named test_oracled_* build attestio-oracle's parts in (config).
$(TB)/unit/test_oracled_%: tests/unit/test_oracled_%.c user/oracled/%.c user/oracled/oracled.h $(UB)/liboracle.a $(UB)/libattestio.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(ORACLE_CFLAGS) -Iuser/oracled -Iuser/include -Iinclude/uapi $< user/oracled/$*.c -o $@ \
		$(UB)/liboracle.a $(UB)/libattestio.a -lcmocka -linih $(ORACLE_LDLIBS) $(LIB_LDLIBS)
# attestio-oracle's ingest with its store and registry, fed signed record
# streams (tests/common/signed_stream.h).
OD_INGEST_SRC := user/oracled/ingest.c user/oracled/fresh.c user/oracled/beacon.c user/oracled/registry.c user/oracled/store.c user/oracled/log.c \
	user/oracled/round.c user/oracled/config.c
$(TB)/unit/test_oracled_ingest: tests/unit/test_oracled_ingest.c $(OD_INGEST_SRC) user/oracled/oracled.h \
		tests/common/signed_stream.h $(UB)/liboracle.a $(UB)/libattestio.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(KSHIM_CFLAGS) $(ORACLE_CFLAGS) -Iuser/include -Iuser/lib -Iuser/oracled \
		-Itests/common $< $(OD_INGEST_SRC) -o $@ $(UB)/liboracle.a $(UB)/libattestio.a \
		-lcmocka -lsqlite3 -linih $(ORACLE_LDLIBS) $(LIB_LDLIBS) -lm
$(TB)/unit/%: tests/unit/%.c $(UB)/libattestio.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(KSHIM_CFLAGS) -Iuser/include -Iuser/lib -Itests/common $< -o $@ $(UB)/libattestio.a -lcmocka $(LIB_LDLIBS)

# In-guest selftests (kselftest harness): one binary per tests/selftests/*.c.
SELF_SRC := $(wildcard tests/selftests/*_test.c)
SELF_BINS := $(patsubst tests/selftests/%.c,$(TB)/selftests/%,$(SELF_SRC))
$(TB)/selftests/%: tests/selftests/%.c tests/selftests/*.h $(LINUX_SRC)/.unpacked $(UB)/libattestio.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -Wno-unused-parameter -Wno-sign-compare $(KSHIM_CFLAGS) \
		-I$(LINUX_SRC)/tools/testing/selftests $< -o $@ \
		$(UB)/libattestio.a $(LIB_LDLIBS) -lpthread

# Test-only kernel modules (tests/kmod), one tree per kernel like the
# module's; the selftests insmod build/<kver>/testdev/attestio_testdev.ko.
define testmod_rules
$(BUILD)/$(1)/testdev/attestio_testdev.ko: tests/kmod/Kbuild tests/kmod/*.c $(KERNEL_SRC)
	@mkdir -p $(BUILD)/$(1)/testdev
	@for f in $(TOP)/tests/kmod/Kbuild $(TOP)/tests/kmod/*.c; do ln -sf $$$$f $(BUILD)/$(1)/testdev/; done
	@for f in emit hash record log; do ln -sf $(TOP)/kernel/$$$$f.c $(BUILD)/$(1)/testdev/; done
	@ln -sfn $(TOP)/kernel $(BUILD)/$(1)/testdev/kinc
	@ln -sfn $(TOP)/include/uapi $(BUILD)/$(1)/testdev/uapi
	$$(MAKE) -C /lib/modules/$(1)/build M=$(BUILD)/$(1)/testdev $(if $(W),W=$(W)) modules
endef
$(foreach k,$(KVERS),$(eval $(call testmod_rules,$(k))))
TESTMODS := $(foreach k,$(KVERS),$(BUILD)/$(k)/testdev/attestio_testdev.ko)
testmods: $(TESTMODS)
.PHONY: testmods

# The fault scenario's injected steps (tests/stress/run.sh): static, so
# that a process under injection maps nothing from the guest's 9p root.
STRESS_BINS := $(TB)/stress/faultstep
$(TB)/stress/faultstep: tests/stress/faultstep.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -static $< -o $@
stresstools: $(STRESS_BINS)
.PHONY: stresstools

tests: sensors testmods $(UNIT_BINS) $(SELF_BINS) $(STRESS_BINS)
.PHONY: tests
unit: $(UNIT_BINS)
selftests: $(SELF_BINS) sensors testmods

# Benchmark of the per-sample path over kernel/record.c (tests/bench/run.sh).
$(TB)/bench/bench_record: tests/bench/bench_record.c $(UB)/libattestio.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(KSHIM_CFLAGS) $< -o $@ $(UB)/libattestio.a $(LIB_LDLIBS)

# Verification throughput of libattestio (tests/bench/run.sh).
$(TB)/bench/bench_verify: tests/bench/bench_verify.c tests/common/signed_stream.h $(UB)/libattestio.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(KSHIM_CFLAGS) -Iuser/include -Iuser/lib -Itests/common $< -o $@ \
		$(UB)/libattestio.a $(LIB_LDLIBS)

# attestiod's spool vs a plain fsync'd append (tests/bench/gateway.sh).
$(TB)/bench/bench_spool: tests/bench/bench_spool.c user/attestiod/spool.c user/attestiod/attestiod.h $(UB)/liboracle.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(ORACLE_CFLAGS) -Iuser/attestiod $< user/attestiod/spool.c -o $@ \
		$(UB)/liboracle.a -lsqlite3 $(ORACLE_LDLIBS)

# attestiod scenario suite (tests/attestiod/run.sh): a signed record source.
$(TB)/attestiod/gen_records: tests/attestiod/gen_records.c tests/common/signed_stream.h $(UB)/libattestio.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(KSHIM_CFLAGS) -Iuser/include -Iuser/lib -Itests/common $< -o $@ \
		$(UB)/libattestio.a $(LIB_LDLIBS)
tests: $(TB)/attestiod/gen_records
# attestiod beacon scenario: signed (and forged) oracle beacons.
$(TB)/attestiod/mkbeacon: tests/attestiod/mkbeacon.c $(UB)/liboracle.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(ORACLE_CFLAGS) $< -o $@ $(UB)/liboracle.a $(ORACLE_LDLIBS)
tests: $(TB)/attestiod/mkbeacon

# Contract tests (user/contracts/test, tests/contracts/run.sh): signs report
# cores with liboracle as the oracle nodes do.
$(TB)/contracts/mkreport: tests/contracts/mkreport.c $(UB)/liboracle.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(ORACLE_CFLAGS) $< -o $@ $(UB)/liboracle.a $(ORACLE_LDLIBS)
tests: $(TB)/contracts/mkreport
# oracle scenario suite (tests/oracle/run.sh): one gateway's records, in
# real time, one batch file per epoch.
$(TB)/oracle/gen_feed: tests/oracle/gen_feed.c tests/common/signed_stream.h tests/common/ksk_log.h $(UB)/libattestio.a $(UB)/liboracle.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(KSHIM_CFLAGS) -Iuser/include -Iuser/lib -Iuser/oracle -Itests/common $< -o $@ \
		$(UB)/liboracle.a $(UB)/libattestio.a -lsecp256k1 -lcbor $(LIB_LDLIBS)
tests: $(TB)/oracle/gen_feed
