# SPDX-License-Identifier: GPL-2.0
# Userspace build rules, included by the top Makefile.

UB := $(BUILD)/user
KSHIM_CFLAGS := -Iuser/kshim -Iinclude/uapi -Ikernel
LIB_CFLAGS := $(USER_CFLAGS) -fPIC $(KSHIM_CFLAGS)
LIB_LDLIBS := -lcrypto

# Pure kernel files compiled unchanged into libattestio.
LIB_KSRC := kernel/record.c kernel/tpm2_msg.c
LIB_OBJS := $(patsubst kernel/%.c,$(UB)/k/%.o,$(LIB_KSRC))

$(UB)/k/%.o: kernel/%.c kernel/*.h include/uapi/linux/attestio.h $(wildcard user/kshim/*/*.h)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(UB)/libattestio.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

USER_TARGETS := $(UB)/libattestio.a
USER_BINS :=
