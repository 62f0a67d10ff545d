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

LIB_KSRC := kernel/record.c kernel/tpm2_msg.c
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
	$(CC) -shared -Wl,-soname,libattestio.so.0 -o $@ $^ $(LIB_LDLIBS)

# Programs: one directory per program under user/cli/.
PROGS := $(notdir $(wildcard user/cli/*))
USER_BINS := $(addprefix $(BUILD)/bin/,$(PROGS))

define prog_rule
$(BUILD)/bin/$(1): $(wildcard user/cli/$(1)/*.c user/cli/$(1)/*.h) $(UB)/libattestio.a
	@mkdir -p $$(@D)
	$$(CC) $(LIB_CFLAGS) -Iuser/cli/$(1) $(wildcard user/cli/$(1)/*.c) -o $$@ \
		$(UB)/libattestio.a $(LIB_LDLIBS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))

USER_TARGETS := $(UB)/libattestio.a $(UB)/libattestio.so $(USER_BINS)
