/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef ATTESTIO_KSHIM_LINUX_STRING_H
#define ATTESTIO_KSHIM_LINUX_STRING_H
#include <string.h>
#endif
