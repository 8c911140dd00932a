package apiclient

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// sseEvent is one server-sent event.
type sseEvent struct {
	name, id, data string
}

func (e sseEvent) decode(v any) error {
	if err := json.Unmarshal([]byte(e.data), v); err != nil {
		return fmt.Errorf("decode %s event: %w", e.name, err)
	}
	return nil
}

// stream reads the server-sent events of path, calling each per event,
// until the stream ends or each fails.
func (c *Client) stream(ctx context.Context, path string, each func(sseEvent) error) error {
	req, err := c.request(ctx, "GET", path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.data != "" {
				if err := each(ev); err != nil {
					return err
				}
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"): // a comment: keep-alive
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				ev.name = value
			case "id":
				ev.id = value
			case "data":
				if ev.data != "" {
					ev.data += "\n"
				}
				ev.data += value
			}
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("read event stream: %w", err)
	}
	return nil
}
