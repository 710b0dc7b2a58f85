package loadtest

import "syscall"

// Magic numbers of the file systems that live in memory (statfs(2)).
const (
	tmpfsMagic = 0x01021994
	ramfsMagic = 0x858458f6
)

// InMemoryFS reports whether dir is on tmpfs or ramfs, where fsync costs nothing and
// a durable-throughput figure would flatter the hotline.
func InMemoryFS(dir string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Type == tmpfsMagic || st.Type == ramfsMagic
}
