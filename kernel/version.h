/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ATTESTIO_VERSION_H
#define _ATTESTIO_VERSION_H
/* Keep equal to PACKAGE_VERSION in dkms.conf (checked by make check). */
#define ATTESTIO_VERSION "0.1.0"
#endif
