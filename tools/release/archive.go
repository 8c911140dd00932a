package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// packZip returns a zip holding one regular file, name, with content, mode
// 0755 and every time set to at (MS-DOS time, two-second steps, UTC), no
// extra fields, deflated: the same input gives the same bytes.
func packZip(name string, content []byte, at time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate}
	// Setting Modified would add an "extended timestamp" extra field, so
	// the MS-DOS fields are set directly.
	h.ModifiedDate, h.ModifiedTime = msDosTime(at) //nolint:staticcheck // see above
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", name, err)
	}
	if _, err := w.Write(content); err != nil {
		return nil, fmt.Errorf("zip %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// msDosTime encodes t, in UTC, as the MS-DOS date and time of a zip header.
// Times before 1980, which it cannot hold, become 1980-01-01.
func msDosTime(t time.Time) (date, tm uint16) {
	t = t.UTC()
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	tm = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, tm
}

// sha256Hex is the lowercase hex SHA-256 of b.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// shaSums returns sha256sum's output for files (name to lowercase hex
// SHA-256): one line "<hex>  <name>" per file, sorted by name.
func shaSums(sums map[string]string) []byte {
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", sums[n], n)
	}
	return []byte(b.String())
}

// writeFiles writes each file (name to content) into dir, mode 0644.
func writeFiles(dir string, files map[string][]byte) error {
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			return fmt.Errorf("write release file: %w", err)
		}
	}
	return nil
}
