package pluginmgr

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// fileID identifies the content of a file without reading it: a write
// changes its size, modification or change time, a replacement its inode.
type fileID struct {
	path         string
	dev, ino     uint64
	size         int64
	mtime, ctime time.Time
}

func statID(path string) (fileID, error) {
	st, err := os.Stat(path)
	if err != nil {
		return fileID{}, err
	}
	id := fileID{path: path, size: st.Size(), mtime: st.ModTime()}
	id.dev, id.ino, id.ctime = statSys(st)
	return id, nil
}

// hasher hashes plugin binaries, reading each one once for as long as it is
// unchanged on disk.
type hasher struct {
	mu    sync.Mutex
	cache map[fileID]string
}

// sum returns "sha256:<hex>" of the file at path.
func (h *hasher) sum(path string) (string, error) {
	id, err := statID(path)
	if err != nil {
		return "", fmt.Errorf("hash plugin binary: %w", err)
	}
	h.mu.Lock()
	cached, ok := h.cache[id]
	h.mu.Unlock()
	if ok {
		return cached, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hash plugin binary: %w", err)
	}
	defer f.Close()
	d := sha256.New()
	if _, err := io.Copy(d, f); err != nil {
		return "", fmt.Errorf("hash plugin binary: %w", err)
	}
	sum := "sha256:" + hex.EncodeToString(d.Sum(nil))
	h.mu.Lock()
	if h.cache == nil {
		h.cache = map[fileID]string{}
	}
	h.cache[id] = sum
	h.mu.Unlock()
	return sum, nil
}
