#include "rootfs_tar.h"
#include "error.h"
int rootfs_detect(const char *path, enum rootfs_kind *kind) { (void)path; *kind = ROOTFS_RAW; return 0; }
const char *rootfs_kind_name(enum rootfs_kind kind) { (void)kind; return "raw"; }
int rootfs_tar_to_ext4(const char *a, uint64_t b, const char *c, const char *d, FILE *e) { (void)a;(void)b;(void)c;(void)d;(void)e; return err_set("stub"); }
