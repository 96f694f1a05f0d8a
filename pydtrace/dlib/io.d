/*
 * The io provider's argument types (DTrace's io.d): bufinfo_t, devinfo_t and
 * fileinfo_t, translated from Linux's struct request (a block request) and
 * struct file, and the b_flags values.
 *
 * Linux meanings: b_blkno and b_lblkno are the request's first 512-byte
 * sector; b_edev, dev_major and dev_minor use the kernel's dev_t encoding
 * (major << 20 | minor); a block request does not know the file it serves,
 * so its fileinfo_t says "<none>" as DTrace does for such I/O.
 */

inline int B_BUSY = 0x000001;
inline int B_DONE = 0x000002;
inline int B_ERROR = 0x000004;
inline int B_PAGEIO = 0x000010;
inline int B_PHYS = 0x000020;
inline int B_READ = 0x000040;
inline int B_WRITE = 0x000100;
inline int B_ASYNC = 0x000400;

typedef struct bufinfo {
	int b_flags;			/* B_READ or B_WRITE, B_ASYNC when not sync */
	size_t b_bcount;		/* bytes */
	uintptr_t b_addr;		/* 0: a request has no single buffer */
	uint64_t b_lblkno;		/* first sector */
	uint64_t b_blkno;		/* first sector */
	size_t b_resid;			/* 0 */
	size_t b_bufsize;		/* bytes */
	uintptr_t b_iodone;		/* the request's end_io function */
	int b_error;			/* 0 */
	dev_t b_edev;			/* the device (bd_dev) */
} bufinfo_t;

typedef struct devinfo {
	int dev_major;			/* major number */
	int dev_minor;			/* minor number */
	int dev_instance;		/* the minor number */
	string dev_name;		/* disk name (vda) */
	string dev_statname;		/* disk name */
	string dev_pathname;		/* disk name */
} devinfo_t;

typedef struct fileinfo {
	string fi_name;			/* file name, no directory */
	string fi_dirname;		/* the name of the file's directory */
	string fi_pathname;		/* dirname/name */
	long long fi_offset;		/* file offset */
	string fi_fs;			/* file system type */
	string fi_mount;		/* the mount's root directory name */
	int fi_oflags;			/* open(2) flags */
} fileinfo_t;

translator bufinfo_t < struct request *R > {
	b_flags = ((R->cmd_flags & 0xff) == REQ_OP_WRITE ? B_WRITE : B_READ) |
	    ((R->cmd_flags & (1 << __REQ_SYNC)) ? 0 : B_ASYNC);
	b_bcount = R->__data_len;
	b_addr = 0;
	b_lblkno = R->__sector;
	b_blkno = R->__sector;
	b_resid = 0;
	b_bufsize = R->__data_len;
	b_iodone = (uintptr_t)R->end_io;
	b_error = 0;
	b_edev = R->part != NULL ? R->part->bd_dev : 0;
};

translator devinfo_t < struct request *R > {
	dev_major = R->part != NULL ? R->part->bd_dev >> 20 : 0;
	dev_minor = R->part != NULL ? R->part->bd_dev & 0xfffff : 0;
	dev_instance = R->part != NULL ? R->part->bd_dev & 0xfffff : 0;
	dev_name = stringof(R->q->disk->disk_name);
	dev_statname = stringof(R->q->disk->disk_name);
	dev_pathname = stringof(R->q->disk->disk_name);
};

translator fileinfo_t < struct request *R > {
	fi_name = "<none>";
	fi_dirname = "<none>";
	fi_pathname = "<none>";
	fi_offset = 0;
	fi_fs = "<none>";
	fi_mount = "<none>";
	fi_oflags = 0;
};

translator fileinfo_t < struct file *F > {
	fi_name = stringof(F->f_path.dentry->d_name.name);
	fi_dirname = stringof(F->f_path.dentry->d_parent->d_name.name);
	fi_pathname = strjoin(stringof(F->f_path.dentry->d_parent->d_name.name),
	    strjoin("/", stringof(F->f_path.dentry->d_name.name)));
	fi_offset = F->f_pos;
	fi_fs = stringof(F->f_path.mnt->mnt_sb->s_type->name);
	fi_mount = stringof(F->f_path.mnt->mnt_root->d_name.name);
	fi_oflags = F->f_flags;
};
