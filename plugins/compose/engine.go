package compose

import (
	"bufio"
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

func isNotFound(err error) bool { return client.IsErrNotFound(err) }

// lastLines returns up to n last lines a container wrote, joined by " | ",
// for error messages.
func (b *Backend) lastLines(ctx context.Context, r replica, n int) string {
	rc, err := b.docker.ContainerLogs(ctx, r.id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(n)})
	if err != nil {
		return ""
	}
	defer rc.Close()
	var out bytes.Buffer
	stdcopy.StdCopy(&out, &out, rc)
	var lines []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, " | ")
}
