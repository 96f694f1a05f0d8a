0 ioctl:entry
0 ioctl:return
2 ioctl:entry
2 ioctl:return

