package pluginmirror

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
)

// Extract writes the plugin binary in the archive to w and returns its
// hash as the lock file writes it, "sha256:<hex>". The archive must hold
// exactly one entry, a regular file named as the binary, at most the
// binary size cap once unpacked; anything else is refused with ErrArchive.
func (a *Archive) Extract(w io.Writer) (string, error) {
	sum, err := a.extract(w)
	if err != nil {
		return "", &Error{Plugin: a.Name, Version: a.Version, Platform: a.Platform, Err: err}
	}
	return sum, nil
}

func (a *Archive) extract(w io.Writer) (string, error) {
	f, err := a.entry()
	if err != nil {
		return "", err
	}
	rc, err := f.Open()
	if err != nil {
		return "", fmt.Errorf("%w: open %s in the archive: %v", ErrArchive, f.Name, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(rc, a.max+1))
	if n > a.max {
		return "", fmt.Errorf("%w: %s unpacks to more than %d bytes", ErrArchive, f.Name, a.max)
	}
	if err != nil {
		return "", fmt.Errorf("%w: unpack %s: %v", ErrArchive, f.Name, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// entry returns the archive's only file, after checking its name, type
// and declared size.
func (a *Archive) entry() (*zip.File, error) {
	want := BinaryName(a.Name, a.Platform)
	zr, err := zip.NewReader(a.file, a.size)
	if err != nil {
		return nil, fmt.Errorf("%w: read zip: %v", ErrArchive, err)
	}
	if len(zr.File) != 1 {
		return nil, fmt.Errorf("%w: it holds %d entries, want only %s", ErrArchive, len(zr.File), want)
	}
	f := zr.File[0]
	switch {
	case f.Name != want:
		return nil, fmt.Errorf("%w: it holds %q, want %s at its root", ErrArchive, f.Name, want)
	case !f.Mode().IsRegular():
		return nil, fmt.Errorf("%w: %s is not a regular file (mode %v)", ErrArchive, f.Name, f.Mode())
	case f.UncompressedSize64 > uint64(a.max):
		return nil, fmt.Errorf("%w: %s unpacks to %d bytes, more than %d", ErrArchive, f.Name, f.UncompressedSize64, a.max)
	case f.Method != zip.Deflate && f.Method != zip.Store:
		return nil, fmt.Errorf("%w: %s uses compression method %d, not deflate", ErrArchive, f.Name, f.Method)
	}
	return f, nil
}
