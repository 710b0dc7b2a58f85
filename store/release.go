package store

import (
	bolt "go.etcd.io/bbolt"
)

// ReleaseMappedPages lets go of the pages of the database file (and of the keystore,
// when the store is encrypted) that reads have made resident in this process.
//
// bbolt reads through a read-only shared memory map of the file. Every page a read
// touches stays mapped into the process, and counts in its resident memory (VmRSS,
// as RssFile), until the kernel needs the memory back: a scan of the whole history,
// such as an export, makes the process grow by the size of the data it read. On
// Linux this method calls madvise(MADV_DONTNEED) over the part of the mapping the
// file uses. On a shared file mapping that only removes this process's page-table
// entries: the pages themselves stay in the kernel's page cache (nothing is lost,
// and no page of a read-only mapping is ever dirty), and the next access to one
// faults it back in from there, without reading the disk while it is cached. So
// concurrent readers are safe: a transaction reading a page that is released under
// it reads the same bytes again after a minor fault, and the addresses bbolt hands
// out stay valid. The madvise runs inside a read transaction, so that bbolt cannot
// replace the mapping (which it does only when a write grows the file, waiting for
// read transactions to end) while the call covers it. What it costs the rest of the
// process is a minor fault for each page it touches again, such as the branch pages
// every lookup reads.
//
// The page cache itself still holds the file (and a container's memory accounting
// may count it as page cache); the kernel drops those pages under memory pressure
// without swapping, as it does any clean page cache.
//
// On systems other than Linux it does nothing.
func (s *Store) ReleaseMappedPages() error {
	err := s.db.View(func(btx *bolt.Tx) error {
		return releaseMapped(btx)
	})
	if err == nil && s.keys != nil {
		err = s.keys.db.View(func(btx *bolt.Tx) error {
			return releaseMapped(btx)
		})
	}
	return storeError("release mapped pages", err)
}
