/* SPDX-License-Identifier: MIT */
/*
 * The demo system's network and clock, what an https:// update needs (issue 16): the NIC of
 * qemu/run-normal.sh --net set up for QEMU user networking, and the clock the kernel took
 * from the RTC, shown because TLS checks certificate dates against it.
 */
#include "demo-net.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* QEMU user networking (qemu/run-normal.sh --net) always puts the guest at 10.0.2.15/24 and
 * the host at 10.0.2.2, so fixed addresses do what a DHCP client would, without one */
#define NET_ADDRESS "10.0.2.15"
#define NET_NETMASK "255.255.255.0"
#define NET_GATEWAY "10.0.2.2"

/* The system clock as the kernel set it from the RTC (CONFIG_RTC_HCTOSYS): an https update
 * checks the server certificate's dates against it, so a wrong clock shows here first. */
void demo_clock_report(void)
{
	char when[64];
	time_t now = time(NULL);
	struct tm tm;
	if (!gmtime_r(&now, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(when, sizeof(when), "%lld seconds since 1970", (long long)now);
	if (access("/sys/class/rtc/rtc0", F_OK) == 0)
		printf("selfflash-demo: clock: %s (set from the RTC)\n", when);
	else
		printf("selfflash-demo: clock: %s; there is no RTC, so certificate dates will not "
		       "check\n", when);
}

/* The first network interface that is not loopback into name (IFNAMSIZ); 0, or -1 for none. */
static int find_nic(char *name)
{
	DIR *d = opendir("/sys/class/net");
	int found = -1;
	for (struct dirent *e; d && found && (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "lo") == 0 ||
		    strlen(e->d_name) >= IFNAMSIZ)
			continue;
		memcpy(name, e->d_name, strlen(e->d_name) + 1); /* fits: checked above */
		found = 0;
	}
	if (d)
		closedir(d);
	return found;
}

static void set_inet(struct sockaddr *sa, const char *dotted)
{
	struct sockaddr_in *in = (struct sockaddr_in *)sa;
	memset(in, 0, sizeof(*in));
	in->sin_family = AF_INET;
	inet_pton(AF_INET, dotted, &in->sin_addr);
}

/* One interface ioctl; 0, or -1 after saying what failed. */
static int nic_ioctl(int fd, unsigned long request, const char *what, struct ifreq *ifr)
{
	if (ioctl(fd, request, ifr) == 0)
		return 0;
	printf("selfflash-demo: network: %s on %s: %s\n", what, ifr->ifr_name, strerror(errno));
	return -1;
}

/* The NIC of qemu/run-normal.sh --net, configured the way QEMU user networking expects (its
 * addresses above) with a default route via the host, so `selfflash update https://...`
 * reaches a server on the host; /etc/hosts names the host. No NIC: said, and the boot goes on
 * (updates then come over the link). */
void demo_net_up(void)
{
	char name[IFNAMSIZ];
	if (find_nic(name) != 0) {
		printf("selfflash-demo: network: no NIC (qemu/run-normal.sh --net gives one); "
		       "updates come over the link only\n");
		return;
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		printf("selfflash-demo: network: socket: %s\n", strerror(errno));
		return;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	set_inet(&ifr.ifr_addr, NET_ADDRESS);
	int rc = nic_ioctl(fd, SIOCSIFADDR, "set address " NET_ADDRESS, &ifr);
	set_inet(&ifr.ifr_netmask, NET_NETMASK);
	if (rc == 0)
		rc = nic_ioctl(fd, SIOCSIFNETMASK, "set netmask " NET_NETMASK, &ifr);
	if (rc == 0)
		rc = nic_ioctl(fd, SIOCGIFFLAGS, "get flags", &ifr);
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (rc == 0)
		rc = nic_ioctl(fd, SIOCSIFFLAGS, "bring up", &ifr);
	/* the default route can only be added once the interface is up */
	struct rtentry route;
	memset(&route, 0, sizeof(route));
	set_inet(&route.rt_dst, "0.0.0.0");
	set_inet(&route.rt_genmask, "0.0.0.0");
	set_inet(&route.rt_gateway, NET_GATEWAY);
	route.rt_flags = RTF_UP | RTF_GATEWAY;
	route.rt_dev = name;
	if (rc == 0 && ioctl(fd, SIOCADDRT, &route) != 0) {
		printf("selfflash-demo: network: default route via %s on %s: %s\n", NET_GATEWAY,
		       name, strerror(errno));
		rc = -1;
	}
	close(fd);
	if (rc == 0)
		printf("selfflash-demo: network: %s up as %s/24, default route via %s (QEMU user "
		       "networking; the host)\n", name, NET_ADDRESS, NET_GATEWAY);
}
