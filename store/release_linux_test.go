package store_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// mappedRSS returns the resident size of this process's mappings of the file at
// path, from /proc/self/smaps, and how many mappings of it there are.
func mappedRSS(tb testing.TB, path string) (rss int64, mappings int) {
	tb.Helper()
	path, err := filepath.EvalSymlinks(path)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			// A mapping's header: address perms offset dev inode [path].
			in = len(fields) >= 6 && strings.Join(fields[5:], " ") == path
			if in {
				mappings++
			}
			continue
		}
		if in && len(fields) == 3 && fields[0] == "Rss:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				tb.Fatalf("smaps: %q", line)
			}
			rss += kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return rss, mappings
}

// ReleaseMappedPages drops the resident pages of the database file's mapping, which
// a read of every message made resident, and reads afterwards fault them back in and
// return the same records.
func TestReleaseMappedPages_DropsTheMappingsResidentPages(t *testing.T) {
	for _, encrypted := range []bool{false, true} {
		name := "plaintext"
		if encrypted {
			name = "encrypted"
		}
		t.Run(name, func(t *testing.T) {
			s, convs, written := releaseStore(t, encrypted, 40, 150) // 6,000 messages, about 8 MiB
			fi, err := os.Stat(s.Path())
			if err != nil {
				t.Fatal(err)
			}
			if err := s.ReleaseMappedPages(); err != nil {
				t.Fatal(err)
			}
			readAll(t, s, convs, written)
			var bodies int64
			for _, msgs := range written {
				for _, m := range msgs {
					bodies += int64(len(m.Body))
				}
			}
			before, n := mappedRSS(t, s.Path())
			if n != 1 {
				t.Fatalf("%d mappings of %s in /proc/self/smaps, want 1", n, s.Path())
			}
			if before < bodies {
				t.Fatalf("after reading every message (%d KiB of bodies), %d KiB of the mapping are resident: the test reads too little", bodies>>10, before>>10)
			}
			if err := s.ReleaseMappedPages(); err != nil {
				t.Fatal(err)
			}
			after, _ := mappedRSS(t, s.Path())
			t.Logf("file %d KiB; mapping resident %d KiB after reading everything, %d KiB after ReleaseMappedPages", fi.Size()>>10, before>>10, after>>10)
			if after > 64<<10 {
				t.Errorf("after ReleaseMappedPages %d KiB of the mapping are still resident (%d KiB before)", after>>10, before>>10)
			}
			if encrypted {
				if keys, _ := mappedRSS(t, s.KeysPath()); keys > 64<<10 {
					t.Errorf("after ReleaseMappedPages %d KiB of the keystore's mapping are still resident", keys>>10)
				}
			}
			readAll(t, s, convs, written)
			again, _ := mappedRSS(t, s.Path())
			if again < bodies {
				t.Errorf("reading everything again made %d KiB resident, want the file's pages back", again>>10)
			}
		})
	}
}
