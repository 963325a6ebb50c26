/* SPDX-License-Identifier: MIT */
/* The T234 SR_RF scratch register through a memory device (tegra_scratch.h). */
#include "tegra_scratch.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

void tegra_sr_rf_decode(uint32_t raw, struct tegra_sr_rf *out)
{
	out->raw = raw;
	out->magic_ok = (raw & 0xffffu) == TEGRA_SR_RF_MAGIC;
	out->slot = (int)((raw >> 16) & 3u);
	out->tries[1] = (int)((raw >> 18) & 3u);
	out->tries[0] = (int)((raw >> 20) & 3u);
}

/* One 32-bit access of the page that holds address: O_SYNC makes /dev/mem map it uncached,
 * as device registers must be; the access is a single volatile load or store. */
static int access_register(const char *mem, uint32_t address, uint32_t *value, int write)
{
	if (!mem)
		mem = TEGRA_DEFAULT_MEM_DEVICE;
	if (address % 4)
		return err_set("register address 0x%08x is not 32-bit aligned", address);
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		page = 4096;
	const off_t base = (off_t)(address & ~((uint32_t)page - 1));
	const size_t within = address - (uint32_t)base;
	int fd = open(mem, (write ? O_RDWR : O_RDONLY) | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: %s (the rootfs tries register 0x%08x is reached through it; "
			       "run as root)", mem, strerror(errno), address);
	/* a regular file stands for physical memory in tests: mapping past its end would fault */
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < base + (off_t)page) {
		close(fd);
		return err_set("%s: %lld bytes, too short to hold address 0x%08x", mem,
			       (long long)st.st_size, address);
	}
	void *map = mmap(NULL, (size_t)page, write ? PROT_READ | PROT_WRITE : PROT_READ,
			 MAP_SHARED, fd, base);
	const int map_errno = errno;
	close(fd);
	if (map == MAP_FAILED)
		return err_set("%s: mapping 0x%08x: %s (a kernel in lockdown, or with "
			       "CONFIG_IO_STRICT_DEVMEM and a driver on that range, refuses it)",
			       mem, address, strerror(map_errno));
	volatile uint32_t *reg = (volatile uint32_t *)((uint8_t *)map + within);
	if (write)
		*reg = *value;
	*value = *reg;
	munmap(map, (size_t)page);
	return 0;
}

int tegra_scratch_read(const char *mem, uint32_t address, uint32_t *value)
{
	return access_register(mem, address, value, 0);
}

int tegra_scratch_write(const char *mem, uint32_t address, uint32_t value)
{
	uint32_t now = value;
	if (access_register(mem, address, &now, 1) != 0)
		return -1;
	if (now != value)
		return err_set("register 0x%08x reads 0x%08x after writing 0x%08x", address, now,
			       value);
	return 0;
}
