/* SPDX-License-Identifier: MIT */
/* The version string every selfflash program prints; the build passes it from VERSION. */
#ifndef SELFFLASH_VERSION_H
#define SELFFLASH_VERSION_H

#ifndef SELFFLASH_VERSION
#define SELFFLASH_VERSION "unknown"
#endif

#endif
