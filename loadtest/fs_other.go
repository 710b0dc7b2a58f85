//go:build !linux

package loadtest

// InMemoryFS reports whether dir is on a file system in memory; outside Linux it
// cannot tell and says no.
func InMemoryFS(dir string) bool { return false }
