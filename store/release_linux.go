package store

import (
	"os"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// releaseMapped drops this process's page-table entries for the pages of btx's
// database file, from the start of its memory map to the end of the file as btx
// sees it (ReleaseMappedPages). The caller holds btx open, so that the mapping
// stays where it is.
func releaseMapped(btx *bolt.Tx) error {
	size := btx.Size()
	if size <= 0 {
		return nil
	}
	// DB.Info gives the mapping's address as a number; the raw system call takes it
	// as one, and nothing here dereferences it.
	addr := btx.DB().Info().Data
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, addr, uintptr(size), unix.MADV_DONTNEED); errno != 0 {
		return os.NewSyscallError("madvise", errno)
	}
	return nil
}
