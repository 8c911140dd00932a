package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// imageProduct is the file name prefix of the saved controller image.
const imageProduct = "alphaswarm-controller"

// saveImage builds the controller's image with scripts/image.sh as
// alphaswarm/controller:<version without v>, saves it with docker save into
// the release, writes its image ID beside it, and sums and signs both.
func (r *release) saveImage(stdout io.Writer) error {
	ver := strings.TrimPrefix(r.version, "v")
	tag := "alphaswarm/controller:" + ver
	build := exec.Command("./scripts/image.sh")
	build.Dir = r.root
	build.Env = append(os.Environ(), "VERSION="+ver, "IMAGE="+tag)
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build image %s: %w\n%s", tag, err, out)
	}
	tarName := fmt.Sprintf("%s_%s_image.tar", imageProduct, ver)
	tarPath := filepath.Join(r.dir, tarName)
	if out, err := exec.Command("docker", "save", "-o", tarPath, tag).CombinedOutput(); err != nil {
		return fmt.Errorf("save image %s: %w\n%s", tag, err, out)
	}
	if err := os.Chmod(tarPath, 0o644); err != nil { // docker save makes it 0600
		return fmt.Errorf("publish saved image: %w", err)
	}
	id, err := exec.Command("docker", "image", "inspect", "-f", "{{.Id}}", tag).Output()
	if err != nil {
		return fmt.Errorf("inspect image %s: %w", tag, err)
	}
	idName := fmt.Sprintf("%s_%s_image.id", imageProduct, ver)
	idFile := []byte(fmt.Sprintf("%s %s\n", tag, strings.TrimSpace(string(id))))
	if err := writeFiles(r.dir, map[string][]byte{idName: idFile}); err != nil {
		return err
	}
	tarSum, err := fileSHA256(tarPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n%s", tarPath, idFile)
	return r.writeSums(imageProduct, map[string]string{tarName: tarSum, idName: sha256Hex(idFile)})
}

// fileSHA256 hashes the file at path without reading it whole into memory.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hash file: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash file %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
