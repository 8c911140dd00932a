package pluginmgr

import (
	"os"
	"syscall"
	"time"
)

// statSys returns a file's device, inode and change time, where the
// platform has them.
func statSys(st os.FileInfo) (dev, ino uint64, ctime time.Time) {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(sys.Dev), sys.Ino, time.Unix(sys.Ctim.Sec, sys.Ctim.Nsec)
	}
	return 0, 0, time.Time{}
}
